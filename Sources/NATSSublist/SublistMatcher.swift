import NATSProtocol
import Synchronization

/// One event loop's way of matching against a `SharedSublist`: its bounded result cache, counters and
/// read-section slot (nats-server keeps the same per-client L1 cache, `c.in.results` with `genid`).
///
/// Not `Sendable`: owned and used by one loop (thread) only. Results it returns belong to that loop:
/// they are cached and shared between its matches, must not be mutated and must not be handed to
/// another thread.
///
/// A cache hit compares the remembered generation with the shared one (one atomic load), probes the
/// cache and returns: no lock, no atomic read-modify-write, no allocation. Anything else (a changed
/// generation, a miss, `matchUncached`) is done in a read
/// section of the shared sublist; see `SharedSublist` for why that is safe next to a writer.
public final class SublistMatcher<Entry: SublistEntry> {
    @usableFromInline let shared: SharedSublist<Entry>
    @usableFromInline let slot = ReaderSlot()
    /// The value last stored in `slot.sequence` (only this matcher stores it).
    @usableFromInline @exclusivity(unchecked) var sequence: UInt64 = 0
    /// The trie generation the cached results are valid for.
    @usableFromInline @exclusivity(unchecked) var generation: UInt64 = 0
    // Loop-confined and never accessed overlappingly, so the dynamic exclusivity checks on these
    // per-match properties (a large share of a cache hit's cost) are turned off.
    @usableFromInline @exclusivity(unchecked) var cache: MatchCache<Entry>
    /// Returned for every match without subscribers, so those allocate nothing.
    @usableFromInline let emptyResult = SublistResult<Entry>(plain: [], queueGroups: [])
    @usableFromInline @exclusivity(unchecked) var matchCount: UInt64 = 0
    @usableFromInline @exclusivity(unchecked) var cacheHitCount: UInt64 = 0

    /// A matcher for the calling loop.
    /// - Parameter cacheCapacity: most match results kept; 0 disables the cache.
    public init(_ shared: SharedSublist<Entry>, cacheCapacity: Int = 1024) {
        self.shared = shared
        cache = MatchCache(capacity: cacheCapacity)
        shared.register(slot)
    }

    deinit {
        shared.unregister(slot)
    }

    /// All subscriptions matching a literal published subject.
    ///
    /// No allocation, lock or atomic read-modify-write on a cache hit; a miss may allocate the new
    /// result. Tokens of a published subject are literal: `foo.*` published matches subscriptions
    /// `foo.*`, `*.*`, `foo.>` and `>`. A subject with an empty token (`a..b`) matches nothing.
    @inlinable
    public func match(_ subject: ByteSlice) -> SublistResult<Entry> {
        matchCount &+= 1
        guard cache.isEnabled else { return matchInTrie(subject) }
        let hash = SubjectBytes.hash(subject.start, subject.count)
        if shared.generationCounter.load(ordering: .acquiring) == generation,
            let cached = cache.result(for: subject, hash: hash)
        {
            cacheHitCount &+= 1
            return cached
        }
        return matchAfterMiss(subject, hash: hash)
    }

    /// Like `match`, but neither reads nor fills the cache: for one-off lookups (a no-responders
    /// status to a unique inbox) that would only evict useful entries.
    @inlinable
    public func matchUncached(_ subject: ByteSlice) -> SublistResult<Entry> {
        matchInTrie(subject)
    }

    /// All subscriptions matching a literal published subject (convenience for tests and monitoring).
    public func match(_ subject: [UInt8]) -> SublistResult<Entry> {
        subject.withUnsafeBufferPointer { match(ByteSlice(UnsafeRawBufferPointer($0))) }
    }

    /// Match counts of this matcher with the shared counts; brings the cache up to date first, so
    /// `cacheEntries` and fan-out describe results that are still valid.
    public var stats: SublistStats {
        withReadSection { trie in synchronize(with: trie) }
        let fanout = cache.fanout
        let changes = shared.changeCounts
        return SublistStats(
            count: shared.count, inserts: changes.inserts, removes: changes.removes, matches: matchCount,
            cacheHits: cacheHitCount, cacheEntries: cache.count, maxFanout: fanout.max,
            averageFanout: fanout.average)
    }

