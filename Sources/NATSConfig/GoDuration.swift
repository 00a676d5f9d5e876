/// Go's `time.ParseDuration` for config values such as `"2m"`, `"500ms"`, `"1h30m"`, `"1.5s"`, `"-3s"`.
public enum GoDuration {
    /// Returns the duration in seconds, or nil when `text` is not a Go duration.
    public static func seconds(_ text: String) -> Double? {
        var rest = Substring(text)
        var sign = 1.0
        if let first = rest.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let scale = unitSeconds(unit) else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * scale
        }
        return sign * total
    }

    private static func unitSeconds(_ unit: Substring) -> Double? {
        switch unit {
        case "ns": 1e-9
        case "us", "µs", "μs": 1e-6
        case "ms": 1e-3
        case "s": 1
        case "m": 60
        case "h": 3600
        default: nil
        }
    }
}

extension GoDuration {
    /// Go's `time.Duration.String` of `seconds` (rounded to whole nanoseconds): `"2m0s"`, `"1m30.5s"`,
    /// `"500ms"`, `"0s"`; nats-server prints durations this way in its messages.
    public static func string(seconds: Double) -> String {
        let nanoseconds = Int64((seconds * 1e9).rounded())
        if nanoseconds == 0 { return "0s" }
        let sign = nanoseconds < 0 ? "-" : ""
        let magnitude = nanoseconds.magnitude
        guard magnitude >= 1_000_000_000 else {
            // Below a second Go picks the largest unit that keeps the integer part non-zero.
            let (unit, scale): (String, UInt64) =
                magnitude < 1_000 ? ("ns", 1) : magnitude < 1_000_000 ? ("µs", 1_000) : ("ms", 1_000_000)
            return sign + decimal(magnitude, scale: scale) + unit
        }
        let hours = magnitude / 3_600_000_000_000
        let minutes = magnitude / 60_000_000_000 % 60
        let secondsPart = decimal(magnitude % 60_000_000_000, scale: 1_000_000_000) + "s"
        if hours > 0 { return "\(sign)\(hours)h\(minutes)m\(secondsPart)" }
        if minutes > 0 { return "\(sign)\(minutes)m\(secondsPart)" }
        return sign + secondsPart
    }

    /// `value / scale` with the fraction's trailing zeros dropped (`1500, 1000` → `"1.5"`).
    private static func decimal(_ value: UInt64, scale: UInt64) -> String {
        let whole = value / scale
        var fraction = value % scale
        guard fraction > 0 else { return "\(whole)" }
        var digits = String(scale).count - 1
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let text = String(fraction)
        return "\(whole)." + String(repeating: "0", count: digits - text.count) + text
    }
}
