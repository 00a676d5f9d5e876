/// An open-addressing hash table keyed by byte strings and looked up by borrowed bytes without allocating.
///
/// Linear probing with backward-shift deletion (no tombstones), load factor at most one half. Used for
/// the literal children of a trie level (keyed by token) and for the match cache (keyed by subject).
/// The caller supplies the key's hash so one hash computation serves the whole lookup.
///
/// Slots are trivial (raw key bytes, unmanaged value), so a lookup does no reference counting; the
/// table owns the key copies and one retain per value, released on removal and in `deinit`. Values are
/// plain `AnyObject`s (callers `unsafeDowncast` them back): a non-generic table is compiled once, fully
/// optimised, instead of running unspecialised with generic metadata look-ups per call.
@usableFromInline
final class ByteKeyTable {
    @usableFromInline
    struct Slot {
        @usableFromInline var hash: UInt64
        @usableFromInline var key: UnsafeMutablePointer<UInt8>?
        @usableFromInline var keyCount: Int
        /// nil marks an empty slot.
        @usableFromInline var value: Unmanaged<AnyObject>?

        @usableFromInline static var empty: Slot { Slot(hash: 0, key: nil, keyCount: 0, value: nil) }
    }

    // Loop-confined and never accessed overlappingly: no dynamic exclusivity checks per lookup.
    @usableFromInline @exclusivity(unchecked) var slots: UnsafeMutablePointer<Slot>?
    /// Number of slots: 0 or a power of two.
    @usableFromInline @exclusivity(unchecked) var capacity = 0
    @usableFromInline @exclusivity(unchecked) var count = 0

    @usableFromInline init() {}

    deinit {
        removeAllEntries()
    }

    /// The preferred slot of a hash; folds the high bits in because FNV's low bits mix weakly.
    @inlinable
    static func home(of hash: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
    }

    /// The slot holding `key`, if present.
    @inlinable
    func index(of key: UnsafePointer<UInt8>, count keyCount: Int, hash: UInt64) -> Int? {
        guard count > 0, let slots else { return nil }
        let mask = capacity &- 1
        var index = Self.home(of: hash, mask: mask)
        while slots[index].value != nil {
            if slots[index].hash == hash && slots[index].keyCount == keyCount
                && Self.bytesEqual(slots[index].key.unsafelyUnwrapped, key, keyCount)
            {
                return index
            }
            index = (index &+ 1) & mask
        }
        return nil
    }

    /// The value stored under `key`, if any.
    @inlinable
    func value(for key: UnsafePointer<UInt8>, count keyCount: Int, hash: UInt64) -> AnyObject? {
        guard let index = index(of: key, count: keyCount, hash: hash) else { return nil }
        return slots.unsafelyUnwrapped[index].value.unsafelyUnwrapped.takeUnretainedValue()
    }

