import Foundation

/// Command line of the `bench` executable.
struct BenchOptions: Equatable {
    enum Mode: Equatable {
        /// The msgs/sec and latency table.
        case throughput
        /// Server memory with many idle connections.
        case connections
        /// Seconds for an N-node chain to become a full mesh, and route churn afterwards.
        case mesh
        /// msgs/s and CPU per message against the number of event loops (`--loops`).
        case scaling
        /// One implementation's 3-node chain under a steady load for minutes: RSS, CPU, latency, loss.
        case soak
    }

    /// Scenario groups that can be selected with `--only`; `tls` holds every TLS row (client TLS on one
    /// node, route TLS in the 3-node chain, connection setups per second).
    enum Group: String, CaseIterable {
        case pub, pubsub, cluster, latency, tls
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
    /// What `--loops`, `--pool`, `--chart` and `--duration` ask of the scaling table.
    var scaling = ScalingSettings()
    /// What `bench soak` runs.
    var soak = SoakSettings()

    static let usage = """
        usage: bench [conns] [options]
          (default)            msgs/sec and latency table, natsd vs nats-server
          conns                server RSS idle and with N connections
          mesh                 seconds for N-node chains to become a full mesh; route churn after it
          soak                 one implementation's 3-node chain under a paced load: a line every few
                               seconds (RSS, CPU, latency, loss), a summary; exit status 1 on loss or RSS growth
        options:
          --runs N             runs per cell, interleaved (default 3)
          --msgs N             messages per run for 16 B payloads (default 2000000; scaled down for bigger)
          --lat-count N        request/reply round trips per latency run (default 10000)
          --count N            connections for `conns` (default 10000)
          --only LIST          comma list of pub,pubsub,cluster,latency,tls (tls: only the TLS rows)
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
        soak options:
          --minutes N          publishing time (default 10; fractions allowed)
          --rate R             messages per second, paced (default 1000)
          --impl NAME          natsd or nats-server (default natsd)
          --every SECS         seconds between report lines (default 5)
          --size BYTES         payload size, at least 16 (default 64)
          --max-rss-growth PCT fail when a node's RSS grows more, first line to last (default 25)
        scaling table (instead of the default table):
          --loops LIST         comma list of event-loop counts: natsd --loops L, nats-server GOMAXPROCS=L
          --pool LIST          route pool sizes for the 3-node chain case, -1 or 1 and up (default 3)
          --duration SECS      publishing time of one measured window (default 3)
          --chart FILE         also write the scaling curves as an SVG
        """

