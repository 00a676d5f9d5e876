/// The markdown table of `bench --loops …`:
/// `case | loops | msgs/s per server (best / median) | ratio | CPU s per M msgs per server (median)`,
/// and the same medians as `ScalingChart` panels.
struct ScalingReport {
    /// The runs of one implementation in one row.
    struct Cell: Sendable, Equatable {
        var runs: [FanRunResult] = []
        var failure: String?

        mutating func fail(_ reason: String) {
            if failure == nil { failure = reason }
        }

        var bestRate: Double? { runs.map(\.rate).max() }
        var medianRate: Double? { CellResult.median(runs.map(\.rate)) }
        /// Median over the runs whose CPU time could be read.
        var medianCPUPerMillion: Double? { CellResult.median(runs.compactMap(\.cpuSecondsPerMillion)) }
    }

    struct Row: Sendable, Equatable {
        let scalingCase: ScalingCase
        let loops: Int
        var cells: [Cell]

        init(scalingCase: ScalingCase, loops: Int, contenders: Int) {
            self.scalingCase = scalingCase
            self.loops = loops
            self.cells = Array(repeating: Cell(), count: contenders)
        }
    }

    let preamble: [String]
    let contenders: [Contender]
    let rows: [Row]

    func render() -> String {
        let notes = ReportNotes()
        var lines = notes.header("natsd vs nats-server: scaling with event loops", preamble: preamble, contenders: contenders)
        lines += [
            "- msgs/s: messages delivered to subscribers (fan-out 1 → 8 counts each publish 8 times) ÷ (first publish → "
                + "last delivery), best / median over the runs; ratio = first ÷ second server (best / median), above 1 is better",
            "- CPU s/M: user + system CPU seconds of the server processes (every node of the chain summed) over that "
                + "window, from /proc/PID/stat, per million delivered messages, median over the runs; lower is better",
            "",
        ]
        let labels = contenders.map(\.label)
        let ratioTitle = labels.count == 2 ? "ratio \(labels[0])/\(labels[1])" : "ratio"
        let header = ["case", "loops"] + labels.map { "\($0) msgs/s" } + [ratioTitle] + labels.map { "\($0) CPU s/M" }
        lines.append("| " + header.joined(separator: " | ") + " |")
        lines.append("|---|---:|" + labels.map { _ in "---:|" }.joined() + "---:|" + labels.map { _ in "---:|" }.joined())
        for row in rows {
            var cells = [row.scalingCase.title, "\(row.loops)"]
            for cell in row.cells {
                if let best = cell.bestRate, let median = cell.medianRate {
                    cells.append("\(formatRate(best)) / \(formatRate(median))" + (cell.failure.map { " " + notes.mark($0) } ?? ""))
                } else {
                    cells.append("n/a " + notes.mark(cell.failure ?? "not run"))
                }
            }
            cells.append(Self.ratio(row.cells))
            cells += row.cells.map { cell in cell.medianCPUPerMillion.map { format2($0) } ?? "n/a" }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        lines += notes.footer
        return lines.joined(separator: "\n")
    }

    /// "best / median" of the first contender over the second, or n/a.
    static func ratio(_ cells: [Cell]) -> String {
        guard cells.count == 2,
              let bestA = cells[0].bestRate, let bestB = cells[1].bestRate,
              let medianA = cells[0].medianRate, let medianB = cells[1].medianRate, bestB > 0, medianB > 0
        else {
            return "n/a"
        }
        return "\(format2(bestA / bestB)) / \(format2(medianA / medianB))"
    }

    /// One panel per case, one series per contender: median msgs/s at each loop count that has runs.
    func chart(title: String, subtitle: String) -> ScalingChart {
        var cases: [ScalingCase] = []
        for row in rows where !cases.contains(row.scalingCase) { cases.append(row.scalingCase) }
        let panels = cases.map { scalingCase in
            let caseRows = rows.filter { $0.scalingCase == scalingCase }
            let series = contenders.indices.map { index in
                ScalingChart.Series(
                    label: contenders[index].label,
                    points: caseRows.compactMap { row in
                        row.cells[index].medianRate.map { ScalingChart.Point(loops: row.loops, rate: $0) }
                    }
                )
            }
            return ScalingChart.Panel(title: scalingCase.title, series: series)
        }
        return ScalingChart(title: title, subtitle: subtitle, panels: panels)
    }
}