    @inlinable
    static func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var index = 0
        while index < count {
            if a[index] != b[index] { return false }
            index &+= 1
        }
        return true
    }

    /// Stores `value` under a copy of `key`, which must not be present yet.
    @usableFromInline
    func insert(key: UnsafePointer<UInt8>, count keyCount: Int, hash: UInt64, value: AnyObject) {
        assert(index(of: key, count: keyCount, hash: hash) == nil, "ByteKeyTable: key inserted twice")
        if (count + 1) * 2 > capacity { resize(to: Swift.max(4, capacity * 2)) }
        let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: Swift.max(1, keyCount))
        copy.initialize(from: key, count: keyCount)
        place(Slot(hash: hash, key: copy, keyCount: keyCount, value: Unmanaged.passRetained(value)))
        count += 1
    }

    /// Removes the entry at `index` and shifts later entries of its probe run back into the hole.
    @usableFromInline
    func remove(at index: Int) {
        let slots = self.slots.unsafelyUnwrapped
        slots[index].key?.deallocate()
        slots[index].value?.release()
        let mask = capacity - 1
        var hole = index
        var probe = index
        while true {
            probe = (probe + 1) & mask
            guard slots[probe].value != nil else { break }
            let home = Self.home(of: slots[probe].hash, mask: mask)
            // The entry may fill the hole when the hole lies between its home and where it sits now.
            if (probe - home) & mask >= (probe - hole) & mask {
                slots[hole] = slots[probe]
                hole = probe
            }
        }
        slots[hole] = .empty
        count -= 1
    }

    /// Removes the entry stored under `key`; returns false when absent.
    @usableFromInline
    @discardableResult
    func remove(key: UnsafePointer<UInt8>, count keyCount: Int, hash: UInt64) -> Bool {
        guard let index = index(of: key, count: keyCount, hash: hash) else { return false }
        remove(at: index)
        return true
    }

    /// Removes every entry for which `shouldRemove` is true; returns how many went.
    @usableFromInline
    @discardableResult
    func removeAll(where shouldRemove: (_ key: UnsafeBufferPointer<UInt8>, _ value: AnyObject) -> Bool) -> Int {
        var removed = 0
        var index = 0
        // After a removal the same index is checked again: the backward shift may have moved an
        // unvisited entry into it. Entries shifted from already visited slots are merely re-checked.
        while index < capacity {
            let slot = slots.unsafelyUnwrapped[index]
            if let value = slot.value,
                shouldRemove(UnsafeBufferPointer(start: slot.key, count: slot.keyCount), value.takeUnretainedValue())
            {
                remove(at: index)
                removed += 1
            } else {
                index += 1
            }
        }
        return removed
    }

    /// Removes one occupied slot at or after `start` (wrapping); the table must not be empty.
    @usableFromInline
    func removeOne(near start: Int) {
        precondition(count > 0, "removeOne on an empty table")
        let slots = self.slots.unsafelyUnwrapped
        let mask = capacity - 1
        var index = start & mask
        while slots[index].value == nil { index = (index + 1) & mask }
        remove(at: index)
    }

    /// Frees the slot array when empty and halves it while mostly empty, so pruned levels give memory back.
    @usableFromInline
    func shrinkIfSparse() {
        if count == 0 {
            removeAllEntries()
        } else if capacity > 8 && count * 8 <= capacity {
            resize(to: capacity / 2)
        }
    }

    /// Removes every entry but keeps the slot array, for a table that will fill up again (a flushed cache).
    @usableFromInline
    func removeAllKeepingCapacity() {
        guard let slots, count > 0 else { return }
        for index in 0..<capacity where slots[index].value != nil {
            slots[index].key?.deallocate()
            slots[index].value?.release()
            slots[index] = .empty
        }
        count = 0
    }

    /// Calls `body` with every stored value, in slot order.
    @usableFromInline
    func forEachValue(_ body: (AnyObject) -> Void) {
        for index in 0..<capacity {
            if let value = slots.unsafelyUnwrapped[index].value { body(value.takeUnretainedValue()) }
        }
    }

    private func removeAllEntries() {
        guard let slots else { return }
        for index in 0..<capacity {
            slots[index].key?.deallocate()
            slots[index].value?.release()
        }
        slots.deallocate()
        self.slots = nil
        capacity = 0
        count = 0
    }

    private func resize(to newCapacity: Int) {
        let old = slots
        let oldCapacity = capacity
        let fresh = UnsafeMutablePointer<Slot>.allocate(capacity: newCapacity)
        fresh.initialize(repeating: .empty, count: newCapacity)
        slots = fresh
        capacity = newCapacity
        guard let old else { return }
        // Slots are trivial: moving them moves ownership of their key and value.
        for index in 0..<oldCapacity where old[index].value != nil { place(old[index]) }
        old.deallocate()
    }

    private func place(_ slot: Slot) {
        let slots = self.slots.unsafelyUnwrapped
        let mask = capacity - 1
        var index = Self.home(of: slot.hash, mask: mask)
        while slots[index].value != nil { index = (index + 1) & mask }
        slots[index] = slot
    }
}
