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

    /// Go's `Duration.String()` of a round-trip time as nats-server prints it (`getRTT`): truncated to
    /// whole microseconds between 1 µs and 1 ms, e.g. `0s`, `850ns`, `135µs`, `1.25ms`, `2.5s`, `1m2s`.
    package static func roundTrip(nanoseconds: UInt64) -> String {
        var value = nanoseconds
        if value > 1_000 && value < 1_000_000 { value -= value % 1_000 }
        if value == 0 { return "0s" }
        if value < 1_000 { return "\(value)ns" }
        if value < 1_000_000 { return decimal(value, unit: 1_000, digits: 3) + "µs" }
        if value < 1_000_000_000 { return decimal(value, unit: 1_000_000, digits: 6) + "ms" }
        let seconds = value / 1_000_000_000, fraction = value % 1_000_000_000
        var text = ""
        if seconds >= 3600 { text += "\(seconds / 3600)h" }
        if seconds >= 60 { text += "\((seconds % 3600) / 60)m" }
        return text + decimal((seconds % 60) * 1_000_000_000 + fraction, unit: 1_000_000_000, digits: 9) + "s"
    }

    /// `value / unit` with up to `digits` decimals, trailing zeros dropped (Go's `fmtFrac`).
    private static func decimal(_ value: UInt64, unit: UInt64, digits: Int) -> String {
        let whole = value / unit, fraction = value % unit
        guard fraction > 0 else { return "\(whole)" }
        var decimals = String(fraction)
        decimals = String(repeating: "0", count: digits - decimals.count) + decimals
        while decimals.last == "0" { decimals.removeLast() }
        return "\(whole).\(decimals)"
    }
}
