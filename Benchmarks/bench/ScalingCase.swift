/// What the scaling table measures (`bench --loops 1,2 --pool 1,3`).
struct ScalingSettings: Sendable, Equatable {
    /// Event-loop counts, in the order given; empty unless `--loops` was given.
    var loops: [Int] = []
    /// Route pool sizes of the chain case (`pool_size` in the cluster block): -1 is one connection
    /// without pooling, 1 and up a pool; 3 is nats-server's default.
    var pools = [3]
    /// Where `--chart` writes the SVG.
    var chartPath: String?
    /// Seconds the publishers of one measured window publish (the window ends when the last
    /// published message has been delivered).
    var durationSeconds = 3.0
    /// Payload of every message: 16 B, the size the targets are stated in.
    var payloadSize = 16

    /// The highest `--loops` value accepted, natsd's own bound (`ServerOptions.maximumLoops`).
    static let maximumLoops = 1024
}

/// One workload of the scaling table, run at every loop count.
enum ScalingCase: Equatable, Sendable {
    /// One node, `count` publishers and `count` subscribers; pair i uses subject `s.i` alone.
    case pairs(count: Int)
    /// One node, one publisher on `s.0` and `subscribers` subscribers on it.
    case fanOut(subscribers: Int)
    /// The 3-node chain (routes s2 → s1, s3 → s2), publisher on s1, subscriber on s3, every node
    /// with `pool_size: pool` in its cluster block.
    case chain(pool: Int)

    /// The cases of one table, in row order: 4 × 4 pairs, fan-out 1 → 8, then one chain per pool size.
    static func all(pools: [Int]) -> [ScalingCase] {
        [.pairs(count: 4), .fanOut(subscribers: 8)] + pools.map { .chain(pool: $0) }
    }

    var title: String {
        switch self {
        case .pairs(let count): return "1 node, \(count) pub × \(count) sub, distinct subjects"
        case .fanOut(let subscribers): return "1 node, fan-out 1 → \(subscribers)"
        case .chain(let pool): return "3-node chain s1 → s3, pool_size \(pool)"
        }
    }

    /// Whether the case runs on a chained cluster rather than a single node.
    var isChain: Bool {
        if case .chain = self { return true }
        return false
    }

    /// The run of this case on `deployment`: publishers on its first node, subscribers on its
    /// first (single node) or third (chain).
    func workload(on deployment: Deployment, settings: ScalingSettings) -> FanWorkload {
        workload(publisherPort: deployment.port(0), subscriberPort: deployment.port(isChain ? 2 : 0), settings: settings)
    }

    /// The run of this case with publishers on `publisherPort` and subscribers on `subscriberPort`.
    func workload(publisherPort: Int, subscriberPort: Int, settings: ScalingSettings) -> FanWorkload {
        let subjects: [String]
        let subscribersPerSubject: Int
        switch self {
        case .pairs(let count):
            subjects = (0..<count).map { "s.\($0)" }
            subscribersPerSubject = 1
        case .fanOut(let subscribers):
            subjects = ["s.0"]
            subscribersPerSubject = subscribers
        case .chain:
            subjects = ["s.0"]
            subscribersPerSubject = 1
        }
        return FanWorkload(
            publisherPort: publisherPort, subscriberPort: subscriberPort,
            subjects: subjects, subscribersPerSubject: subscribersPerSubject,
            payloadSize: settings.payloadSize, publishSeconds: settings.durationSeconds
        )
    }
}

/// How one implementation is told to use L cores: natsd takes `--loops L`; nats-server has no such
/// flag, its equivalent is the Go runtime's `GOMAXPROCS=L` (threads running Go code at once).
enum LoopsControl: Sendable {
    case loopsFlag
    case goMaxProcs

    /// nats-server (and any Go build of it) by its bench label; everything else is natsd-like.
    init(label: String) {
        self = label == "nats-server" ? .goMaxProcs : .loopsFlag
    }

    /// Extra command-line arguments and environment for `loops` loops.
    func tuning(loops: Int) -> NodeTuning {
        switch self {
        case .loopsFlag: return NodeTuning(arguments: ["--loops", "\(loops)"])
        case .goMaxProcs: return NodeTuning(environment: ["GOMAXPROCS": "\(loops)"])
        }
    }
}
