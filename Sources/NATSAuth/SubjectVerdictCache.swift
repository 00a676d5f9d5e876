/// A bounded map from subject bytes to a one-byte verdict, for the permission checks of one connection.
///
/// A lookup hashes the borrowed subject (FNV-1a) and compares it in place: no allocation, no reference
/// counting, a few dozen instructions for a short subject (a `Dictionary` with `Hasher` cost about 700 per
/// check). A store copies the subject once. Open addressing with linear probing, at most half full.
///
/// Bounded as nats-server bounds its permission caches (client.go `maxPermCacheSize` 128 for publish,
/// `maxDenyPermCacheSize` 256 for delivery): a store into a full cache first empties it. (nats-server drops
/// 32 random entries instead; a connection cycling through more subjects than the bound misses either way.)
final class SubjectVerdictCache {
    private struct Slot {
        var hash: UInt64
        /// nil marks an empty slot.
        var key: UnsafeMutablePointer<UInt8>?
        var keyCount: Int
        var verdict: UInt8
    }

    /// Most entries kept.
    let limit: Int
    // Used by one loop and never accessed overlappingly: no dynamic exclusivity check per lookup (each
    // would cost more than the lookup itself in this checked module).
    @exclusivity(unchecked) private var slots: UnsafeMutablePointer<Slot>?
    /// Number of slots: 0 or a power of two, at most twice `limit` rounded up.
    @exclusivity(unchecked) private var capacity = 0
    @exclusivity(unchecked) private(set) var count = 0
    /// The slot of the last hit, compared first: a connection publishing to one subject over and over skips
    /// the hash (-1: none).
    @exclusivity(unchecked) private var lastHit = -1

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    deinit {
        removeAll()
        slots?.deallocate()
    }

    /// FNV-1a over the subject's bytes.
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return hash }
        var offset = 0
        while offset < bytes.count {
            hash = (hash ^ UInt64(base[offset])) &* 0x0000_0100_0000_01B3
            offset &+= 1
        }
        return hash
    }

    func verdict(for subject: UnsafeRawBufferPointer) -> UInt8? {
        guard count > 0, let slots else { return nil }
        if lastHit >= 0 {
            let slot = slots[lastHit]
            if slot.keyCount == subject.count, let key = slot.key, Self.memoryEqual(key, subject) { return slot.verdict }
        }
        let hash = Self.hash(subject)
        let mask = capacity &- 1
        var index = Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
        while true {
            let slot = slots[index]
            guard let key = slot.key else { return nil }
            if slot.hash == hash && slot.keyCount == subject.count && Self.memoryEqual(key, subject) {
                lastHit = index
                return slot.verdict
            }
            index = (index &+ 1) & mask
        }
    }

    /// Stores `verdict` for `subject`, which must not be cached yet (`verdict(for:)` said nil).
    func store(_ verdict: UInt8, for subject: UnsafeRawBufferPointer) {
        if count >= limit { removeAll() }
        if (count + 1) * 2 > capacity { grow() }
        guard let slots else { return }
        let hash = Self.hash(subject)
        let mask = capacity &- 1
        var index = Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
        while slots[index].key != nil { index = (index &+ 1) & mask }
        let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, subject.count))
        if let base = subject.baseAddress { copy.initialize(from: base.assumingMemoryBound(to: UInt8.self), count: subject.count) }
        slots[index] = Slot(hash: hash, key: copy, keyCount: subject.count, verdict: verdict)
        count += 1
    }

    /// Empties the cache, keeping its slots.
    func removeAll() {
        guard let slots else { return }
        for index in 0..<capacity {
            slots[index].key?.deallocate()
            slots[index] = Slot(hash: 0, key: nil, keyCount: 0, verdict: 0)
        }
        count = 0
        lastHit = -1
    }

    /// Doubles the slots (8 to start, up to twice `limit`), re-placing every entry.
    private func grow() {
        let newCapacity = max(8, capacity * 2)
        let newSlots = UnsafeMutablePointer<Slot>.allocate(capacity: newCapacity)
        newSlots.initialize(repeating: Slot(hash: 0, key: nil, keyCount: 0, verdict: 0), count: newCapacity)
        let mask = newCapacity - 1
        if let slots {
            for index in 0..<capacity where slots[index].key != nil {
                var target = Int(truncatingIfNeeded: slots[index].hash ^ (slots[index].hash >> 29)) & mask
                while newSlots[target].key != nil { target = (target &+ 1) & mask }
                newSlots[target] = slots[index]
            }
            slots.deallocate()
        }
        slots = newSlots
        capacity = newCapacity
        lastHit = -1
    }

    private static func memoryEqual(_ key: UnsafeMutablePointer<UInt8>, _ subject: UnsafeRawBufferPointer) -> Bool {
        guard let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return true }
        var offset = 0
        while offset < subject.count {
            if key[offset] != base[offset] { return false }
            offset &+= 1
        }
        return true
    }
}
