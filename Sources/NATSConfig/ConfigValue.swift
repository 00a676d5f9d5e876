import Foundation

/// Where something sits in a config file: used to point error messages at the offending key.
public struct ConfigPosition: Sendable, Equatable, CustomStringConvertible {
    /// The file path, or empty for configuration parsed from a string.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column (in bytes).
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file.isEmpty ? "<string>" : file):\(line):\(column)" }
}

/// A config syntax or semantic error.
///
/// Semantic errors render as `file:line:col: message`, as nats-server renders them. Syntax errors render as
/// `Parse error on line N: 'message' (file:line:col)`: nats-server's lexer errors start with
/// `Parse error on line N:` and tools grep for that, so natsd keeps the start and adds the column.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var position: ConfigPosition?
    public var message: String
    /// True for errors of the file's syntax (what nats-server's lexer reports), false for errors of meaning.
    public var isParseError: Bool

    public init(_ message: String, at position: ConfigPosition?, isParseError: Bool = false) {
        self.message = message
        self.position = position
        self.isParseError = isParseError
    }

    public var description: String {
        guard let position else { return message }
        if isParseError { return "Parse error on line \(position.line): '\(message)' (\(position))" }
        return "\(position): \(message)"
    }
}

/// One value of the NATS config format. Durations stay strings (Go parses them where they are used).
public indirect enum ConfigValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    /// An ISO 8601 Zulu datetime (`2006-01-02T15:04:05Z`).
    case date(Date)
    case array([ConfigValue])
    case map(ConfigMap)

    /// A short name of the type, for error messages.
    public var typeName: String {
        switch self {
        case .string: "string"
        case .int: "integer"
        case .double: "float"
        case .bool: "boolean"
        case .date: "datetime"
        case .array: "array"
        case .map: "map"
        }
    }

    public var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    public var intValue: Int64? { if case .int(let value) = self { value } else { nil } }
    public var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }
    public var arrayValue: [ConfigValue]? { if case .array(let value) = self { value } else { nil } }
    public var mapValue: ConfigMap? { if case .map(let value) = self { value } else { nil } }
}

/// One `key: value` of a map, with the key's position and whether it was referenced as a `$variable`
/// (nats-server does not report variables as unknown fields).
public struct ConfigEntry: Sendable, Equatable {
    public var key: String
    public var value: ConfigValue
    public var position: ConfigPosition
    public var usedAsVariable: Bool

    public init(key: String, value: ConfigValue, position: ConfigPosition, usedAsVariable: Bool = false) {
        self.key = key
        self.value = value
        self.position = position
        self.usedAsVariable = usedAsVariable
    }
}

/// A map that keeps its keys in file order. A repeated key replaces the earlier value (last one wins,
/// as in nats-server).
public struct ConfigMap: Sendable, Equatable {
    /// In file order. Replace or add entries with `set` (it keeps the key index in step).
    public private(set) var entries: [ConfigEntry] = []
    /// Where each key is in `entries`: a config with thousands of accounts or users is read in linear time.
    private var positions: [String: Int] = [:]

    public init(entries: [ConfigEntry] = []) {
        for entry in entries { set(entry) }
    }

    public static func == (lhs: ConfigMap, rhs: ConfigMap) -> Bool { lhs.entries == rhs.entries }

    /// The value for `key`, compared exactly (variables are case-sensitive).
    public subscript(key: String) -> ConfigValue? {
        positions[key].map { entries[$0].value }
    }

    /// The index of `key` in `entries`.
    public func index(of key: String) -> Int? { positions[key] }

    /// Inserts or replaces `entry`; a replaced key keeps its original place.
    public mutating func set(_ entry: ConfigEntry) {
        if let index = positions[entry.key] {
            entries[index] = entry
        } else {
            positions[entry.key] = entries.count
            entries.append(entry)
        }
    }

    /// Marks the entry at `index` as used as a variable (its value referenced elsewhere).
    mutating func markUsedAsVariable(at index: Int) {
        entries[index].usedAsVariable = true
    }

    public var keys: [String] { entries.map(\.key) }
}
