/// One complete copy of the subscription index: the trie of subject tokens, how many changes it has
/// had, and the subjects of the most recent ones.
///
/// `SharedSublist` keeps two and lets one writer at a time change the one no reader walks (see its
/// doc comment). A trie is therefore either written by that writer or read by any number of readers,
/// never both, and needs no synchronisation of its own.
@usableFromInline
final class SubjectTrie<Entry: SublistEntry> {
    /// How many recent changes each trie remembers, so a matcher at most this far behind patches its
    /// cache instead of flushing it.
    @usableFromInline static var recentChangeCapacity: Int { 64 }

    @usableFromInline let root = SubjectLevel<Entry>()
    /// Successful inserts and removes applied so far (the sublist generation this trie is at).
    @usableFromInline @exclusivity(unchecked) var generation: UInt64 = 0
    /// `recentChanges[g % recentChangeCapacity]` is the change that made generation `g`, for the
    /// last `recentChangeCapacity` generations.
    @usableFromInline @exclusivity(unchecked) var recentChanges: ContiguousArray<SubjectChange>

    init() {
        recentChanges = ContiguousArray(
            repeating: SubjectChange(subject: [], hasWildcard: false), count: Self.recentChangeCapacity)
    }

    /// True when no node is left below the root.
    var isEmpty: Bool { root.isEmpty && root.literals.capacity == 0 }

    /// The change that made generation `generation`; it must be among the last `recentChangeCapacity`.
    @inlinable
    func change(at generation: UInt64) -> SubjectChange {
        recentChanges[Int(truncatingIfNeeded: generation % UInt64(Self.recentChangeCapacity))]
    }

    /// Counts one change and remembers its subject.
    func record(_ change: SubjectChange) {
        generation &+= 1
        recentChanges[Int(truncatingIfNeeded: generation % UInt64(Self.recentChangeCapacity))] = change
    }

    /// Stores `entry` under the (valid, subscription) subject `tokens`; it must not be stored yet.
    func insert(_ entry: Entry, tokens: UnsafeBufferPointer<SubjectToken>) {
        var level = root
        var node = level.childCreating(for: tokens[0])
        for token in tokens.dropFirst() {
            level = node.nextCreating()
            node = level.childCreating(for: token)
        }
        assert(!node.contains(entry), "Sublist.insert: entry is already stored")
        node.add(entry)
    }

    /// Removes `entry` (by identity) from under `tokens` and prunes what is left empty; false when absent.
    func remove(_ entry: Entry, tokens: UnsafeBufferPointer<SubjectToken>) -> Bool {
        // The levels walked, so empty nodes can be pruned bottom-up; unmanaged, as the trie keeps them alive.
        withUnsafeTemporaryAllocation(of: Unmanaged<SubjectLevel<Entry>>.self, capacity: tokens.count) { levels in
            var level: SubjectLevel<Entry>? = root
            var node: SubjectNode<Entry>?
            for depth in 0..<tokens.count {
                guard let current = level, let child = current.child(for: tokens[depth]) else { return false }
                levels.initializeElement(at: depth, to: .passUnretained(current))
                node = child
                level = child.next
            }
            guard let node, node.remove(entry) else { return false }
            // Unmanaged is trivial: the buffer needs no deinitialisation.
            prune(levels: UnsafeBufferPointer(levels), tokens: tokens)
            return true
        }
    }

    /// Drops nodes left without entries or children, deepest first.
    private func prune(levels: UnsafeBufferPointer<Unmanaged<SubjectLevel<Entry>>>, tokens: UnsafeBufferPointer<SubjectToken>) {
        for depth in (0..<tokens.count).reversed() {
            let level = levels[depth].takeUnretainedValue()
            guard let node = level.child(for: tokens[depth]) else { return }
            if let next = node.next, next.isEmpty { node.next = nil }
            guard !node.hasEntries && node.next == nil else { return }
            level.removeChild(for: tokens[depth])
        }
    }

    /// Calls `body` with every stored entry; order unspecified.
    func forEachEntry(_ body: (Entry) -> Void) {
        root.forEachNode { node in
            for entry in node.plain { body(entry) }
            for group in node.queueMembers {
                for entry in group { body(entry) }
            }
        }
    }
}

/// One insert or remove as matchers need to hear of it: which cached subjects it can make stale.
@usableFromInline
struct SubjectChange {
    /// The subscription subject: a copy the tries own, so only writers ever free it.
    @usableFromInline var subject: [UInt8]
    /// Whether `subject` has a `*` or `>` token (then it can affect many cached subjects).
    @usableFromInline var hasWildcard: Bool

    @usableFromInline
    init(subject: [UInt8], hasWildcard: Bool) {
        self.subject = subject
        self.hasWildcard = hasWildcard
    }
}
