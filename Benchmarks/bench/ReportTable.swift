import Foundation

/// One implementation under test as the table sees it: a binary, or why there is none.
struct Contender: Sendable {
    let label: String
    let binary: Result<String, BenchError>
    let version: String
}

/// How a row's numbers are printed.
enum ValueStyle: Sendable {
    /// Messages per second ("1.52 M").
    case rate
    /// Nanoseconds shown as microseconds with one decimal.
    case microseconds
    /// A plain number with one decimal (MiB, KiB).
    case decimal
}

/// One table row: a scenario and its results per contender (same order as the contenders).
struct ReportRow: Sendable {
    let title: String
    let direction: Direction
    let style: ValueStyle
    var cells: [CellResult]

    init(_ title: String, _ direction: Direction, _ style: ValueStyle, contenders: Int) {
        self.title = title
        self.direction = direction
        self.style = style
        self.cells = Array(repeating: CellResult(), count: contenders)
    }
}

/// Renders the markdown report.
struct ReportTable {
    let heading: String
    let preamble: [String]
    let contenders: [Contender]
    let rows: [ReportRow]
    let legend: String

    func render() -> String {
        let notes = ReportNotes()
        var lines = notes.header(heading, preamble: preamble, contenders: contenders)
        lines += ["- \(legend)", ""]
        let ratioTitle = contenders.count == 2 ? "ratio \(contenders[0].label)/\(contenders[1].label)" : "ratio"
        lines.append("| scenario | " + contenders.map(\.label).joined(separator: " | ") + " | \(ratioTitle) |")
        lines.append("|---|" + contenders.map { _ in "---:|" }.joined() + "---:|")
        for row in rows {
            var cells: [String] = []
            for cell in row.cells {
                if let best = cell.best(row.direction), let median = cell.median {
                    var text = "\(Self.format(best, row.style)) / \(Self.format(median, row.style))"
                    if let failure = cell.failure { text += " \(notes.mark(failure))" }
                    cells.append(text)
                } else {
                    cells.append("n/a " + notes.mark(cell.failure ?? "not run"))
                }
            }
            var ratio = "n/a"
            if row.cells.count == 2,
               let bestA = row.cells[0].best(row.direction), let bestB = row.cells[1].best(row.direction),
               let medianA = row.cells[0].median, let medianB = row.cells[1].median, bestB > 0, medianB > 0 {
                ratio = "\(format2(bestA / bestB)) / \(format2(medianA / medianB))"
            }
            lines.append("| \(row.title) | " + cells.joined(separator: " | ") + " | \(ratio) |")
        }
        lines += notes.footer
        return lines.joined(separator: "\n")
    }

    static func format(_ value: Double, _ style: ValueStyle) -> String {
        switch style {
        case .rate: return formatRate(value)
        case .microseconds: return format1(value / 1000)
        case .decimal: return format1(value)
        }
    }
}
