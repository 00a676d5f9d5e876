import Dispatch
import Foundation
import Synchronization

/// The default mode: every scenario on every contender, runs interleaved, as a markdown table.
final class ThroughputSuite {
    /// A measurement that fills one or more consecutive rows from a single run.
    struct Scenario {
        let rows: [(title: String, direction: Direction, style: ValueStyle)]
        let measure: (Deployment) throws -> [Double]
    }

    let options: BenchOptions
    private let contenders: [Contender]
    let logDirectory: String
    private(set) var rows: [ReportRow] = []

    init(options: BenchOptions, contenders: [Contender], logDirectory: String) {
        self.options = options
        self.contenders = contenders
        self.logDirectory = logDirectory
    }

    func runAll() {
        let groups = options.groups
        var single: [Scenario] = []
        if groups.contains(.pub) { single.append(throughput("1 node: pub only, 16 B", size: 16, routed: false, subscribed: false)) }
        if groups.contains(.pubsub) {
            single.append(throughput("1 node: pub → sub, 16 B", size: 16, routed: false, subscribed: true))
            single.append(throughput("1 node: pub → sub, 1 KiB", size: 1024, routed: false, subscribed: true))
        }
        var cluster: [Scenario] = []
        if groups.contains(.cluster) {
            for size in [16, 128, 1024] {
                let label = size == 1024 ? "1 KiB" : "\(size) B"
                cluster.append(throughput("3-node chain: pub s1 → sub s3, \(label)", size: size, routed: true, subscribed: true))
            }
        }
        if groups.contains(.latency) { cluster.append(latency()) }

        if !single.isEmpty {
            run(single, topology: "single node") { try Deployment.single($0, logDirectory: self.logDirectory) }
        }
        if groups.contains(.pubsub) {
            // Issue 8, point 7: the same 16 B run by a user whose permissions allow the subjects (compare with
            // the row without permissions above).
            let permitted = throughput("1 node: pub → sub, 16 B, user with permissions allowing the subject", size: 16,
                                       routed: false, subscribed: true, credentials: Self.permittedUserCredentials)
            run([permitted], topology: "single node with a permissions config") {
                let config = try self.writePermissionsConfig()
                return try Deployment.single($0, logDirectory: self.logDirectory, tuning: NodeTuning(arguments: ["-c", config]))
            }
        }
        if !cluster.isEmpty {
            run(cluster, topology: "3-node cluster") { try Deployment.chainedCluster($0, logDirectory: self.logDirectory) }
        }
        if groups.contains(.cluster) {
            // Issue 8, point 7: three tenants through the chain, first as three subjects of one account, then
            // as three accounts on the same subject (each account's traffic named on the routes).
            let title = "3-node chain: 3 pub s1 → 3 sub s3, 16 B"
            run([tenants("\(title), one account, 3 subjects", accounts: false)], topology: "3-node cluster") {
                try Deployment.chainedCluster($0, logDirectory: self.logDirectory)
            }
            run([tenants("\(title), 3 accounts, same subject", accounts: true)], topology: "3-node cluster with accounts") {
                let config = try self.writeConfig("accounts.conf", Self.tenantAccounts)
                return try Deployment.chainedCluster($0, logDirectory: self.logDirectory,
                                                     tuning: NodeTuning(arguments: ["-c", config]))
            }
        }
        if groups.contains(.tls) { runTLS() }
    }

    /// Three accounts, one user each (`t0`…`t2`, password `bench`).
    static let tenantAccounts = """
        accounts {
          T0 { users = [ {user: t0, password: bench} ] }
          T1 { users = [ {user: t1, password: bench} ] }
          T2 { users = [ {user: t2, password: bench} ] }
        }

        """

    /// Three publisher → subscriber pairs at once (s1 → s3), the rate their sum. With `accounts`, pair
    /// `i` logs in as account `Ti` and all use the same subject; without, pair `i` uses subject `bench.ti`.
    private func tenants(_ title: String, accounts: Bool) -> Scenario {
        let count = options.messageCount(for: 16) / 3
        let timeout = options.timeout(for: count * 3)
        return Scenario(rows: [("\(title) (msgs/s)", .higherIsBetter, .rate)]) { deployment in
            let results = Mutex<[Result<Double, BenchError>]>([])
            let (publisherPort, subscriberPort) = (deployment.port(0), deployment.port(2))
            DispatchQueue.concurrentPerform(iterations: 3) { tenant in
                var run = ThroughputRun(publisherPort: publisherPort, subscriberPort: subscriberPort,
                                        payloadSize: 16, messageCount: count, timeoutSeconds: timeout)
                if accounts {
                    run.credentials = "\"user\":\"t\(tenant)\",\"pass\":\"bench\""
                } else {
                    run.dataSubject = "bench.t\(tenant)"
                    run.probeSubject = "bench.probe\(tenant)"
                }
                let outcome: Result<Double, BenchError>
                do { outcome = .success(try run.run()) } catch { outcome = .failure(error as? BenchError ?? BenchError("\(error)")) }
                results.withLock { $0.append(outcome) }
            }
            var total = 0.0
            for outcome in results.withLock({ $0 }) { total += try outcome.get() }
            return [total]
        }
    }

    static let permittedUserCredentials = "\"user\":\"bench\",\"pass\":\"bench\""

    /// One user allowed to publish and subscribe to the bench's subjects (`bench.>`), read by both servers.
    private func writePermissionsConfig() throws -> String {
        try writeConfig("permissions.conf", """
            authorization {
              users = [ {user: bench, password: bench, permissions: {publish: "bench.>", subscribe: "bench.>"}} ]
            }

            """)
    }

