/// One level of the subject trie: the children for one token position.
///
/// Literal tokens live in a hash table keyed by token bytes; the two wildcards have their own slots,
/// so a published token (even a literal `*` or `>`) is only ever looked up in `literals`.
///
/// Trie properties opt out of dynamic exclusivity checks: a trie copy is written only by the one
/// writer `SharedSublist` lets in (and then no reader is inside it) and otherwise only read, so no
/// access overlaps a write, and the checks would otherwise dominate a match walk.
@usableFromInline
final class SubjectLevel<Entry: SublistEntry> {
    @usableFromInline let literals = ByteKeyTable()
    /// The child for a `*` token.
    @usableFromInline @exclusivity(unchecked) var singleWildcard: SubjectNode<Entry>?
    /// The child for a `>` token (always a leaf: `>` is the last token).
    @usableFromInline @exclusivity(unchecked) var tailWildcard: SubjectNode<Entry>?

    @inlinable init() {}

    var isEmpty: Bool { literals.count == 0 && singleWildcard == nil && tailWildcard == nil }

    /// The literal child for a published token.
    @inlinable
    func literal(_ token: SubjectToken) -> SubjectNode<Entry>? {
        guard let node = literals.value(for: token.start, count: token.count, hash: token.hash) else { return nil }
        // Only nodes of this level's type are ever stored in `literals`.
        return unsafeDowncast(node, to: SubjectNode<Entry>.self)
    }

    /// The child for a subscription token (wildcards by kind), if present.
    func child(for token: SubjectToken) -> SubjectNode<Entry>? {
        if token.isSingleWildcard { return singleWildcard }
        if token.isTailWildcard { return tailWildcard }
        return literal(token)
    }

    /// The child for a subscription token, created when missing.
    func childCreating(for token: SubjectToken) -> SubjectNode<Entry> {
        if let existing = child(for: token) { return existing }
        let node = SubjectNode<Entry>()
        if token.isSingleWildcard {
            singleWildcard = node
        } else if token.isTailWildcard {
            tailWildcard = node
        } else {
            literals.insert(key: token.start, count: token.count, hash: token.hash, value: node)
        }
        return node
    }

    /// Drops the child for a subscription token.
    func removeChild(for token: SubjectToken) {
        if token.isSingleWildcard {
            singleWildcard = nil
        } else if token.isTailWildcard {
            tailWildcard = nil
        } else {
            literals.remove(key: token.start, count: token.count, hash: token.hash)
            literals.shrinkIfSparse()
        }
    }

    /// Calls `body` with every node below this level.
    func forEachNode(_ body: (SubjectNode<Entry>) -> Void) {
        literals.forEachValue { unsafeDowncast($0, to: SubjectNode<Entry>.self).forEachNode(body) }
        singleWildcard?.forEachNode(body)
        tailWildcard?.forEachNode(body)
    }
}

/// The subscriptions whose subject ends at one trie position, plus the level below it.
///
/// Queue members are kept grouped by queue name (parallel arrays), so a match only merges groups.
@usableFromInline
final class SubjectNode<Entry: SublistEntry> {
    @usableFromInline @exclusivity(unchecked) var plain: ContiguousArray<Entry> = []
    @usableFromInline @exclusivity(unchecked) var queueNames: ContiguousArray<[UInt8]> = []
    /// `queueMembers[i]` are the members of the group named `queueNames[i]`; never empty.
    @usableFromInline @exclusivity(unchecked) var queueMembers: ContiguousArray<ContiguousArray<Entry>> = []
    @usableFromInline @exclusivity(unchecked) var next: SubjectLevel<Entry>?

    @inlinable init() {}

    /// True when some subscription ends here.
    @inlinable var hasEntries: Bool { !plain.isEmpty || !queueNames.isEmpty }

    /// The level below, created when missing.
    func nextCreating() -> SubjectLevel<Entry> {
        if let next { return next }
        let level = SubjectLevel<Entry>()
        next = level
        return level
    }

    func add(_ entry: Entry) {
        guard let queue = entry.queue else {
            plain.append(entry)
            return
        }
        if let group = queueNames.firstIndex(of: queue) {
            queueMembers[group].append(entry)
        } else {
            // A copy the trie owns, not the entry's buffer: readers compare it on other threads, so
            // only the writer (after readers left) may ever free it.
            queueNames.append(queue.withUnsafeBufferPointer { [UInt8]($0) })
            queueMembers.append([entry])
        }
    }

    /// Removes `entry` by identity; false when it is not stored here.
    func remove(_ entry: Entry) -> Bool {
        guard let queue = entry.queue else {
            guard let index = Self.index(of: entry, in: plain) else { return false }
            plain.remove(at: index)
            return true
        }
        guard let group = queueNames.firstIndex(of: queue),
            let index = Self.index(of: entry, in: queueMembers[group])
        else { return false }
        queueMembers[group].remove(at: index)
        if queueMembers[group].isEmpty {
            queueMembers.remove(at: group)
            queueNames.remove(at: group)
        }
        return true
    }

    /// Whether `entry` (by identity) is stored here.
    func contains(_ entry: Entry) -> Bool {
        guard let queue = entry.queue else { return Self.index(of: entry, in: plain) != nil }
        guard let group = queueNames.firstIndex(of: queue) else { return false }
        return Self.index(of: entry, in: queueMembers[group]) != nil
    }

    /// Where `entry` (by identity) sits in `entries`. Compares the stored references as raw pointers,
    /// so a scan of a large fan-out list (10 000 subscribers of one subject) retains nothing; with
    /// `firstIndex { $0 === entry }` it cost one retain/release per element.
    static func index(of entry: Entry, in entries: ContiguousArray<Entry>) -> Int? {
        let target = UnsafeRawPointer(Unmanaged.passUnretained(entry).toOpaque())
        return entries.withUnsafeBufferPointer { buffer -> Int? in
            guard let base = buffer.baseAddress else { return nil }
            // A class reference is one pointer; a raw load of its bits does not touch the reference count.
            let references = UnsafeRawPointer(base)
            let stride = MemoryLayout<Entry>.stride
            var index = 0
            while index < buffer.count {
                if references.load(fromByteOffset: index &* stride, as: UnsafeRawPointer.self) == target { return index }
                index &+= 1
            }
            return nil
        }
    }

    /// Calls `body` with this node and every node below it.
    func forEachNode(_ body: (SubjectNode<Entry>) -> Void) {
        body(self)
        next?.forEachNode(body)
    }
}
