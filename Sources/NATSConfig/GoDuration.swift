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
