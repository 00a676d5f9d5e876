import Foundation

/// Parses the NATS configuration format (nats-server's `conf` package) into a `ConfigMap`.
///
/// A recursive-descent reader over the file's bytes: maps, arrays, quoted and bare strings, `( … )` raw
/// blocks, numbers with size suffixes, booleans, datetimes, `$VARIABLE` references (enclosing maps, then the
/// environment) and `include` of other files relative to the including file.
public struct ConfigFileParser {
    private let bytes: [UInt8]
    private let file: String
    private let environment: [String: String]
    private var index = 0
    private var line = 1
    private var lineStart = 0
    /// Maps being built, innermost last: the scopes `$NAME` looks through.
    private var scopes: [ConfigMap] = []
    /// Environment variables being expanded, to report reference cycles.
    private var expandingEnvironment: Set<String>
    /// Maps, arrays and included files open around the cursor, those of the including files counted too.
    private var depth: Int
    /// More nesting than this is an error. Each level is a recursive call, so a file that includes itself,
    /// or a few thousand `[`, would otherwise overflow the stack (found by fuzzing). Real files nest a
    /// handful of levels.
    static let maxDepth = 64

    /// Parses the file at `path`.
    public static func parse(
        file path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> ConfigMap {
        try parse(file: path, environment: environment, depth: 0)
    }

    /// Parses the file at `path`, included at nesting `depth`.
    private static func parse(file path: String, environment: [String: String], depth: Int) throws(ConfigError) -> ConfigMap {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("error opening config file: cannot read \(path)", at: nil)
        }
        var parser = ConfigFileParser(bytes: [UInt8](data), file: path, environment: environment, expanding: [], depth: depth)
        return try parser.parseDocument()
    }

    /// Parses configuration text; `file` names it in errors and anchors relative includes.
    public static func parse(
        _ text: String,
        file: String = "",
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> ConfigMap {
        var parser = ConfigFileParser(bytes: Array(text.utf8), file: file, environment: environment, expanding: [], depth: 0)
        return try parser.parseDocument()
    }

    private init(bytes: [UInt8], file: String, environment: [String: String], expanding: Set<String>, depth: Int) {
        self.bytes = bytes
        self.file = file
        self.environment = environment
        self.expandingEnvironment = expanding
        self.depth = depth
    }

    // MARK: - Structure

    private mutating func parseDocument() throws(ConfigError) -> ConfigMap {
        skipBlank(newlines: true)
        // The whole document may be wrapped in braces.
        if peek == UInt8(ascii: "{") {
            advance()
            let map = try parseMapBody(closedByBrace: true)
            skipBlank(newlines: true)
            guard atEnd else { throw error("unexpected content after the closing '}'") }
            return map
        }
        return try parseMapBody(closedByBrace: false)
    }

    /// Reads `key value` pairs until `}` (consumed) or the end of input.
    private mutating func parseMapBody(closedByBrace: Bool) throws(ConfigError) -> ConfigMap {
        try enterNesting()
        defer { depth -= 1 }
        scopes.append(ConfigMap())
        while true {
            skipBlank(newlines: true)
            while let byte = peek, byte == UInt8(ascii: ";") || byte == UInt8(ascii: ",") {
                advance()
                skipBlank(newlines: true)
            }
            guard let byte = peek else {
                if closedByBrace { throw error("unexpected end of file inside a map, expected '}'") }
                break
            }
            if byte == UInt8(ascii: "}") {
                guard closedByBrace else { throw error("unexpected '}' outside of a map") }
                advance()
                break
            }
            if byte == UInt8(ascii: "]") { throw error("unexpected ']' where a key was expected") }
            try parseKeyAndValue()
            try expectValueEnd()
        }
        return scopes.removeLast()
    }

    private mutating func parseKeyAndValue() throws(ConfigError) {
        let keyPosition = position
        let key: String
        var quoted = false
        switch peek {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            key = try readQuotedKey()
            quoted = true
        case UInt8(ascii: ":"), UInt8(ascii: "="):
            throw error("unexpected key separator '\(Character(UnicodeScalar(peek!)))'")
        default:
            key = readBareKey()
        }
        if !quoted, key.lowercased() == "include", let next = peek, next == UInt8(ascii: " ") || next == UInt8(ascii: "\t") {
            try parseInclude()
            return
        }
        skipBlank(newlines: true)
        if let byte = peek, byte == UInt8(ascii: ":") || byte == UInt8(ascii: "=") {
            advance()
            skipBlank(newlines: false)
        }
        guard !atEnd else {
            throw ConfigError("expected a value for key \"\(key)\"", at: keyPosition, isParseError: true)
        }
        let value = try parseValue()
        scopes[scopes.count - 1].set(ConfigEntry(key: key, value: value, position: keyPosition))
    }

    /// After a value: blanks and a comment, then a newline, `;`, `,`, a closing `}` or the end.
    private mutating func expectValueEnd() throws(ConfigError) {
        skipBlank(newlines: false)
        guard let byte = peek else { return }
        switch byte {
        case UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: ";"), UInt8(ascii: ","):
            advance()
        case UInt8(ascii: "}"):
            return
        default:
            throw error("expected a new line, ';' or ',' after a value, got '\(Character(UnicodeScalar(byte)))'")
        }
    }

