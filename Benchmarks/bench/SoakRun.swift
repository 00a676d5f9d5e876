import Dispatch
import Foundation
import Glibc

/// What `bench soak` runs: `--minutes`, `--rate`, `--impl` and the rest.
struct SoakSettings: Equatable {
    enum Implementation: String, CaseIterable {
        case natsd
        case natsServer = "nats-server"
    }

    /// Publishing time; a few seconds of start-up and draining come on top.
    var minutes = 10.0
    /// Messages published per second (paced, not flat out).
    var rate = 1000
    var implementation = Implementation.natsd
    /// Seconds between two report lines.
    var intervalSeconds = 5.0
    /// Payload bytes, at least `SoakStamp.size` (the stamp).
    var payloadSize = 64
    /// The run fails when a node's RSS at the end is more than this many percent above its RSS at the
    /// first report line (taken under load, so start-up allocation is not counted as growth).
    var maxRSSGrowthPercent = 25.0
    /// Bound on how long messages still in flight after the last publish may take to arrive.
    var drainSeconds = 10.0
}

/// `bench soak`: the 3-node chain (s2 routes to s1, s3 to s2; gossip completes the mesh) of one
/// implementation under a steady paced load for `minutes`: one publisher on s1, subscribers on the far
/// node s3 (two), on s2 and on s1 (local delivery). Every `intervalSeconds` it prints one line (RSS
/// and CPU of each node, end-to-end latency percentiles of that interval, messages sent, received and
/// not yet received) and at the end a summary; `run` returns whether the soak passed.
struct SoakRun {
    let settings: SoakSettings
    let binary: ServerBinary
    let logDirectory: String

    /// Subscriber placement: node indexes (0 = s1, the publisher's node).
    static let subscriberNodes = [2, 2, 1, 0]

    /// Writes a line to stdout at once (stdout is the report; progress goes to stderr).
    private func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    func run() -> Bool {
        let deployment: Deployment
        do {
            deployment = try Deployment.chainedCluster(binary, logDirectory: logDirectory)
        } catch {
            emit("soak: \(binary.label) cluster did not start: \(error)")
            return false
        }
        defer { deployment.stop() }
        let servers = deployment.servers
        let idleRSS = servers.map { $0.residentKiB() ?? 0 }
        let workload = SoakWorkload(
            publisherPort: deployment.port(0), subscriberPorts: Self.subscriberNodes.map(deployment.port),
            rate: settings.rate, payloadSize: settings.payloadSize
        )
        let counters = SoakCounters(subscribers: workload.subscriberPorts.count)
        let exited: DispatchSemaphore
        do {
            exited = try SoakTraffic.start(workload, counters: counters, timeoutSeconds: 15)
        } catch {
            emit("soak: \(binary.label): \(error)")
            counters.stopPublishing.store(true, ordering: .releasing)
            counters.stopSubscribers.store(true, ordering: .releasing)
            return false
        }
        defer {
            counters.stopPublishing.store(true, ordering: .releasing)
            counters.stopSubscribers.store(true, ordering: .releasing)
            // Every thread reads with a short timeout and checks its stop flag in between.
            for _ in 0...workload.subscriberPorts.count {
                guard exited.wait(timeout: .now() + 20) == .success else {
                    log("soak: a load-generator thread did not stop in time")
                    break
                }
            }
        }

        emit("soak: \(binary.label), 3 nodes (s1 ← s2 ← s3), \(settings.rate) msgs/s of \(settings.payloadSize) B "
             + "published on s1 for \(Int((settings.minutes * 60).rounded())) s; subscribers: 2 on s3, 1 on s2, 1 on s1; "
             + "RSS idle MiB \(idleRSS.map { format1(Double($0) / 1024) }.joined(separator: " / "))")
        emit(SoakInterval.header)
        var observer = SoakObserver(servers: servers)
        let start = monotonicNanos()
        let end = start + UInt64(settings.minutes * 60e9)
        var failure: String?
        var nextLine = start + UInt64(settings.intervalSeconds * 1e9)
        while failure == nil, monotonicNanos() < end {
            let now = monotonicNanos()
            if now < nextLine {
                usleep(UInt32(min(nextLine - now, end - now) / 1000))
                continue
            }
            nextLine += UInt64(settings.intervalSeconds * 1e9)
            let line = observer.sample(elapsedSeconds: Double(now - start) / 1e9, counters: counters)
            emit(line.render())
            // A dead node first: the load generators' errors are its consequence.
            failure = observer.deadServer() ?? counters.firstFailure
        }

        // Stop publishing; once the publisher has flushed (its count is final), what is in flight gets
        // `drainSeconds` to arrive.
        counters.stopPublishing.store(true, ordering: .releasing)
        let drainLimit = deadline(after: settings.drainSeconds)
        while monotonicNanos() < drainLimit, counters.firstFailure == nil {
            let sent = counters.sent.load(ordering: .acquiring)
            if counters.publisherDone.load(ordering: .acquiring), counters.receivedCounts.allSatisfy({ $0 >= sent }) { break }
            usleep(20_000)
        }
        let drained = observer.sample(elapsedSeconds: Double(monotonicNanos() - start) / 1e9, counters: counters)
        emit(drained.render() + "   (after the drain)")
        failure = failure ?? observer.deadServer() ?? counters.firstFailure

        let summary = SoakSummary(
            settings: settings, names: servers.map(\.name), rss: observer.rssHistory,
            sent: drained.sent, received: counters.receivedCounts, outOfOrder: counters.outOfOrder.load(ordering: .acquiring),
            worstP99: observer.worstP99, maxLatency: observer.maxLatency, failure: failure
        )
        summary.render().forEach(emit)
        return summary.passed
    }
}