    /// Parses `arguments` (without the program name).
    static func parse(_ arguments: [String]) throws -> BenchOptions {
        var options = BenchOptions()
        var namedMode: String?
        var scalingFlag: String?
        var soakFlag: String?
        var index = 0
        func value(_ flag: String) throws -> String {
            index += 1
            guard index < arguments.count else { throw BenchError("\(flag) needs a value") }
            return arguments[index]
        }
        func positiveNumber(_ flag: String, atMost limit: Double) throws -> Double {
            let text = try value(flag)
            guard let number = Double(text), number > 0, number <= limit else {
                throw BenchError("\(flag) needs a number above 0 and at most \(Int(limit)), got \(text)")
            }
            return number
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
            case "conns":
                options.mode = .connections
                namedMode = argument
            case "mesh":
                options.mode = .mesh
                namedMode = argument
            case "soak":
                options.mode = .soak
                namedMode = argument
            case "--minutes":
                options.soak.minutes = try positiveNumber(argument, atMost: 24 * 60)
                soakFlag = argument
            case "--rate":
                options.soak.rate = try positive(argument)
                soakFlag = argument
            case "--impl":
                let text = try value(argument)
                guard let implementation = SoakSettings.Implementation(rawValue: text) else {
                    throw BenchError("--impl needs natsd or nats-server, got \(text)")
                }
                options.soak.implementation = implementation
                soakFlag = argument
            case "--every":
                options.soak.intervalSeconds = try positiveNumber(argument, atMost: 3600)
                soakFlag = argument
            case "--size":
                options.soak.payloadSize = try positive(argument)
                guard options.soak.payloadSize >= SoakStamp.size else {
                    throw BenchError("--size needs at least \(SoakStamp.size) bytes (the stamp), got \(options.soak.payloadSize)")
                }
                soakFlag = argument
            case "--max-rss-growth":
                options.soak.maxRSSGrowthPercent = try positiveNumber(argument, atMost: 10_000)
                soakFlag = argument
            case "--loops":
                options.scaling.loops = try parseList(
                    value(argument), flag: argument, requirement: "1 to \(ScalingSettings.maximumLoops)"
                ) { (1...ScalingSettings.maximumLoops).contains($0) }
                scalingFlag = argument
            case "--pool":
                options.scaling.pools = try parseList(value(argument), flag: argument, requirement: "-1 or 1 and up") {
                    $0 == -1 || $0 >= 1
                }
                scalingFlag = scalingFlag ?? argument
            case "--duration":
                let text = try value(argument)
                guard let seconds = Double(text), seconds > 0, seconds <= 600 else {
                    throw BenchError("\(argument) needs seconds between 0 and 600, got \(text)")
                }
                options.scaling.durationSeconds = seconds
                scalingFlag = scalingFlag ?? argument
            case "--chart":
                options.scaling.chartPath = try value(argument)
                scalingFlag = scalingFlag ?? argument
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
                        throw BenchError("--only: unknown group \(name) (pub, pubsub, cluster, latency, tls)")
                    }
                    groups.insert(group)
                }
                options.groups = groups
            case "-h", "--help": throw BenchError(usage)
            default: throw BenchError("unknown argument \(argument)\n\(usage)")
            }
            index += 1
        }
        if let soakFlag, options.mode != .soak { throw BenchError("\(soakFlag) belongs to `soak`") }
        // A soak of nats-server has no use for natsd, so it is not built.
        if options.mode == .soak, options.soak.implementation == .natsServer { options.build = false }
        if let scalingFlag {
            if let namedMode { throw BenchError("\(scalingFlag) belongs to the scaling table, not to `\(namedMode)`") }
            guard !options.scaling.loops.isEmpty else { throw BenchError("\(scalingFlag) needs --loops") }
            options.mode = .scaling
        }
        return options
    }

    /// Parses a comma list of integers such as `1,2,4` (spaces around items allowed) for `flag`:
    /// every item must satisfy `allowed` (described by `requirement` in the error) and appear once;
    /// the order is kept.
    static func parseList(
        _ text: String, flag: String, requirement: String, allowed: (Int) -> Bool
    ) throws -> [Int] {
        var numbers: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            guard let number = Int(trimmed), allowed(number) else {
                throw BenchError("\(flag) needs a comma list of integers, each \(requirement); got \(text)")
            }
            guard !numbers.contains(number) else { throw BenchError("\(flag) lists \(number) twice: \(text)") }
            numbers.append(number)
        }
        return numbers
    }

    /// `--msgs` for small payloads; at most 128 B worth of bytes per message for bigger ones, and
    /// never below a twentieth of `--msgs` (16 B and 128 B: 2 M, 1 KiB: 250 k with the defaults).
    func messageCount(for payloadSize: Int) -> Int {
        let scaled = messages * 128 / max(128, payloadSize)
        return min(messages, max(messages / 20, scaled, 1))
    }

    /// Time limit of one run that sends `count` messages of `payloadSize` bytes: 10 µs per message and,
    /// for big payloads, 20 ms per MB (16 KiB over TLS on a loaded 2-core VM ran at 64 MB/s, past the
    /// per-message allowance).
    func timeout(for count: Int, payloadSize: Int = 0) -> Double {
        timeoutSeconds + Double(count) / 100_000 + Double(count) * Double(payloadSize) / 50e6
    }
}

private extension String {
    /// Allows `2_000_000` on the command line.
    func replacingUnderscores() -> String { filter { $0 != "_" } }
}