    /// The cache path after a miss or a changed generation: catch up with the trie, answer from the
    /// cache if the entry is there (survived the catch-up), else walk and cache. Kept out of line so the
    /// hit path stays small.
    ///
    /// The cache is probed even when the trie's generation is already this matcher's: a writer stores
    /// the shared counter just after it swaps the active trie, so in between the hit path can miss on a
    /// counter that lags a trie this matcher already caught up with. Walking and storing then would put
    /// a second entry under the key; invalidation removes one, and the other answered stale results
    /// until the next flush (found by the sublist stress test under ThreadSanitizer: a removed
    /// subscription kept matching).
    @inlinable @inline(never)
    func matchAfterMiss(_ subject: ByteSlice, hash: UInt64) -> SublistResult<Entry> {
        withReadSection { trie in
            if trie.generation != generation { synchronize(with: trie) }
            if let cached = cache.result(for: subject, hash: hash) {
                cacheHitCount &+= 1
                return cached
            }
            switch trie.match(subject) {
            case .malformed:
                return emptyResult
            case .nothing:
                cache.store(emptyResult, for: subject, hash: hash)
                return emptyResult
            case .found(let result):
                cache.store(result, for: subject, hash: hash)
                return result
            }
        }
    }

    /// A walk of the current trie without the cache.
    @inlinable
    func matchInTrie(_ subject: ByteSlice) -> SublistResult<Entry> {
        withReadSection { trie in
            if case .found(let result) = trie.match(subject) { return result }
            return emptyResult
        }
    }

    /// Runs `body` with the active trie, announced in `slot` so no writer changes that trie meanwhile.
    /// `body` must not keep references into the trie past its return, and must not write to the
    /// sublist (the writer would wait for this very section).
    @inlinable
    func withReadSection<Result>(_ body: (SubjectTrie<Entry>) -> Result) -> Result {
        sequence &+= 1
        slot.sequence.store(sequence, ordering: .sequentiallyConsistent)
        let trie = shared.activeTrie.load(ordering: .sequentiallyConsistent) == 0 ? shared.left : shared.right
        let result = body(trie)
        sequence &+= 1
        slot.sequence.store(sequence, ordering: .releasing)
        return result
    }

    /// Brings the cache from `generation` to `trie.generation` (inside a read section on `trie`):
    /// invalidates the subjects of the changes in between, or flushes when that is not possible or
    /// would cost more than refilling.
    @usableFromInline
    func synchronize(with trie: SubjectTrie<Entry>) {
        let target = trie.generation
        guard target != generation else { return }
        defer { generation = target }
        guard cache.count > 0 else { return }
        // The active trie only moves forward, and the matcher only ever adopts its generation.
        assert(target > generation, "SublistMatcher: trie generation went backwards")
        let behind = target &- generation
        guard behind <= UInt64(SubjectTrie<Entry>.recentChangeCapacity) else {
            cache.removeAll()
            return
        }
        // Each wildcard change sweeps the whole cache; past a few, one flush is cheaper.
        var wildcards = 0
        var changed = generation &+ 1
        while changed <= target {
            if trie.change(at: changed).hasWildcard { wildcards &+= 1 }
            changed &+= 1
        }
        guard wildcards <= Self.wildcardChangesPatched else {
            cache.removeAll()
            return
        }
        changed = generation &+ 1
        while changed <= target {
            let change = trie.change(at: changed)
            change.subject.withUnsafeBufferPointer { cache.invalidate(subject: $0, hasWildcard: change.hasWildcard) }
            changed &+= 1
        }
    }

    /// Most wildcard changes a catch-up patches before flushing instead.
    @usableFromInline static var wildcardChangesPatched: Int { 4 }
}