    private mutating func parseInclude() throws(ConfigError) {
        skipBlank(newlines: false)
        let start = position
        let name: String
        switch peek {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            name = try readQuotedKey()
        case nil, UInt8(ascii: "\n"), UInt8(ascii: "\r"):
            throw error("expected a file name after include")
        default:
            name = readBare()
        }
        let directory = (file as NSString).deletingLastPathComponent
        let path = name.hasPrefix("/") || directory.isEmpty ? name : directory + "/" + name
        let included: ConfigMap
        do throws(ConfigError) {
            included = try ConfigFileParser.parse(file: path, environment: environment, depth: depth)
        } catch {
            throw ConfigError("error parsing include file '\(name)', \(error)", at: start)
        }
        for entry in included.entries {
            scopes[scopes.count - 1].set(entry)
        }
    }

    // MARK: - Values

    private mutating func parseValue() throws(ConfigError) -> ConfigValue {
        guard let byte = peek else { throw error("expected a value but found the end of the file") }
        switch byte {
        case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
            throw error("expected a value but found a new line")
        case UInt8(ascii: "{"):
            advance()
            return .map(try parseMapBody(closedByBrace: true))
        case UInt8(ascii: "["):
            advance()
            return try parseArray()
        case UInt8(ascii: "\""):
            advance()
            return .string(try readDoubleQuoted())
        case UInt8(ascii: "'"):
            advance()
            return .string(try readUntilQuote(UInt8(ascii: "'")))
        case UInt8(ascii: "("):
            advance()
            return .string(try readBlock())
        case UInt8(ascii: "."):
            throw error("floats must start with a digit")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = position
            return try classifyNumeric(readBare(), at: start)
        default:
            let start = position
            return try classifyBare(readBare(), at: start)
        }
    }

    private mutating func parseArray() throws(ConfigError) -> ConfigValue {
        try enterNesting()
        defer { depth -= 1 }
        var values: [ConfigValue] = []
        while true {
            skipBlank(newlines: true)
            guard let byte = peek else { throw error("unexpected end of file inside an array, expected ']'") }
            if byte == UInt8(ascii: "]") {
                advance()
                return .array(values)
            }
            if byte == UInt8(ascii: ",") { throw error("unexpected ',' in an array") }
            values.append(try parseValue())
            skipBlank(newlines: false)
            guard let after = peek else { throw error("unexpected end of file inside an array, expected ']'") }
            switch after {
            case UInt8(ascii: ","), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                advance()
            case UInt8(ascii: "]"):
                continue
            default:
                throw error("expected ',' or ']' after an array value, got '\(Character(UnicodeScalar(after)))'")
            }
        }
    }