    /// Writes `text` as `name` into the log folder; returns its path.
    func writeConfig(_ name: String, _ text: String) throws -> String {
        let path = "\(logDirectory)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// One publisher (on s1) at full speed, optionally one subscriber (on s1, or s3 when `routed`). With
    /// `megabytes`, two more rows from the same runs: payload bytes per second (MB/s, 10^6 bytes) and the
    /// servers' CPU time per GB of payload (user + system from /proc, every node summed), which still
    /// compares the servers when the load generators on the same cores set the rate.
    func throughput(_ title: String, size: Int, routed: Bool, subscribed: Bool,
                    credentials: String = "", tlsCAFile: String? = nil, megabytes: Bool = false) -> Scenario {
        let count = options.messageCount(for: size)
        let timeout = options.timeout(for: count, payloadSize: size)
        var rows: [(title: String, direction: Direction, style: ValueStyle)] = [("\(title) (msgs/s)", .higherIsBetter, .rate)]
        if megabytes {
            rows += [("\(title) (MB/s)", .higherIsBetter, .decimal),
                     ("\(title), server CPU per GB (ms)", .lowerIsBetter, .decimal)]
        }
        return Scenario(rows: rows) { deployment in
            var run = ThroughputRun(
                publisherPort: deployment.port(0),
                subscriberPort: subscribed ? deployment.port(routed ? 2 : 0) : nil,
                payloadSize: size, messageCount: count, timeoutSeconds: timeout, credentials: credentials
            )
            run.tlsCAFile = tlsCAFile
            guard megabytes else { return [try run.run()] }
            let before = deployment.servers.compactMap { ProcessCPU.read(pid: $0.pid) }
            let rate = try run.run()
            let after = deployment.servers.compactMap { ProcessCPU.read(pid: $0.pid) }
            guard before.count == deployment.servers.count, let cpu = ProcessCPU.seconds(from: before, to: after) else {
                throw BenchError("no CPU reading of the servers")
            }
            let gigabytes = Double(count) * Double(size) / 1e9
            return [rate, rate * Double(size) / 1e6, cpu * 1000 / gigabytes]
        }
    }

    private func latency() -> Scenario {
        let fractions = [0.5, 0.9, 0.99, 0.999]
        let titles = ["p50", "p90", "p99", "p99.9"].map { "req/reply s1 → s3, 16 B, \($0) (µs)" }
        let roundTrips = options.latencyRoundTrips
        let timeout = options.timeout(for: roundTrips * 10)
        return Scenario(rows: titles.map { ($0, .lowerIsBetter, .microseconds) }) { deployment in
            let run = LatencyRun(
                requesterPort: deployment.port(0), responderPort: deployment.port(2),
                payloadSize: 16, roundTrips: roundTrips, timeoutSeconds: timeout
            )
            let sorted = try run.run().sorted()
            return fractions.map { Double(percentile(sorted, $0)) }
        }
    }

    /// Starts `topology` for every contender, runs each scenario `runs` times alternating which
    /// contender goes first, then stops the servers.
    func run(_ scenarios: [Scenario], topology: String, start: (ServerBinary) throws -> Deployment) {
        let firstRow = rows.count
        for scenario in scenarios {
            for row in scenario.rows {
                rows.append(ReportRow(row.title, row.direction, row.style, contenders: contenders.count))
            }
        }
        var deployments: [Deployment?] = []
        for (index, contender) in contenders.enumerated() {
            switch contender.binary {
            case .failure(let error):
                deployments.append(nil)
                failAll(contender: index, from: firstRow, reason: "\(contender.label) unavailable: \(error.message)")
            case .success(let path):
                log("starting \(topology) of \(contender.label)")
                do {
                    deployments.append(try start(ServerBinary(label: contender.label, path: path)))
                } catch {
                    deployments.append(nil)
                    failAll(contender: index, from: firstRow, reason: "\(topology) did not start: \(error)")
                }
            }
        }
        defer { deployments.forEach { $0?.stop() } }

        var rowIndex = firstRow
        for scenario in scenarios {
            for runNumber in 0..<options.runs {
                var order = Array(contenders.indices)
                if runNumber % 2 == 1 { order.reverse() }
                for contender in order {
                    guard let deployment = deployments[contender] else { continue }
                    if let dead = deployment.servers.first(where: { $0.exitStatus() != nil }) {
                        record(.failure(BenchError("\(dead.name) \(dead.exitStatus() ?? "")")), rowIndex, scenario, contender)
                        continue
                    }
                    let label = contenders[contender].label
                    do {
                        let values = try scenario.measure(deployment)
                        log("\(scenario.rows[0].title) · \(label) · run \(runNumber + 1): \(zip(values, scenario.rows).map { ReportTable.format($0, $1.style) }.joined(separator: ", "))")
                        record(.success(values), rowIndex, scenario, contender)
                    } catch {
                        log("\(scenario.rows[0].title) · \(label) · run \(runNumber + 1): failed: \(error)")
                        record(.failure(error as? BenchError ?? BenchError("\(error)")), rowIndex, scenario, contender)
                    }
                }
            }
            rowIndex += scenario.rows.count
        }
    }

    private func record(_ outcome: Result<[Double], BenchError>, _ firstRow: Int, _ scenario: Scenario, _ contender: Int) {
        for offset in scenario.rows.indices {
            switch outcome {
            case .success(let values): rows[firstRow + offset].cells[contender].record(values[offset])
            case .failure(let error): rows[firstRow + offset].cells[contender].fail(error.message)
            }
        }
    }

    private func failAll(contender: Int, from firstRow: Int, reason: String) {
        for index in firstRow..<rows.count { rows[index].cells[contender].fail(reason) }
    }
}
