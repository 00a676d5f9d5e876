import Foundation
import NATSProtocol

/// A JSON value whose objects keep their key order, so monitoring output reads like nats-server's.
package enum JSON {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case array([JSON])
    case object([(String, JSON)])
    case null

    /// Pretty-printed with two-space indentation, as nats-server serves it.
    package func rendered() -> String {
        var output = ""
        render(into: &output, indent: 0)
        return output
    }

    private func render(into output: inout String, indent: Int) {
        switch self {
        case .string(let text): JSON.quote(text, into: &output)
        case .int(let value): output += String(value)
        case .double(let value): output += value.isFinite ? String(value) : "0"
        case .bool(let value): output += value ? "true" : "false"
        case .null: output += "null"
        case .array(let items):
            if items.isEmpty { output += "[]"; return }
            output += "[\n"
            for (index, item) in items.enumerated() {
                output += String(repeating: "  ", count: indent + 1)
                item.render(into: &output, indent: indent + 1)
                output += index == items.count - 1 ? "\n" : ",\n"
            }
            output += String(repeating: "  ", count: indent) + "]"
        case .object(let fields):
            if fields.isEmpty { output += "{}"; return }
            output += "{\n"
            for (index, field) in fields.enumerated() {
                output += String(repeating: "  ", count: indent + 1)
                JSON.quote(field.0, into: &output)
                output += ": "
                field.1.render(into: &output, indent: indent + 1)
                output += index == fields.count - 1 ? "\n" : ",\n"
            }
            output += String(repeating: "  ", count: indent) + "}"
        }
    }

    package static func quote(_ text: String, into output: inout String) {
        JSONString.append(text, to: &output)
    }
}

/// RFC 3339 timestamps with nanosecond-style fraction, as Go's time.Time marshals.
package enum MonitorTime {
    package static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Go's Duration.String() rounded the way nats-server prints uptimes: `1h2m3s`, `45s`, `0s`.
    package static func uptime(_ seconds: Double) -> String {
        var remaining = Int(seconds)
        let days = remaining / 86400
        remaining %= 86400
        let hours = remaining / 3600
        remaining %= 3600
        let minutes = remaining / 60
        let secs = remaining % 60
        var text = ""
        if days > 0 { text += "\(days)d" }
        if hours > 0 || !text.isEmpty { text += "\(hours)h" }
        if minutes > 0 || !text.isEmpty { text += "\(minutes)m" }
        text += "\(secs)s"
        return text
    }
}
