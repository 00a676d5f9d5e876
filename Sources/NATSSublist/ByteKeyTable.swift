/// An open-addressing hash table keyed by byte strings and looked up by borrowed bytes without allocating.
///
/// Linear probing with backward-shift deletion (no tombstones), load factor at most one half. Used for
/// the literal children of a trie level (keyed by token) and for the match cache (keyed by subject).
/// The caller supplies the key's hash so one hash computation serves the whole lookup.
@usableFromInline
struct ByteKeyTable<Value: AnyObject> {
    @usableFromInline
    struct Slot {
        @usableFromInline var hash: UInt64
        @usableFromInline var key: [UInt8]
        /// nil marks an empty slot.
        @usableFromInline var value: Value?

        @inlinable
        init(hash: UInt64, key: [UInt8], value: Value?) {
            self.hash = hash
            self.key = key
            self.value = value
        }
    }

    @usableFromInline var slots: ContiguousArray<Slot> = []
    @usableFromInline var count = 0

    @inlinable init() {}

    /// The preferred slot of a hash; folds the high bits in because FNV's low bits mix weakly.
    @inlinable
    static func home(of hash: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
    }

    /// The slot holding `key`, if present.
    @inlinable
    func index(of key: UnsafePointer<UInt8>, count keyCount: Int, hash: UInt64) -> Int? {
        if count == 0 { return nil }
        return slots.withUnsafeBufferPointer { buffer in
            let mask = buffer.count &- 1
            var index = Self.home(of: hash, mask: mask)
            while buffer[index].value != nil {
                if buffer[index].hash == hash && SubjectBytes.equal(buffer[index].key, key, keyCount) { return index }
                index = (index &+ 1) & mask
            }
            return nil
        }
    }

    /// The value stored under `key`, if any.
    @inlinable
    func value(for key: UnsafePointer<UInt8>, count keyCount: Int, hash: UInt64) -> Value? {
        guard let index = index(of: key, count: keyCount, hash: hash) else { return nil }
        return slots[index].value
    }

    /// Stores `value` under `key`, which must not be present yet.
    @usableFromInline
    mutating func insert(key: [UInt8], hash: UInt64, value: Value) {
        if (count + 1) * 2 > slots.count { resize(to: Swift.max(4, slots.count * 2)) }
        place(Slot(hash: hash, key: key, value: value))
        count += 1
    }

    /// Removes the entry at `index` and shifts later entries of its probe run back into the hole.
    @usableFromInline
    mutating func remove(at index: Int) {
        let mask = slots.count - 1
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
        slots[hole] = Slot(hash: 0, key: [], value: nil)
        count -= 1
    }

    /// Removes the entry stored under `key`; returns false when absent.
    @usableFromInline
    @discardableResult
    mutating func remove(key: UnsafePointer<UInt8>, count keyCount: Int, hash: UInt64) -> Bool {
        guard let index = index(of: key, count: keyCount, hash: hash) else { return false }
        remove(at: index)
        return true
    }

    /// Removes every entry for which `shouldRemove` is true; returns how many went.
    @usableFromInline
    @discardableResult
    mutating func removeAll(where shouldRemove: (_ key: [UInt8], _ value: Value) -> Bool) -> Int {
        var removed = 0
        var index = 0
        // After a removal the same index is checked again: the backward shift may have moved an
        // unvisited entry into it. Entries shifted from already visited slots are merely re-checked.
        while index < slots.count {
            if let value = slots[index].value, shouldRemove(slots[index].key, value) {
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
    mutating func removeOne(near start: Int) {
        precondition(count > 0, "removeOne on an empty table")
        let mask = slots.count - 1
        var index = start & mask
        while slots[index].value == nil { index = (index + 1) & mask }
        remove(at: index)
    }

    /// Halves the slot array while it is mostly empty, so pruned levels give memory back.
    @usableFromInline
    mutating func shrinkIfSparse() {
        if count == 0 {
            slots = []
        } else if slots.count > 8 && count * 8 <= slots.count {
            resize(to: slots.count / 2)
        }
    }

    /// Calls `body` with every stored value, in slot order.
    @usableFromInline
    func forEachValue(_ body: (Value) -> Void) {
        for slot in slots {
            if let value = slot.value { body(value) }
        }
    }

    @usableFromInline
    mutating func resize(to newCapacity: Int) {
        let old = slots
        slots = ContiguousArray(repeating: Slot(hash: 0, key: [], value: nil), count: newCapacity)
        for slot in old where slot.value != nil { place(slot) }
    }

    @usableFromInline
    mutating func place(_ slot: Slot) {
        let mask = slots.count - 1
        var index = Self.home(of: slot.hash, mask: mask)
        while slots[index].value != nil { index = (index + 1) & mask }
        slots[index] = slot
    }
}