    /// A bare token starting with a digit or `-`: integer (with size suffix), float, datetime, or a string
    /// such as `10s` or `127.0.0.1:4222`.
    private func classifyNumeric(_ token: String, at start: ConfigPosition) throws(ConfigError) -> ConfigValue {
        let utf8 = Array(token.utf8)
        let negative = utf8.first == UInt8(ascii: "-")
        let digitsStart = negative ? 1 : 0
        var digitsEnd = digitsStart
        while digitsEnd < utf8.count, isDigit(utf8[digitsEnd]) { digitsEnd += 1 }
        guard digitsEnd > digitsStart else {
            throw ConfigError("expected a digit after '-' in '\(token)'", at: start, isParseError: true)
        }
        let digits = String(decoding: utf8[0..<digitsEnd], as: UTF8.self)
        let rest = String(decoding: utf8[digitsEnd...], as: UTF8.self)
        if rest.isEmpty { return .int(try integer(digits, token: token, at: start)) }
        if !negative, digitsEnd == 4, rest.first == "-" {
            let formatter = ISO8601DateFormatter()
            guard token.count == 20, let date = formatter.date(from: token) else {
                throw ConfigError(
                    "datetimes must be in full Zulu form (2006-01-02T15:04:05Z), got '\(token)'", at: start,
                    isParseError: true)
            }
            return .date(date)
        }
        if rest.first == "." {
            let fraction = rest.dropFirst()
            if !fraction.isEmpty, fraction.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Double(token) {
                return .double(value)
            }
            if fraction.isEmpty || !(fraction.first!.isASCII && fraction.first!.isNumber) {
                throw ConfigError(
                    "floats must have a digit after the '.', got '\(token)'", at: start, isParseError: true)
            }
            return .string(token)  // An address such as 127.0.0.1 or 127.0.0.1:4222.
        }
        if let multiplier = Self.sizeMultiplier(rest) {
            let (product, overflow) = try integer(digits, token: token, at: start).multipliedReportingOverflow(by: multiplier)
            guard !overflow else { throw ConfigError("integer '\(token)' is out of range", at: start) }
            return .int(product)
        }
        return .string(token)
    }

    private func integer(_ digits: String, token: String, at start: ConfigPosition) throws(ConfigError) -> Int64 {
        guard let value = Int64(digits) else { throw ConfigError("integer '\(token)' is out of range", at: start) }
        return value
    }

    /// nats-server's size suffixes: `k`, `m`, `g`… are powers of 1000; `kb`, `ki`, `kib`… powers of 1024.
    static func sizeMultiplier(_ suffix: String) -> Int64? {
        let lower = suffix.lowercased()
        guard let unit = lower.first, let power = "kmgtpe".firstIndex(of: unit) else { return nil }
        let exponent = "kmgtpe".distance(from: "kmgtpe".startIndex, to: power) + 1
        let tail = lower.dropFirst()
        let base: Int64
        switch tail {
        case "": base = 1000
        case "b", "i", "ib": base = 1024
        default: return nil
        }
        var result: Int64 = 1
        for _ in 0..<exponent { result *= base }
        return result
    }

    /// A bare token: boolean, `$variable`, or string.
    private mutating func classifyBare(_ token: String, at start: ConfigPosition) throws(ConfigError) -> ConfigValue {
        switch token.lowercased() {
        case "true", "yes", "on": return .bool(true)
        case "false", "no", "off": return .bool(false)
        default: break
        }
        guard token.hasPrefix("$") else { return .string(token) }
        let name = String(token.dropFirst())
        // Unquoted bcrypt hashes look like variables but are passwords.
        if name.hasPrefix("2a$") || name.hasPrefix("2b$") || name.hasPrefix("2y$") { return .string(token) }
        return try resolveVariable(name, at: start)
    }

    private mutating func resolveVariable(_ name: String, at start: ConfigPosition) throws(ConfigError) -> ConfigValue {
        for scope in scopes.indices.reversed() {
            if let entry = scopes[scope].index(of: name) {
                scopes[scope].markUsedAsVariable(at: entry)
                return scopes[scope].entries[entry].value
            }
        }
        guard let text = environment[name] else {
            throw ConfigError("variable reference for '\(name)' can not be found", at: start)
        }
        guard !expandingEnvironment.contains(name) else {
            throw ConfigError("variable reference cycle for '\(name)'", at: start)
        }
        // Environment values are parsed like config values, so `X=4kb` in the environment is an integer.
        var nested = ConfigFileParser(
            bytes: Array("value: \(text)".utf8), file: file, environment: environment,
            expanding: expandingEnvironment.union([name]), depth: depth
        )
        do throws(ConfigError) {
            let map = try nested.parseDocument()
            guard let value = map["value"] else { throw ConfigError("empty value", at: nil) }
            return value
        } catch {
            throw ConfigError("variable reference for '\(name)' could not be parsed: \(error.message)", at: start)
        }
    }

