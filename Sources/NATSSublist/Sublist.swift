import NATSProtocol

/// The subscription index as one loop uses it: a `SharedSublist` plus that loop's `SublistMatcher`.
///
/// The owning loop inserts, removes and matches through this object exactly as through a loop-confined
/// index; the cache hit path is the matcher's (no lock, no atomic read-modify-write). Other loops
/// match against the same subscriptions with matchers of their own, `SublistMatcher(sublist.shared)`,
/// and may insert and remove through `shared` directly.
///
/// Not `Sendable` (the matcher is loop-confined); `shared` is.
public final class Sublist<Entry: SublistEntry> {
    /// The index itself, for other loops' matchers and writers.
    public let shared: SharedSublist<Entry>
    /// The owning loop's matcher.
    public let matcher: SublistMatcher<Entry>

    /// - Parameter cacheCapacity: most match results the owning loop's matcher keeps; 0 disables its cache.
    public init(cacheCapacity: Int = 1024) {
        shared = SharedSublist()
        matcher = SublistMatcher(shared, cacheCapacity: cacheCapacity)
    }

    /// Stored subscriptions.
    public var count: Int { shared.count }

    /// Bumped on every successful insert or remove.
    public var generation: UInt64 { shared.generation }

    /// Counters and cache figures, as `/subsz` reports them (match and cache figures are the owning loop's).
    public var stats: SublistStats { matcher.stats }

    /// Inserts; returns false (and changes nothing) when the subject is not a valid subscription subject.
    ///
    /// An entry must not be inserted twice without a remove in between.
    @discardableResult
    public func insert(_ entry: Entry) -> Bool { shared.insert(entry) }

    /// Removes by identity (`===`); returns false when not present.
    @discardableResult
    public func remove(_ entry: Entry) -> Bool { shared.remove(entry) }

    /// All subscriptions matching a literal published subject; see `SublistMatcher.match`.
    @inlinable
    public func match(_ subject: ByteSlice) -> SublistResult<Entry> { matcher.match(subject) }

    /// Like `match`, but neither reads nor fills the cache: for one-off lookups (a no-responders
    /// status to a unique inbox) that would only evict useful entries.
    @inlinable
    public func matchUncached(_ subject: ByteSlice) -> SublistResult<Entry> { matcher.matchUncached(subject) }

    /// All subscriptions matching a literal published subject (convenience for tests and monitoring).
    public func match(_ subject: [UInt8]) -> SublistResult<Entry> { matcher.match(subject) }

    /// Every stored entry (for replaying interest to a new route and for /subsz); order unspecified.
    /// `body` may insert and remove.
    public func forEach(_ body: (Entry) -> Void) { shared.forEach(body) }
}
