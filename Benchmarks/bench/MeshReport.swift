/// The markdown table of `bench mesh`:
/// `nodes | natsd seconds (best/median) | nats-server seconds | natsd churn after mesh | nats-server churn`.
struct MeshReport {
    /// The runs of one implementation at one cluster size.
    struct Cell: Sendable {
        var results: [MeshRunResult] = []
        var failure: String?

        mutating func fail(_ reason: String) {
            if failure == nil { failure = reason }
        }

        var meshed: [MeshRunResult] { results.filter { $0.meshSeconds != nil } }
        var timeouts: Int { results.count - meshed.count }
    }

    struct Row: Sendable {
        let nodeCount: Int
        var cells: [Cell]

        init(nodeCount: Int, contenders: Int) {
            self.nodeCount = nodeCount
            self.cells = Array(repeating: Cell(), count: contenders)
        }
    }

    let preamble: [String]
    let contenders: [Contender]
    let rows: [Row]
    let settings: MeshSettings

    func render() -> String {
        let notes = ReportNotes()
        var lines = notes.header("natsd vs nats-server: chain start to full mesh", preamble: preamble, contenders: contenders)
        lines += [
            "- seconds: from the first launch until every node's `/routez` lists every other node "
                + "(distinct `remote_id`), best / median over the runs that meshed; timeout after \(format1(settings.timeoutSeconds)) s",
            "- churn: over the \(format1(settings.settleSeconds)) s after the full mesh, worst run: route connections "
                + "(`rid` + `start`) closed / opened; `num_routes` per node (min–max at the end); most connections to one peer"
                + (settings.countDuplicatesInLogs
                    ? "; duplicate-route lines in the -D logs before + after the mesh (all runs summed)"
                    : " (run with --dup-logs to count duplicate-route closes from -D logs)"),
            "",
        ]
        let labels = contenders.map(\.label)
        var header = ["nodes"]
        header += labels.enumerated().map { $0.offset == 0 ? "\($0.element) seconds (best/median)" : "\($0.element) seconds" }
        header += labels.enumerated().map { $0.offset == 0 ? "\($0.element) churn after mesh" : "\($0.element) churn" }
        lines.append("| " + header.joined(separator: " | ") + " |")
        lines.append("|---:|" + labels.map { _ in "---:|" }.joined() + labels.map { _ in "---|" }.joined())
        for row in rows {
            var cells = ["\(row.nodeCount)"]
            cells += row.cells.map { Self.secondsCell($0, note: notes.mark) }
            cells += row.cells.map { Self.churnCell($0, note: notes.mark) }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        lines += notes.footer
        return lines.joined(separator: "\n")
    }

    static func secondsCell(_ cell: Cell, note: (String) -> String) -> String {
        let seconds = cell.meshed.compactMap(\.meshSeconds)
        var text: String
        if let best = seconds.min(), let median = CellResult.median(seconds) {
            text = "\(format2(best)) / \(format2(median))"
            if cell.timeouts > 0 { text += " (\(cell.timeouts) of \(cell.results.count) timed out)" }
        } else if cell.timeouts > 0 {
            let closest = cell.results.map { $0.peerCounts.min() ?? -1 }.max() ?? -1
            text = "timeout (\(cell.timeouts) of \(cell.results.count); closest run's worst node: \(closest) of \(cell.results[0].nodeCount - 1) peers)"
        } else {
            return "n/a " + note(cell.failure ?? "not run")
        }
        if let failure = cell.failure { text += " " + note(failure) }
        return text
    }

    static func churnCell(_ cell: Cell, note: (String) -> String) -> String {
        let meshed = cell.meshed
        guard !meshed.isEmpty else { return cell.failure.map { "n/a " + note($0) } ?? "n/a" }
        let closed = meshed.map(\.closedAfterMesh).max() ?? 0
        let opened = meshed.map(\.openedAfterMesh).max() ?? 0
        let fewestRoutes = meshed.compactMap { $0.routeCounts.min() }.min() ?? 0
        let mostRoutes = meshed.compactMap { $0.routeCounts.max() }.max() ?? 0
        let perPeer = meshed.map(\.maxConnectionsPerPeer).max() ?? 0
        var text = "\(closed) closed / \(opened) opened · num_routes \(fewestRoutes)–\(mostRoutes) · ≤\(perPeer) per peer"
        let fewestPeers = meshed.map(\.fewestPeersAfterMesh).min() ?? 0
        if fewestPeers < meshed[0].nodeCount - 1 { text += " · a node dropped to \(fewestPeers) peers" }
        let before = meshed.compactMap(\.duplicatesBeforeMesh)
        let after = meshed.compactMap(\.duplicatesAfterMesh)
        if !before.isEmpty {
            text += " · dup log \(before.reduce(0, +)) + \(after.reduce(0, +))"
        }
        return text
    }
}