/// Samples the nodes and the counters for one report line, remembering what the summary needs.
struct SoakObserver {
    let servers: [ServerProcess]
    /// RSS in KiB of every node at every line (one inner array per line).
    private(set) var rssHistory: [[Int]] = []
    private(set) var worstP99: UInt64 = 0
    private(set) var maxLatency: UInt64 = 0
    private var lastCPU: [ProcessCPU?]
    private var lastTime: UInt64

    init(servers: [ServerProcess]) {
        self.servers = servers
        lastCPU = servers.map { ProcessCPU.read(pid: $0.pid) }
        lastTime = monotonicNanos()
    }

    mutating func sample(elapsedSeconds: Double, counters: SoakCounters) -> SoakInterval {
        let now = monotonicNanos()
        let cpu = servers.map { ProcessCPU.read(pid: $0.pid) }
        let seconds = Double(now - lastTime) / 1e9
        let cpuPercent = zip(lastCPU, cpu).map { before, after -> Double? in
            guard let before, let after, seconds > 0,
                  let used = ProcessCPU.seconds(from: [before], to: [after]) else { return nil }
            return used / seconds * 100
        }
        lastCPU = cpu
        lastTime = now
        let rss = servers.map { $0.residentKiB() ?? 0 }
        rssHistory.append(rss)
        let latencies = counters.takeLatencies().sorted()
        if let last = latencies.last {
            maxLatency = max(maxLatency, last)
            worstP99 = max(worstP99, percentile(latencies, 0.99))
        }
        let sent = counters.sent.load(ordering: .acquiring)
        let received = counters.receivedCounts.reduce(0, +)
        return SoakInterval(
            elapsedSeconds: elapsedSeconds, rssKiB: rss, cpuPercent: cpuPercent,
            p50: latencies.isEmpty ? nil : percentile(latencies, 0.5),
            p99: latencies.isEmpty ? nil : percentile(latencies, 0.99),
            sent: sent, received: received, expected: sent * counters.receivedCounts.count
        )
    }

    /// How a node ended, when one did.
    func deadServer() -> String? {
        servers.lazy.compactMap { server in server.exitStatus().map { "\(server.name) \($0): \(server.logTail())" } }.first
    }
}
