import Foundation
import Glibc

/// A server implementation under test: a label for the table and the binary to run.
struct ServerBinary: Sendable {
    let label: String
    let path: String
}

/// What a benchmark adds to a server's launch: arguments after the ones it always has, and
/// environment variables on top of the bench's own.
struct NodeTuning: Sendable, Equatable {
    var arguments: [String] = []
    var environment: [String: String] = [:]

    static let none = NodeTuning()

    /// This tuning with `more` arguments appended.
    func adding(arguments more: [String]) -> NodeTuning {
        NodeTuning(arguments: arguments + more, environment: environment)
    }
}

/// A set of running servers of one implementation: a single node or the 3-node chained cluster.
final class Deployment {
    let servers: [ServerProcess]

    init(servers: [ServerProcess]) { self.servers = servers }

    deinit { stop() }

    func stop() { servers.forEach { $0.stop() } }

    /// Client port of node `index` (0-based).
    func port(_ index: Int) -> Int { servers[index].clientPort }

    /// One node on loopback, with a monitoring port when the binary accepts `-m`; `tuning` adds
    /// arguments and environment (the scaling table's loop count).
    static func single(_ binary: ServerBinary, logDirectory: String, tuning: NodeTuning = .none) throws -> Deployment {
        let server = try startNode(binary, name: "\(binary.label)", tuning: tuning, logDirectory: logDirectory)
        return Deployment(servers: [server])
    }

    /// s1 ← s2 ← s3: s2 routes to s1 and s3 routes to s2; gossip should then complete the mesh.
    /// Each node picks its cluster port (-1) and the next one routes to the port its ports file
    /// names. Returns once every node sees two remote servers (via `/routez`) or, without
    /// monitoring, once a message published on s1 reaches a subscriber on s3.
    /// `tuning` applies to every node (a config file with the route pool size, the loop count).
    static func chainedCluster(
        _ binary: ServerBinary, logDirectory: String, tuning: NodeTuning = .none, timeoutSeconds: Double = 20
    ) throws -> Deployment {
        var servers: [ServerProcess] = []
        do {
            for index in 1...3 {
                var extra = ["--cluster", "nats://127.0.0.1:-1", "--cluster_name", "bench"]
                if let previous = servers.last {
                    guard let port = previous.clusterPort else {
                        throw BenchError("\(previous.name) reported no cluster port")
                    }
                    extra += ["--routes", "nats-route://127.0.0.1:\(port)"]
                }
                servers.append(try startNode(
                    binary, name: "\(binary.label) s\(index)", tuning: tuning.adding(arguments: extra), logDirectory: logDirectory
                ))
            }
        } catch {
            servers.forEach { $0.stop() }
            throw error
        }
        let deployment = Deployment(servers: servers)
        try deployment.waitForFullMesh(timeoutSeconds: timeoutSeconds)
        return deployment
    }

    /// Starts one node on ports it picks (`-p -1`, `-m -1`), read back from its ports file in
    /// `logDirectory`. Tries `-m` first; a binary that rejects it is retried without monitoring.
    private static func startNode(
        _ binary: ServerBinary, name: String, tuning: NodeTuning, logDirectory: String
    ) throws -> ServerProcess {
        let safeName = name.replacingOccurrences(of: " ", with: "-")
        var firstError: (any Error)?
        for withMonitoring in [true, false] {
            var arguments = ["-a", "127.0.0.1", "-p", "-1"]
            if withMonitoring { arguments += ["-m", "-1"] }
            arguments += tuning.arguments
            let server = try ServerProcess.launch(
                name: name, binary: binary.path, arguments: arguments, environment: tuning.environment,
                portsFileDirectory: logDirectory,
                logPath: "\(logDirectory)/\(safeName)\(withMonitoring ? "" : "-nomon").log"
            )
            do {
                try server.waitUntilReady()
                return server
            } catch {
                server.stop()
                if firstError == nil { firstError = error }
            }
        }
        throw firstError ?? BenchError("\(name) did not start")
    }

    private func waitForFullMesh(timeoutSeconds: Double) throws {
        let limit = deadline(after: timeoutSeconds)
        if servers.allSatisfy({ $0.monitorPort != nil }) {
            var counts: [Int] = []
            // A server without a usable /routez is given two seconds, then probed instead.
            let routezLimit = deadline(after: 2)
            while monotonicNanos() < limit {
                for server in servers where server.exitStatus() != nil {
                    throw BenchError("\(server.name) \(server.exitStatus() ?? ""): \(server.logTail())")
                }
                counts = servers.map { remoteServerCount(monitorPort: $0.monitorPort!) ?? -1 }
                if counts.allSatisfy({ $0 >= 2 }) { return }
                if counts.contains(-1), monotonicNanos() > routezLimit { break }
                usleep(50_000)
            }
            if !counts.contains(-1) {
                throw BenchError("routes incomplete after \(Int(timeoutSeconds)) s (remotes per node: \(counts))")
            }
        }
        try probeRoute(fromPort: port(0), toPort: port(2), until: limit)
    }

    /// Subscribes on `toPort` and publishes on `fromPort` every 20 ms until one message arrives.
    func probeRoute(fromPort: Int, toPort: Int, until limit: UInt64) throws {
        let subscriber = try ClientSocket(port: toPort)
        var subscriberScanner = InboundScanner()
        try subscriber.handshake(extra: "SUB bench.route.probe 2\r\n", scanner: &subscriberScanner)
        let publisher = try ClientSocket(port: fromPort)
        var publisherScanner = InboundScanner()
        try publisher.handshake(scanner: &publisherScanner)
        subscriber.setReadTimeout(seconds: 0.02)
        while subscriberScanner.probeMessages == 0 {
            if monotonicNanos() > limit { throw BenchError("no route: probe from s1 never reached s3") }
            try publisher.write("PUB bench.route.probe 0\r\n\r\n")
            try subscriber.readOnce(into: &subscriberScanner)
        }
    }
}

/// Number of distinct remote servers in `/routez` (pooled routes count once), or nil when the
/// endpoint does not answer with JSON.
func remoteServerCount(monitorPort: Int) -> Int? {
    guard let body = try? httpGet(port: monitorPort, path: "/routez"),
          let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
          let routes = json["routes"] as? [[String: Any]]
    else {
        return nil
    }
    let remotes = Set(routes.compactMap { ($0["remote_id"] as? String) ?? ($0["remote_name"] as? String) })
    return remotes.count
}

/// A minimal HTTP/1.0 GET on loopback; returns the body.
func httpGet(port: Int, path: String) throws -> [UInt8] {
    let socket = try ClientSocket(port: port, timeoutSeconds: 2, readBufferSize: 4096)
    try socket.write("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let received = chunk.withUnsafeMutableBytes { recv(socket.fd, $0.baseAddress, $0.count, 0) }
        if received > 0 {
            response += chunk[0..<received]
        } else if received == 0 {
            break
        } else if errno != EINTR {
            throw BenchError("http read: \(String(cString: strerror(errno)))")
        }
    }
    let separator: [UInt8] = [13, 10, 13, 10]
    guard response.count >= 4, let split = (0...(response.count - 4)).first(where: { Array(response[$0..<$0 + 4]) == separator }) else {
        throw BenchError("malformed HTTP response")
    }
    guard response.starts(with: Array("HTTP/1.1 200".utf8)) || response.starts(with: Array("HTTP/1.0 200".utf8)) else {
        throw BenchError("HTTP status not 200")
    }
    return Array(response[(split + 4)...])
}
