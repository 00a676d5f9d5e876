import Dispatch
import Foundation
import Glibc
import Synchronization

/// How `bench mesh` runs one cluster.
struct MeshSettings: Sendable, Equatable {
    /// Give up on the full mesh this many seconds after the first launch.
    var timeoutSeconds = 60.0
    /// How long to keep watching after the full mesh.
    var settleSeconds = 5.0
    /// Pause between two poll rounds of every node's `/routez`.
    var pollMilliseconds = 50
    /// Start the servers with `-D` and count duplicate-route lines in their logs.
    var countDuplicatesInLogs = false
}

/// The outcome of one cluster start.
struct MeshRunResult: Sendable, Equatable {
    let nodeCount: Int
    /// Seconds from the first launch to every node being routed to every other; nil on timeout.
    let meshSeconds: Double?
    /// Peers per node at the end (-1: not answering); shows how far a timed-out run got.
    let peerCounts: [Int]
    let openedAfterMesh: Int
    let closedAfterMesh: Int
    let maxConnectionsPerPeer: Int
    /// `num_routes` per node at the end of the settle window.
    let routeCounts: [Int]
    /// The fewest peers any node had after the full mesh.
    let fewestPeersAfterMesh: Int
    /// Duplicate-route log lines up to the full mesh and after it (nil without `-D`).
    let duplicatesBeforeMesh: Int?
    let duplicatesAfterMesh: Int?

    var churn: Int { openedAfterMesh + closedAfterMesh }
}

/// Starts N nodes of one implementation at once as a chain (node i routes only to node i-1), polls
/// every node's `/routez` until the mesh is full, then watches it settle. Always kills the nodes.
struct MeshRun {
    let binary: ServerBinary
    let nodeCount: Int
    let settings: MeshSettings
    let logDirectory: String
    /// Distinguishes the log files of repeated runs.
    let runLabel: String

    private struct Node {
        let clientPort: Int
        let clusterPort: Int
        let monitorPort: Int
    }

    func run() throws -> MeshRunResult {
        let nodes = try allocatePorts()
        var servers: [ServerProcess] = []
        defer {
            Self.killAll(servers)
            for node in nodes { [node.clientPort, node.clusterPort, node.monitorPort].forEach(PortAllocator.shared.release) }
        }

        let start = monotonicNanos()
        for (index, node) in nodes.enumerated() {
            var arguments = [
                "-a", "127.0.0.1", "-p", "\(node.clientPort)", "-m", "\(node.monitorPort)",
                "--cluster", "nats://127.0.0.1:\(node.clusterPort)", "--cluster_name", "mesh",
            ]
            if index > 0 { arguments += ["--routes", "nats-route://127.0.0.1:\(nodes[index - 1].clusterPort)"] }
            if settings.countDuplicatesInLogs { arguments.append("-D") }
            servers.append(try ServerProcess.launch(
                name: "\(binary.label) node \(index + 1)", binary: binary.path, arguments: arguments,
                clientPort: node.clientPort, monitorPort: node.monitorPort,
                logPath: "\(logDirectory)/mesh-\(binary.label)-\(runLabel)-\(index + 1).log"
            ))
        }

        var observation = MeshObservation(nodeCount: nodeCount)
        let meshDeadline = start + UInt64(settings.timeoutSeconds * 1e9)
        var meshSeconds: Double?
        while monotonicNanos() < meshDeadline {
            let roundStart = monotonicNanos()
            try checkAlive(servers)
            let polls = Self.pollAll(nodes.map(\.monitorPort))
            for (index, poll) in polls.enumerated() { observation.record(node: index, poll.snapshot) }
            if observation.isFullMesh {
                // The mesh was complete once the last of these answers was taken.
                let reached = polls.map(\.receivedAt).max() ?? roundStart
                meshSeconds = Double(reached - start) / 1e9
                break
            }
            sleepUntil(roundStart + UInt64(settings.pollMilliseconds) * 1_000_000)
        }
        guard let meshSeconds else {
            return result(observation, meshSeconds: nil, duplicatesBefore: nil, duplicatesAfter: nil)
        }

        let duplicatesBefore = settings.countDuplicatesInLogs ? duplicateLines(servers) : nil
        observation.markFullMesh()
        let settleEnd = deadline(after: settings.settleSeconds)
        while monotonicNanos() < settleEnd {
            let roundStart = monotonicNanos()
            try checkAlive(servers)
            for (index, poll) in Self.pollAll(nodes.map(\.monitorPort)).enumerated() {
                observation.record(node: index, poll.snapshot)
            }
            sleepUntil(min(settleEnd, roundStart + UInt64(settings.pollMilliseconds) * 1_000_000))
        }
        let duplicatesAfter = duplicatesBefore.map { duplicateLines(servers) - $0 }
        return result(observation, meshSeconds: meshSeconds, duplicatesBefore: duplicatesBefore, duplicatesAfter: duplicatesAfter)
    }

