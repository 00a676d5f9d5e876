/// One line of the soak report: the state at `elapsedSeconds` and the latencies of the interval
/// that ended there.
struct SoakInterval: Equatable {
    let elapsedSeconds: Double
    /// VmRSS of s1, s2, s3 in KiB (0 when unreadable).
    let rssKiB: [Int]
    /// CPU used by each node over the interval, in percent of one core; nil when unreadable.
    let cpuPercent: [Double?]
    /// End-to-end latency percentiles (publisher write → subscriber read) of the interval, nanoseconds.
    let p50: UInt64?
    let p99: UInt64?
    /// Messages published so far.
    let sent: Int
    /// Messages received so far, all subscribers together.
    let received: Int
    /// `sent` × subscribers: what `received` becomes once nothing is in flight and nothing was lost.
    let expected: Int

    static let header = "elapsed s | RSS MiB s1/s2/s3 | CPU % s1/s2/s3 | p50 ms | p99 ms | sent | received | missing"

    /// Deliveries not (yet) made: in flight during the run, lost after the drain.
    var missing: Int { expected - received }

    func render() -> String {
        let rss = rssKiB.map { format1(Double($0) / 1024) }.joined(separator: "/")
        let cpu = cpuPercent.map { $0.map(format1) ?? "?" }.joined(separator: "/")
        let latency = { (value: UInt64?) in value.map { format2(Double($0) / 1e6) } ?? "-" }
        return "\(format1(elapsedSeconds)) | \(rss) | \(cpu) | \(latency(p50)) | \(latency(p99)) | "
            + "\(sent) | \(received) | \(missing)"
    }
}

/// The end of the soak report: RSS first (the first line, under load) against last and maximum per node,
/// messages lost, and the verdict.
struct SoakSummary {
    let settings: SoakSettings
    let names: [String]
    /// RSS in KiB of every node at every line, the line after the drain last.
    let rss: [[Int]]
    let sent: Int
    /// Messages received per subscriber after the drain.
    let received: [Int]
    let outOfOrder: Int
    let worstP99: UInt64
    let maxLatency: UInt64
    /// Why the run stopped early (a dead node, a load generator's error), if it did.
    let failure: String?

    /// Deliveries missing after the drain, all subscribers together.
    var lost: Int { received.reduce(0) { $0 + max(0, sent - $1) } }

    /// Percent growth of each node's RSS from the first line to the last; nil without two lines.
    var rssGrowthPercent: [Double?] {
        guard let first = rss.first, let last = rss.last, rss.count >= 2 else { return names.map { _ in nil } }
        return zip(first, last).map { first, last in first > 0 ? Double(last - first) * 100 / Double(first) : nil }
    }

    /// Why the soak failed; empty when it passed.
    var problems: [String] {
        var problems: [String] = []
        if let failure { problems.append(failure) }
        if sent == 0 { problems.append("nothing was published") }
        if lost > 0 { problems.append("\(lost) deliveries lost") }
        if outOfOrder > 0 { problems.append("\(outOfOrder) messages duplicated or out of order") }
        for (name, growth) in zip(names, rssGrowthPercent) {
            if let growth, growth > settings.maxRSSGrowthPercent {
                problems.append("\(name) RSS grew \(format1(growth)) % (limit \(format1(settings.maxRSSGrowthPercent)) %)")
            }
        }
        return problems
    }

    var passed: Bool { problems.isEmpty }

    func render() -> [String] {
        var lines = ["summary:"]
        for (index, name) in names.enumerated() {
            let series = rss.map { $0[index] }
            guard let first = series.first, let last = series.last, let peak = series.max() else { continue }
            let growth = rssGrowthPercent[index].map { " (\($0 >= 0 ? "+" : "")\(format1($0)) %)" } ?? ""
            lines.append("  \(name) RSS MiB first \(mebibytes(first)), last \(mebibytes(last))\(growth), max \(mebibytes(peak))")
        }
        let milliseconds = { (nanoseconds: UInt64) in format2(Double(nanoseconds) / 1e6) }
        lines.append("  latency: worst interval p99 \(milliseconds(worstP99)) ms, max \(milliseconds(maxLatency)) ms")
        let perSubscriber = received.map(String.init).joined(separator: " / ")
        lines.append("  sent \(sent) × \(received.count) subscribers; received \(perSubscriber); "
                     + "lost \(lost); duplicated or out of order \(outOfOrder)")
        let verdict = passed ? "PASS" : "FAIL: " + problems.joined(separator: "; ")
        lines.append("  \(verdict) (RSS growth limit \(format1(settings.maxRSSGrowthPercent)) %, first line → last)")
        return lines
    }

    private func mebibytes(_ kib: Int) -> String { format1(Double(kib) / 1024) }
}
