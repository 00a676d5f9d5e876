/// `bench mesh`: for each cluster size and each server, `--runs` chain starts (contenders
/// interleaved, order alternating per run), collected into a `MeshReport`.
final class MeshSuite {
    private let options: BenchOptions
    private let contenders: [Contender]
    private let logDirectory: String
    private(set) var rows: [MeshReport.Row] = []

    init(options: BenchOptions, contenders: [Contender], logDirectory: String) {
        self.options = options
        self.contenders = contenders
        self.logDirectory = logDirectory
    }

    func runAll() {
        rows = options.meshNodeCounts.map { MeshReport.Row(nodeCount: $0, contenders: contenders.count) }
        for row in rows.indices {
            let nodeCount = rows[row].nodeCount
            for runNumber in 0..<options.runs {
                var order = Array(contenders.indices)
                if runNumber % 2 == 1 { order.reverse() }
                for index in order {
                    let label = contenders[index].label
                    switch contenders[index].binary {
                    case .failure(let error):
                        rows[row].cells[index].fail("\(label) unavailable: \(error.message)")
                    case .success(let path):
                        let run = MeshRun(
                            binary: ServerBinary(label: label, path: path), nodeCount: nodeCount,
                            settings: options.mesh, logDirectory: logDirectory,
                            runLabel: "n\(nodeCount)-r\(runNumber + 1)"
                        )
                        do {
                            let result = try run.run()
                            log("mesh · \(label) · \(nodeCount) nodes · run \(runNumber + 1): \(Self.describe(result))")
                            rows[row].cells[index].results.append(result)
                        } catch {
                            log("mesh · \(label) · \(nodeCount) nodes · run \(runNumber + 1): failed: \(error)")
                            rows[row].cells[index].fail("\(error)")
                        }
                    }
                }
            }
        }
    }

    /// One progress line.
    static func describe(_ result: MeshRunResult) -> String {
        guard let seconds = result.meshSeconds else {
            return "timeout; peers per node \(result.peerCounts)"
        }
        var text = "full mesh in \(format2(seconds)) s; after it opened \(result.openedAfterMesh), "
            + "closed \(result.closedAfterMesh), max \(result.maxConnectionsPerPeer) per peer, "
            + "num_routes \(result.routeCounts.min() ?? 0)–\(result.routeCounts.max() ?? 0)"
        if let before = result.duplicatesBeforeMesh, let after = result.duplicatesAfterMesh {
            text += ", duplicate-route log lines \(before) before / \(after) after"
        }
        return text
    }
}
