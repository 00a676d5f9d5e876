/// Whether a bigger number is better (throughput) or a smaller one (latency, memory).
enum Direction: Sendable {
    case higherIsBetter
    case lowerIsBetter
}

/// The results of one table cell: one value per run, or why there are none.
struct CellResult: Sendable {
    var values: [Double] = []
    /// The first failure seen; a cell with some values and a failure still shows its values.
    var failure: String?

    mutating func record(_ value: Double) { values.append(value) }

    mutating func fail(_ reason: String) {
        if failure == nil { failure = reason }
    }

    func best(_ direction: Direction) -> Double? {
        direction == .higherIsBetter ? values.max() : values.min()
    }

    var median: Double? { Self.median(values) }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// The value below which `fraction` of `sorted` lies (nearest rank; `sorted` ascending).
func percentile(_ sorted: [UInt64], _ fraction: Double) -> UInt64 {
    precondition(!sorted.isEmpty, "percentile of no samples")
    let rank = Int((fraction * Double(sorted.count)).rounded(.up))
    return sorted[min(sorted.count - 1, max(0, rank - 1))]
}

/// Formats counts per second as "1.52 M" / "830 k".
func formatRate(_ value: Double) -> String {
    if value >= 1e6 { return String(format2(value / 1e6)) + " M" }
    if value >= 1e3 { return String(Int((value / 1e3).rounded())) + " k" }
    return String(Int(value.rounded()))
}

/// Two decimals without Foundation's locale-dependent formatting.
func format2(_ value: Double) -> String {
    let scaled = Int((value * 100).rounded())
    let fraction = abs(scaled % 100)
    return "\(scaled / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

/// One decimal.
func format1(_ value: Double) -> String {
    let scaled = Int((value * 10).rounded())
    return "\(scaled / 10).\(abs(scaled % 10))"
}
