/// What the sublist stores: the server's subscription objects (client subs and remote route interest).
public protocol SublistEntry: AnyObject {
    /// The subscription subject, possibly with `*` and `>` wildcard tokens.
    var subject: [UInt8] { get }
    /// nil for a plain subscription.
    var queue: [UInt8]? { get }
}

/// One match: every plain subscriber and every queue group (members sharing a queue name).
///
/// Results are cached and shared between matches of the matcher (loop) that returned them: callers
/// must not mutate them or hand them to another thread. They hold their own copies of the entry
/// references, so keeping one across an insert/remove is safe (it just goes stale). Queue members of one name are merged across every matching subscription subject,
/// as nats-server does (`foo.* q` and `foo.bar q` form one group for a message on `foo.bar`).
public final class SublistResult<Entry: SublistEntry> {
    /// Every matching subscription without a queue name.
    public let plain: ContiguousArray<Entry>
    /// One array per queue name; each array holds every matching member of that group.
    public let queueGroups: ContiguousArray<ContiguousArray<Entry>>

    /// Builds a result; the sublist does this, tests and the route layer may too.
    @inlinable
    public init(plain: ContiguousArray<Entry>, queueGroups: ContiguousArray<ContiguousArray<Entry>>) {
        self.plain = plain
        self.queueGroups = queueGroups
    }

    /// True when nothing matched.
    @inlinable public var isEmpty: Bool { plain.isEmpty && queueGroups.isEmpty }

    /// Plain subscribers plus queue groups: what nats-server calls the fan-out of a result.
    @inlinable public var fanout: Int { plain.count &+ queueGroups.count }
}

/// Counters and cache figures of a sublist, as the `/subsz` monitoring endpoint reports them.
public struct SublistStats: Sendable, Equatable {
    /// Stored subscriptions.
    public var count: Int
    /// Successful inserts since creation.
    public var inserts: UInt64
    /// Successful removes since creation.
    public var removes: UInt64
    /// `match` calls since creation.
    public var matches: UInt64
    /// `match` calls answered from the cache.
    public var cacheHits: UInt64
    /// Results currently cached.
    public var cacheEntries: Int
    /// Largest fan-out (plain subscribers + queue groups) among cached results.
    public var maxFanout: Int
    /// Mean fan-out over cached results; 0 when the cache is empty.
    public var averageFanout: Double

    public init(
        count: Int = 0, inserts: UInt64 = 0, removes: UInt64 = 0, matches: UInt64 = 0, cacheHits: UInt64 = 0,
        cacheEntries: Int = 0, maxFanout: Int = 0, averageFanout: Double = 0
    ) {
        self.count = count
        self.inserts = inserts
        self.removes = removes
        self.matches = matches
        self.cacheHits = cacheHits
        self.cacheEntries = cacheEntries
        self.maxFanout = maxFanout
        self.averageFanout = averageFanout
    }

    /// The fraction of matches answered from the cache (0 when there were none).
    public var cacheHitRate: Double { matches == 0 ? 0 : Double(cacheHits) / Double(matches) }
}
