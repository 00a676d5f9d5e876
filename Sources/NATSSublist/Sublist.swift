import Atomics
import NATSProtocol

/// The subscription index: a trie of subject tokens with queue groups and a bounded match cache.
///
/// Loop-confined (not `Sendable`): one thread inserts, removes and matches. `generation` is atomic so
/// that later, per-thread caches on other loops can tell when their copy went stale.
public final class Sublist<Entry: SublistEntry> {
    @usableFromInline let root = SubjectLevel<Entry>()
    // Loop-confined and never accessed overlappingly, so the dynamic exclusivity checks on these
    // per-match properties (a large share of a cache hit's cost) are turned off.
    @usableFromInline @exclusivity(unchecked) var cache: MatchCache<Entry>
    /// Returned for every empty uncached match, so misses with no interest allocate nothing.
    @usableFromInline let emptyResult = SublistResult<Entry>(plain: [], queueGroups: [])

    @usableFromInline @exclusivity(unchecked) var matchCount: UInt64 = 0
    @usableFromInline @exclusivity(unchecked) var cacheHitCount: UInt64 = 0
    @usableFromInline var insertCount: UInt64 = 0
    @usableFromInline var removeCount: UInt64 = 0
    @usableFromInline var entryCount = 0
    @usableFromInline let generationCounter = ManagedAtomic<UInt64>(0)

    /// - Parameter cacheCapacity: most match results kept; 0 disables the cache.
    public init(cacheCapacity: Int = 1024) {
        cache = MatchCache(capacity: cacheCapacity)
    }

    /// Stored subscriptions.
    public var count: Int { entryCount }

    /// Bumped on every successful insert or remove.
    public var generation: UInt64 { generationCounter.load(ordering: .acquiring) }

    /// Counters and cache figures, as `/subsz` reports them.
    public var stats: SublistStats {
        let fanout = cache.fanout
        return SublistStats(
            count: entryCount, inserts: insertCount, removes: removeCount, matches: matchCount,
            cacheHits: cacheHitCount, cacheEntries: cache.count, maxFanout: fanout.max,
            averageFanout: fanout.average)
    }

    /// Inserts; returns false (and changes nothing) when the subject is not a valid subscription subject.
    ///
    /// An entry must not be inserted twice without a remove in between.
    @discardableResult
    public func insert(_ entry: Entry) -> Bool {
        entry.subject.withUnsafeBufferPointer { subject in
            SubjectBytes.withTokens(ByteSlice(UnsafeRawBufferPointer(subject))) { tokens in
                guard let tokens, SubjectBytes.isValidSubscription(tokens) else { return false }
                // Invalidate first: a cached result may share a node's array, which then stays unique.
                cache.invalidate(subject: subject, hasWildcard: SubjectBytes.hasWildcard(tokens))
                var level = root
                var node = level.childCreating(for: tokens[0])
                for token in tokens.dropFirst() {
                    level = node.nextCreating()
                    node = level.childCreating(for: token)
                }
                assert(!node.contains(entry), "Sublist.insert: entry is already stored")
                node.add(entry)
                entryCount += 1
                insertCount &+= 1
                generationCounter.wrappingIncrement(ordering: .releasing)
                return true
            }
        }
    }

    /// Removes by identity (`===`); returns false when not present.
    @discardableResult
    public func remove(_ entry: Entry) -> Bool {
        entry.subject.withUnsafeBufferPointer { subject in
            SubjectBytes.withTokens(ByteSlice(UnsafeRawBufferPointer(subject))) { tokens in
                guard let tokens else { return false }
                // The levels walked, so empty nodes can be pruned bottom-up afterwards.
                var levels: ContiguousArray<SubjectLevel<Entry>> = []
                levels.reserveCapacity(tokens.count)
                var level: SubjectLevel<Entry>? = root
                var node: SubjectNode<Entry>?
                for token in tokens {
                    guard let current = level, let child = current.child(for: token) else { return false }
                    levels.append(current)
                    node = child
                    level = child.next
                }
                guard let node, node.contains(entry) else { return false }
                cache.invalidate(subject: subject, hasWildcard: SubjectBytes.hasWildcard(tokens))
                _ = node.remove(entry)
                prune(levels: levels, tokens: tokens)
                entryCount -= 1
                removeCount &+= 1
                generationCounter.wrappingIncrement(ordering: .releasing)
                return true
            }
        }
    }

    /// Drops nodes left without entries or children, deepest first.
    private func prune(levels: ContiguousArray<SubjectLevel<Entry>>, tokens: UnsafeBufferPointer<SubjectToken>) {
        for depth in levels.indices.reversed() {
            let level = levels[depth]
            guard let node = level.child(for: tokens[depth]) else { return }
            if let next = node.next, next.isEmpty { node.next = nil }
            guard !node.hasEntries && node.next == nil else { return }
            level.removeChild(for: tokens[depth])
        }
    }

    /// Every stored entry (for replaying interest to a new route and for /subsz); order unspecified.
    public func forEach(_ body: (Entry) -> Void) {
        root.forEachNode { node in
            for entry in node.plain { body(entry) }
            for group in node.queueMembers {
                for entry in group { body(entry) }
            }
        }
    }
}
