/// Reading JSON documents into `JSON`, for monitoring documents natsd fetches from its peers
/// (`/topologyz`). CONNECT and INFO keep their own typed decoders (JSONFields.swift).
extension JSON {
    /// Parses one JSON document (optional surrounding whitespace); nil when the bytes are not valid
    /// JSON or nest deeper than 64 levels. A number without fraction or exponent that fits `Int` is
    /// `.int`, any other number `.double`; object members keep their document order.
    package static func parse(_ bytes: [UInt8]) -> JSON? {
        bytes.withUnsafeBufferPointer { JSONValue.parse($0) }.map(JSON.init(value:))
    }

    private init(value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .number(let text): self = Int(text).map(JSON.int) ?? .double(Double(text) ?? 0)
        case .string(let text): self = .string(text)
        case .array(let items): self = .array(items.map(JSON.init(value:)))
        case .object(let members): self = .object(members.map { ($0.key, JSON(value: $0.value)) })
        }
    }

    /// The value of `key` when this is an object that has it (the first such member).
    package subscript(key: String) -> JSON? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    /// The text of a string value, else nil.
    package var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value of an integer, else nil.
    package var intValue: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The elements of an array, else nil.
    package var arrayValue: [JSON]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
