import NATSProtocol
/// Go `encoding/json` semantics for reading and writing flat structs such as CONNECT and INFO.

/// Reads the members of a top-level object and assigns them to typed fields, failing on a type
/// mismatch the way `json.Unmarshal` does.
struct JSONObjectDecoder {
    /// Members with ASCII-lowercased keys: Go matches struct keys case-insensitively.
    let members: [(key: String, value: JSONValue)]

    /// nil for malformed JSON or a top-level value that is not an object; `null` decodes to no members.
    init?(_ json: ByteSlice) {
        switch JSONValue.parse(json) {
        case .object(let members)?:
            self.members = members.map { (key: $0.key.lowercased(), value: $0.value) }
        case .null?:
            self.members = []
        default:
            return nil
        }
    }

    /// Calls `body` for each member; stops and returns false as soon as `body` reports a type error.
    func forEach(_ body: (String, JSONValue) -> Bool) -> Bool {
        for member in members where !body(member.key, member.value) { return false }
        return true
    }
}

/// Typed assignment of one JSON value; `null` leaves the target unchanged, as in Go.
enum JSONAssign {
    static func bool(_ value: JSONValue, _ target: inout Bool) -> Bool {
        switch value {
        case .null: return true
        case .bool(let flag): target = flag; return true
        default: return false
        }
    }

    static func string(_ value: JSONValue, _ target: inout String) -> Bool {
        switch value {
        case .null: return true
        case .string(let text): target = text; return true
        default: return false
        }
    }

    /// Integers must be written without fraction or exponent and fit `range`.
    static func integer<T: FixedWidthInteger>(_ value: JSONValue, _ target: inout T) -> Bool {
        switch value {
        case .null: return true
        case .number(let text):
            guard let parsed = T(text, radix: 10) else { return false }
            target = parsed
            return true
        default: return false
        }
    }

    static func strings(_ value: JSONValue, _ target: inout [String]) -> Bool {
        switch value {
        case .null: target = []; return true
        case .array(let elements):
            var result: [String] = []
            for element in elements {
                var text = ""
                guard string(element, &text) else { return false }
                result.append(text)
            }
            target = result
            return true
        default: return false
        }
    }
}

/// Writes a JSON object the way Go's `json.Marshal` does: fields in declaration order, compact,
/// `<`, `>`, `&`, U+2028 and U+2029 escaped.
struct JSONObjectWriter {
    private(set) var text = "{"
    private var first = true

    mutating func key(_ name: String) {
        if !first { text += "," }
        first = false
        text += "\""
        text += name
        text += "\":"
    }

    mutating func string(_ name: String, _ value: String, omitEmpty: Bool = false) {
        if omitEmpty && value.isEmpty { return }
        key(name)
        JSONObjectWriter.appendQuoted(value, to: &text)
    }

    mutating func bool(_ name: String, _ value: Bool, omitEmpty: Bool = false) {
        if omitEmpty && !value { return }
        key(name)
        text += value ? "true" : "false"
    }

    mutating func integer<T: FixedWidthInteger>(_ name: String, _ value: T, omitEmpty: Bool = false) {
        if omitEmpty && value == 0 { return }
        key(name)
        text += String(value)
    }

    mutating func strings(_ name: String, _ values: [String], omitEmpty: Bool = false) {
        if omitEmpty && values.isEmpty { return }
        key(name)
        JSONObjectWriter.appendArray(values, to: &text)
    }

    /// Inserts already-encoded JSON.
    mutating func raw(_ name: String, _ json: String) {
        key(name)
        text += json
    }

    func finished() -> String { text + "}" }

    static func appendArray(_ values: [String], to text: inout String) {
        text += "["
        for (index, value) in values.enumerated() {
            if index > 0 { text += "," }
            appendQuoted(value, to: &text)
        }
        text += "]"
    }

    static func appendQuoted(_ value: String, to text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\u{08}": text += "\\b"
            case "\u{0C}": text += "\\f"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                text += unicodeEscape(scalar.value)
            default:
                if scalar.value < 0x20 {
                    text += unicodeEscape(scalar.value)
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }

    static func unicodeEscape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}

/// JSON string quoting as Go's encoding/json does it (HTML-safe escapes included), shared by INFO and
/// the monitoring endpoints so both escape alike.
public enum JSONString {
    public static func append(_ value: String, to text: inout String) {
        JSONObjectWriter.appendQuoted(value, to: &text)
    }
}
