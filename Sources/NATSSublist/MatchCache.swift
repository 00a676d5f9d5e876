import NATSProtocol

/// A bounded cache from published subject to its `SublistResult`, owned by one `SublistMatcher`.
///
/// Lookups hash the borrowed subject bytes and compare them in place, so a hit allocates nothing; a
/// store copies the key once. When full, one pseudo-random entry is evicted per store, which keeps the
/// cache at its bound without the miss storm of a large sweep.
@usableFromInline
struct MatchCache<Entry: SublistEntry> {
    /// Most entries kept; 0 disables the cache.
    @usableFromInline let capacity: Int
    @usableFromInline let table = ByteKeyTable()
    /// xorshift state choosing eviction victims; fixed seed keeps runs reproducible.
    @usableFromInline var evictionState: UInt64 = 0x9E37_79B9_7F4A_7C15

    @usableFromInline
    init(capacity: Int) {
        self.capacity = Swift.max(0, capacity)
    }

    @inlinable var isEnabled: Bool { capacity > 0 }
    @inlinable var count: Int { table.count }

    @inlinable
    func result(for subject: ByteSlice, hash: UInt64) -> SublistResult<Entry>? {
        guard let result = table.value(for: subject.start, count: subject.count, hash: hash) else { return nil }
        // Only results of this sublist's type are ever stored in `table`.
        return unsafeDowncast(result, to: SublistResult<Entry>.self)
    }

    /// Caches `result` for a subject that is not cached yet, evicting one entry when full.
    @usableFromInline
    mutating func store(_ result: SublistResult<Entry>, for subject: ByteSlice, hash: UInt64) {
        if table.count >= capacity {
            evictionState ^= evictionState << 13
            evictionState ^= evictionState >> 7
            evictionState ^= evictionState << 17
            table.removeOne(near: Int(truncatingIfNeeded: evictionState))
        }
        table.insert(key: subject.start, count: subject.count, hash: hash, value: result)
    }

    /// Drops every cached result.
    func removeAll() {
        table.removeAllKeepingCapacity()
    }

    /// Drops what a change to subscriptions on `subject` makes stale: for a literal subject only its own
    /// entry, for a wildcard subject every cached subject it matches.
    func invalidate(subject: UnsafeBufferPointer<UInt8>, hasWildcard: Bool) {
        guard table.count > 0, let base = subject.baseAddress else { return }
        if hasWildcard {
            table.removeAll { key, _ in SubjectBytes.literal(key, isMatchedBy: subject) }
        } else {
            table.remove(key: base, count: subject.count, hash: SubjectBytes.hash(base, subject.count))
        }
    }

    /// Largest and mean fan-out over the cached results.
    var fanout: (max: Int, average: Double) {
        var maximum = 0
        var total = 0
        table.forEachValue { value in
            let result = unsafeDowncast(value, to: SublistResult<Entry>.self)
            maximum = Swift.max(maximum, result.fanout)
            total += result.fanout
        }
        return (maximum, table.count == 0 ? 0 : Double(total) / Double(table.count))
    }
}