    private func result(
        _ observation: MeshObservation, meshSeconds: Double?, duplicatesBefore: Int?, duplicatesAfter: Int?
    ) -> MeshRunResult {
        MeshRunResult(
            nodeCount: nodeCount, meshSeconds: meshSeconds, peerCounts: observation.peerCounts,
            openedAfterMesh: observation.openedAfterMesh, closedAfterMesh: observation.closedAfterMesh,
            maxConnectionsPerPeer: observation.maxConnectionsPerPeer, routeCounts: observation.routeCounts,
            fewestPeersAfterMesh: observation.fewestPeersAfterMesh,
            duplicatesBeforeMesh: duplicatesBefore, duplicatesAfterMesh: duplicatesAfter
        )
    }

    /// Three claimed ports per node (client, cluster, monitoring): every node starts at once and
    /// names its predecessor's cluster port, so the ports must be known before any server binds
    /// them (`PortAllocator`; released when the run ends). On failure the ports claimed so far
    /// are released.
    private func allocatePorts() throws -> [Node] {
        var claimed: [Int] = []
        do {
            for _ in 0..<(3 * nodeCount) { claimed.append(try PortAllocator.shared.claim()) }
        } catch {
            claimed.forEach(PortAllocator.shared.release)
            throw error
        }
        return (0..<nodeCount).map { Node(clientPort: claimed[3 * $0], clusterPort: claimed[3 * $0 + 1], monitorPort: claimed[3 * $0 + 2]) }
    }

    private func checkAlive(_ servers: [ServerProcess]) throws {
        for server in servers {
            if let exit = server.exitStatus() { throw BenchError("\(server.name) \(exit): \(server.logTail())") }
        }
    }

    /// Lines of all logs that report a duplicate route closed (natsd: "Duplicate route to";
    /// nats-server -D: "duplicate route"), matched case-insensitively.
    private func duplicateLines(_ servers: [ServerProcess]) -> Int {
        servers.reduce(0) { total, server in
            let text = (try? String(contentsOfFile: server.logPath, encoding: .utf8)) ?? ""
            return total + Self.countDuplicateRouteLines(in: text)
        }
    }

    static func countDuplicateRouteLines(in log: String) -> Int {
        log.split(separator: "\n").count { $0.lowercased().contains("duplicate route") }
    }

    /// SIGKILL everything first (a 40-node cluster would take long to stop one by one), then reap.
    private static func killAll(_ servers: [ServerProcess]) {
        for server in servers where server.exitStatus() == nil { kill(server.pid, SIGKILL) }
        for server in servers { server.stop() }
    }

    /// One concurrent round of `/routez` requests, one per node, each with the time its answer came.
    static func pollAll(_ monitorPorts: [Int]) -> [(snapshot: RoutezSnapshot?, receivedAt: UInt64)] {
        let slots = PollSlots(count: monitorPorts.count)
        let group = DispatchGroup()
        for (index, port) in monitorPorts.enumerated() {
            DispatchQueue.global().async(group: group) {
                let snapshot = RoutezSnapshot.fetch(monitorPort: port)
                slots.store(index, snapshot, at: monotonicNanos())
            }
        }
        group.wait()
        return slots.all()
    }

    private func sleepUntil(_ time: UInt64) {
        let now = monotonicNanos()
        if time > now { usleep(UInt32((time - now) / 1000)) }
    }
}

/// Results of one poll round, written by the dispatch workers.
private final class PollSlots: Sendable {
    private let slots: Mutex<[(snapshot: RoutezSnapshot?, receivedAt: UInt64)]>

    init(count: Int) { slots = Mutex(Array(repeating: (nil, 0), count: count)) }

    func store(_ index: Int, _ snapshot: RoutezSnapshot?, at time: UInt64) {
        slots.withLock { $0[index] = (snapshot, time) }
    }

    func all() -> [(snapshot: RoutezSnapshot?, receivedAt: UInt64)] { slots.withLock { $0 } }
}
