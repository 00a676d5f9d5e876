/// Command line of the `bench` executable.
struct BenchOptions: Equatable {
    enum Mode: Equatable {
        /// The msgs/sec and latency table.
        case throughput
        /// Server memory with many idle connections.
        case connections
        /// Seconds for an N-node chain to become a full mesh, and route churn afterwards.
        case mesh
    }

    /// Scenario groups that can be selected with `--only`.
    enum Group: String, CaseIterable {
        case pub, pubsub, cluster, latency
    }

    var mode: Mode = .throughput
    var runs = 3
    /// Message count for 16 B payloads; bigger payloads scale down (see `messageCount(for:)`).
    var messages = 2_000_000
    var latencyRoundTrips = 10_000
    var connectionCount = 10_000
    var build = true
    var natsdPath: String?
    var natsServerPath: String?
    /// Base time limit of one run in seconds (bigger runs get more, see `timeout(for:)`).
    var timeoutSeconds = 30.0
    var groups = Set(Group.allCases)
    var keepLogs = false
    /// Cluster sizes for `mesh`.
    var meshNodeCounts = [10, 20, 40]
    var mesh = MeshSettings()

    static let usage = """
        usage: bench [conns] [options]
          (default)            msgs/sec and latency table, natsd vs nats-server
          conns                server RSS idle and with N connections
          mesh                 seconds for N-node chains to become a full mesh; route churn after it
        options:
          --runs N             runs per cell, interleaved (default 3)
          --msgs N             messages per run for 16 B payloads (default 2000000; scaled down for bigger)
          --lat-count N        request/reply round trips per latency run (default 10000)
          --count N            connections for `conns` (default 10000)
          --only LIST          comma list of pub,pubsub,cluster,latency
          --natsd PATH         natsd binary to use (implies --no-build)
          --nats-server PATH   nats-server binary (default .venv/bin/nats-server, then PATH)
          --no-build           do not run `swift build -c release --product natsd`
          --timeout SECONDS    base time limit of one run (default 30)
          --keep-logs          keep the server logs directory
        mesh options:
          --nodes LIST         comma list of cluster sizes (default 10,20,40)
          --mesh-timeout SECS  give up on the full mesh after this long (default 60)
          --settle SECS        watch for route churn this long after the full mesh (default 5)
          --poll-ms N          pause between /routez poll rounds (default 50)
          --dup-logs           run the servers with -D and count duplicate-route log lines
        """

    /// Parses `arguments` (without the program name).
    static func parse(_ arguments: [String]) throws -> BenchOptions {
        var options = BenchOptions()
        var index = 0
        func value(_ flag: String) throws -> String {
            index += 1
            guard index < arguments.count else { throw BenchError("\(flag) needs a value") }
            return arguments[index]
        }
        func positive(_ flag: String) throws -> Int {
            let text = try value(flag)
            guard let number = Int(text.replacingUnderscores()), number > 0 else {
                throw BenchError("\(flag) needs a positive integer, got \(text)")
            }
            return number
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "conns": options.mode = .connections
            case "mesh": options.mode = .mesh
            case "--nodes":
                let text = try value(argument)
                let counts = text.split(separator: ",").map { Int($0) }
                guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) >= 2 }) else {
                    throw BenchError("--nodes needs a comma list of sizes of at least 2, got \(text)")
                }
                options.meshNodeCounts = counts.compactMap { $0 }
            case "--mesh-timeout": options.mesh.timeoutSeconds = Double(try positive(argument))
            case "--settle": options.mesh.settleSeconds = Double(try positive(argument))
            case "--poll-ms": options.mesh.pollMilliseconds = try positive(argument)
            case "--dup-logs": options.mesh.countDuplicatesInLogs = true
            case "--runs": options.runs = try positive(argument)
            case "--msgs": options.messages = try positive(argument)
            case "--lat-count": options.latencyRoundTrips = try positive(argument)
            case "--count": options.connectionCount = try positive(argument)
            case "--natsd":
                options.natsdPath = try value(argument)
                options.build = false
            case "--nats-server": options.natsServerPath = try value(argument)
            case "--no-build": options.build = false
            case "--keep-logs": options.keepLogs = true
            case "--timeout": options.timeoutSeconds = Double(try positive(argument))
            case "--only":
                var groups = Set<Group>()
                for name in try value(argument).split(separator: ",") {
                    guard let group = Group(rawValue: String(name)) else {
                        throw BenchError("--only: unknown group \(name) (pub, pubsub, cluster, latency)")
                    }
                    groups.insert(group)
                }
                options.groups = groups
            case "-h", "--help": throw BenchError(usage)
            default: throw BenchError("unknown argument \(argument)\n\(usage)")
            }
            index += 1
        }
        return options
    }

    /// `--msgs` for small payloads; at most 128 B worth of bytes per message for bigger ones, and
    /// never below a twentieth of `--msgs` (16 B and 128 B: 2 M, 1 KiB: 250 k with the defaults).
    func messageCount(for payloadSize: Int) -> Int {
        let scaled = messages * 128 / max(128, payloadSize)
        return min(messages, max(messages / 20, scaled, 1))
    }

    /// Time limit of one run that sends `count` messages.
    func timeout(for count: Int) -> Double {
        timeoutSeconds + Double(count) / 100_000
    }
}

private extension String {
    /// Allows `2_000_000` on the command line.
    func replacingUnderscores() -> String { filter { $0 != "_" } }
}