    // MARK: - Strings

    private mutating func readQuotedKey() throws(ConfigError) -> String {
        let quote = peek!
        advance()
        return quote == UInt8(ascii: "\"") ? try readDoubleQuoted() : try readUntilQuote(quote)
    }

    private mutating func readBareKey() -> String {
        let start = index
        while let byte = peek, !isSpace(byte), byte != UInt8(ascii: ":"), byte != UInt8(ascii: "="),
            byte != UInt8(ascii: "{")
        {
            advance()
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// A bare value ends at blanks, a new line, `,`, `;`, `]`, `}` or the end.
    private mutating func readBare() -> String {
        let start = index
        while let byte = peek, !isSpace(byte), byte != UInt8(ascii: ","), byte != UInt8(ascii: ";"),
            byte != UInt8(ascii: "]"), byte != UInt8(ascii: "}")
        {
            advance()
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func readUntilQuote(_ quote: UInt8) throws(ConfigError) -> String {
        let start = index
        while let byte = peek, byte != quote { advance() }
        guard !atEnd else { throw error("unexpected end of file inside a quoted string") }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        advance()
        return text
    }

    /// A `"…"` string with `\t \n \r \" \\ \xHH` escapes.
    private mutating func readDoubleQuoted() throws(ConfigError) -> String {
        var out: [UInt8] = []
        while true {
            guard let byte = peek else { throw error("unexpected end of file inside a quoted string") }
            advance()
            if byte == UInt8(ascii: "\"") { break }
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                continue
            }
            guard let escaped = peek else { throw error("unexpected end of file inside a quoted string") }
            let escapePosition = position
            advance()
            switch escaped {
            case UInt8(ascii: "t"): out.append(UInt8(ascii: "\t"))
            case UInt8(ascii: "n"): out.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "r"): out.append(UInt8(ascii: "\r"))
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "x"):
                guard index + 1 < bytes.count, let high = hexValue(bytes[index]), let low = hexValue(bytes[index + 1]) else {
                    throw ConfigError(
                        "expected two hexadecimal digits after '\\x'", at: escapePosition, isParseError: true)
                }
                out.append(high << 4 | low)
                advance()
                advance()
            default:
                throw ConfigError(
                    "invalid escape character '\(Character(UnicodeScalar(escaped)))'; allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\",
                    at: escapePosition, isParseError: true)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The text after `(` up to a line holding only `)`; the new line before `)` is not part of it.
    private mutating func readBlock() throws(ConfigError) -> String {
        let start = index
        while true {
            guard let byte = peek else { throw error("unexpected end of file inside a ( … ) block") }
            if byte == UInt8(ascii: "\n"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: ")"),
                index + 2 == bytes.count || bytes[index + 2] == UInt8(ascii: "\n")
            {
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                advance()
                advance()
                return text
            }
            advance()
        }
    }

    // MARK: - Cursor

    private var atEnd: Bool { index >= bytes.count }
    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }
    private var position: ConfigPosition { ConfigPosition(file: file, line: line, column: index - lineStart + 1) }

    private mutating func advance() {
        if bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        index += 1
    }

    /// Skips spaces, tabs, comments (`#`, `//`) and, when asked, new lines.
    private mutating func skipBlank(newlines: Bool) {
        while let byte = peek {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                advance()
            } else if newlines, byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                advance()
            } else if byte == UInt8(ascii: "#")
                || (byte == UInt8(ascii: "/") && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "/"))
            {
                while let next = peek, next != UInt8(ascii: "\n") { advance() }
            } else {
                return
            }
        }
    }

    /// Counts one more level of maps or arrays (an included file's top-level map is one), refusing more
    /// than `maxDepth`.
    private mutating func enterNesting() throws(ConfigError) {
        guard depth < ConfigFileParser.maxDepth else {
            throw error("nesting too deep: more than \(ConfigFileParser.maxDepth) levels of maps, arrays and includes")
        }
        depth += 1
    }

    /// A syntax error at the cursor.
    private func error(_ message: String) -> ConfigError { ConfigError(message, at: position, isParseError: true) }
}

private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

private func isSpace(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
}

/// The value of an ASCII hex digit, nil for another byte (also for RFC 4514 escapes in NATSAuth).
package func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
