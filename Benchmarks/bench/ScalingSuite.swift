import Foundation

/// `bench --loops LIST [--pool LIST]`: every scaling case at every loop count, on every contender,
/// runs interleaved as in the default table; collected into a `ScalingReport`.
///
/// Servers are started once per loop count and topology: one node for the single-node cases, then
/// one 3-node chain per pool size. natsd is told the loop count with `--loops L`, nats-server with
/// `GOMAXPROCS=L` (see `LoopsControl`); the pool size goes into a config file both read.
final class ScalingSuite {
    private let options: BenchOptions
    private let contenders: [Contender]
    private let logDirectory: String
    private(set) var rows: [ScalingReport.Row] = []

    init(options: BenchOptions, contenders: [Contender], logDirectory: String) {
        self.options = options
        self.contenders = contenders
        self.logDirectory = logDirectory
    }

    func runAll() {
        let settings = options.scaling
        let cases = ScalingCase.all(pools: settings.pools)
        // Rows grouped by case, loop counts in the order given, so each case reads as a curve.
        rows = cases.flatMap { scalingCase in
            settings.loops.map { ScalingReport.Row(scalingCase: scalingCase, loops: $0, contenders: contenders.count) }
        }
        for loops in settings.loops {
            run(cases.filter { !$0.isChain }, loops: loops, topology: "single node") { binary, tuning in
                try Deployment.single(binary, logDirectory: self.logDirectory, tuning: tuning)
            }
            for pool in settings.pools {
                let config: String
                do {
                    config = try writePoolConfig(pool)
                } catch {
                    fail(cases: [.chain(pool: pool)], loops: loops, reason: "cannot write the config file: \(error)")
                    continue
                }
                run([.chain(pool: pool)], loops: loops, topology: "3-node chain, pool_size \(pool)") { binary, tuning in
                    try Deployment.chainedCluster(
                        binary, logDirectory: self.logDirectory, tuning: tuning.adding(arguments: ["-c", config])
                    )
                }
            }
        }
    }

    /// A config file holding only `cluster { pool_size: N }`; the rest comes from flags, which
    /// both servers merge with it.
    private func writePoolConfig(_ pool: Int) throws -> String {
        let path = "\(logDirectory)/pool\(pool).conf"
        try "cluster {\n  pool_size: \(pool)\n}\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Starts the topology for every contender at `loops`, runs each case `runs` times alternating
    /// which contender goes first, then stops the servers.
    private func run(
        _ cases: [ScalingCase], loops: Int, topology: String,
        start: (ServerBinary, NodeTuning) throws -> Deployment
    ) {
        guard !cases.isEmpty else { return }
        var deployments: [Deployment?] = []
        for (index, contender) in contenders.enumerated() {
            switch contender.binary {
            case .failure(let error):
                deployments.append(nil)
                fail(cases: cases, loops: loops, contender: index, reason: "\(contender.label) unavailable: \(error.message)")
            case .success(let path):
                log("starting \(topology) of \(contender.label) with \(loops) loops")
                // The label names the log files, so that each start keeps its own.
                let binary = ServerBinary(label: "\(contender.label) L\(loops)", path: path)
                do {
                    deployments.append(try start(binary, LoopsControl(label: contender.label).tuning(loops: loops)))
                } catch {
                    deployments.append(nil)
                    fail(cases: cases, loops: loops, contender: index, reason: "\(topology) did not start: \(error)")
                }
            }
        }
        defer { deployments.forEach { $0?.stop() } }

        for scalingCase in cases {
            guard let row = rows.firstIndex(where: { $0.scalingCase == scalingCase && $0.loops == loops }) else { continue }
            for runNumber in 0..<options.runs {
                var order = Array(contenders.indices)
                if runNumber % 2 == 1 { order.reverse() }
                for contender in order {
                    guard let deployment = deployments[contender] else { continue }
                    let what = "\(scalingCase.title) · \(loops) loops · \(contenders[contender].label) · run \(runNumber + 1)"
                    if let dead = deployment.servers.first(where: { $0.exitStatus() != nil }) {
                        rows[row].cells[contender].fail("\(dead.name) \(dead.exitStatus() ?? ""): \(dead.logTail())")
                        continue
                    }
                    let fanRun = FanRun(
                        workload: scalingCase.workload(on: deployment, settings: options.scaling),
                        timeoutSeconds: options.timeoutSeconds
                    )
                    do {
                        let result = try fanRun.run { Self.sampleCPU(deployment) }
                        log("\(what): \(formatRate(result.rate)) msgs/s over \(format2(result.seconds)) s, "
                            + "CPU \(result.cpuSecondsPerMillion.map { format2($0) } ?? "n/a") s per M msgs")
                        rows[row].cells[contender].runs.append(result)
                    } catch {
                        log("\(what): failed: \(error)")
                        rows[row].cells[contender].fail("\(error)")
                    }
                }
            }
        }
    }

    /// CPU counters of every server of the deployment, or nil when one cannot be read.
    private static func sampleCPU(_ deployment: Deployment) -> [ProcessCPU]? {
        let readings = deployment.servers.map { ProcessCPU.read(pid: $0.pid) }
        return readings.contains(where: { $0 == nil }) ? nil : readings.compactMap { $0 }
    }

    private func fail(cases: [ScalingCase], loops: Int, contender: Int? = nil, reason: String) {
        for index in rows.indices where rows[index].loops == loops && cases.contains(rows[index].scalingCase) {
            for cell in rows[index].cells.indices where contender == nil || contender == cell {
                rows[index].cells[cell].fail(reason)
            }
        }
    }
}
