import NATSProtocol
import Synchronization
import UVLoop

/// The subscription index that every event loop shares: any loop inserts and removes (SUB, UNSUB,
/// route interest) and matches, through its own `SublistMatcher`. Writers are serialised by a mutex;
/// matching never takes it, and a cache hit does no atomic read-modify-write at all.
///
/// ## Scheme: two tries ("left-right")
/// The index is kept twice, `left` and `right`, each a complete `SubjectTrie`. Readers walk only the
/// *active* one. A writer changes the *standby* one, makes it active, waits until no reader is still
/// inside the old one, and then applies the same change to that. A reader therefore never walks a
/// trie that is being changed: it cannot see a half-built node, a level table mid-resize or a pruned
/// node being freed. Writers change nodes in place, with the same mutable structures as a loop-confined
/// trie (`ByteKeyTable` levels, appendable entry arrays), so a SUB stays amortised O(depth) even under
/// a level with 10 000 children (unique inboxes) or a subject with 10 000 subscribers. The price is
/// memory (two tries) and doing each write twice, plus the wait for readers mid-walk (a walk is short
/// and never blocks).
///
/// Rejected alternative: an immutable trie swapped atomically, changed by path copying. Copying a
/// level's child map or a node's subscriber list per SUB is O(n) at exactly the shapes above; a
/// persistent map (HAMT) for both would avoid that but make every miss walk slower than one
/// open-addressing probe, and every retired node would be freed by whichever loop dropped the last
/// reference (see "What readers keep").
///
/// ## Who writes what, with which ordering
/// - `lock`: held by `insert`/`remove` throughout, so writers run one at a time.
/// - A trie's nodes, `generation` and `recentChanges`: written by the writer only while that trie is
///   the standby and no reader that may have seen it active is still inside; read by readers inside a
///   read section.
/// - `activeTrie` (0 `left`, 1 `right`): stored by the writer (seq_cst) to swap the tries; loaded by
///   readers (seq_cst) on entering a read section.
/// - `generationCounter`: stored by the writer (release) right after the swap; loaded by matchers
///   (acquire) on every match to validate their cache.
/// - `ReaderSlot.sequence`: stored only by its matcher, odd while inside a read section: seq_cst on
///   entry, release on exit. Loaded by writers (seq_cst, then acquire while waiting).
/// - Counters (`count`, `stats`) are relaxed atomics written under the lock: figures, not ordering.
///
/// ## Why a reader never sees a trie being changed
/// Reader: `slot = odd (seq_cst)`; `i = activeTrie (seq_cst)`; walk trie i; `slot = even (release)`.
/// Writer: change the standby; `activeTrie = standby (seq_cst)`; for each slot load it (seq_cst) and,
/// if odd, wait until it changes (acquire); change the old active trie.
/// The reader's slot store and index load and the writer's index store and slot load are all seq_cst,
/// so they fall in one total order (the store-buffering pattern cannot lose both stores): either the
/// reader's odd store comes first, and the writer sees it and waits for that section to end, or the
/// writer's swap comes first and the reader loads the new index, a trie the writer has finished with.
/// The wait ends on the reader's release store, read with acquire: every read of the section
/// happens-before the writer's changes to, and frees of, the old trie. In the other direction, all
/// changes to the standby happen-before the seq_cst swap that the reader's seq_cst load reads, so a
/// reader sees every node fully built. A section that starts after the writer sampled its slot reads
/// the new index for the same reason. Writers are ordered among themselves by the mutex, and the next
/// writer only touches the trie that is now standby.
///
/// ## Why a stale cache is detected, and what bounds staleness
/// Each trie counts the changes applied to it (`generation`) and keeps the subjects of the last
/// `SubjectTrie.recentChangeCapacity`. A matcher remembers the generation of the trie its cached
/// results came from and compares it with `generationCounter` on every match (one acquire load, a
/// plain load on x86). When they differ it enters a read section, invalidates the cached subjects
/// those changes affect (or flushes when further behind, or after many wildcard changes) and adopts
/// the trie's generation; misses are computed from that same trie in that same section, so a cached
/// result is never older than the generation its matcher claims.
/// `insert`/`remove` store `generationCounter` before they return. A match that happens after an
/// insert returned (same loop, or ordered by any synchronisation such as a message handed between
/// loops) reads that value or a later one by read-read coherence, misses its cache and walks a trie
/// that has the change. Unordered matches on other loops may answer from a stale cache only until the
/// store becomes visible to them (the store buffer drain, nanoseconds); nothing else delays a change.
///
/// ## What readers keep
/// Nothing a reader takes out of a read section points into trie memory: results copy the entry
/// references instead of sharing node arrays (`MatchCollector`), and queue names and change subjects
/// are the tries' own copies. Trie memory is therefore only ever changed or freed by writers after
/// the wait above, never released last by a loop, whose ordering would rest on Swift's reference
/// counts alone (sound, but invisible to ThreadSanitizer). Entries themselves are shared objects: a
/// result retains them on its loop, and their owner must keep that in mind when they go away.
///
/// `@unchecked Sendable`: the mutable state is the two tries (guarded as above), the reader list
/// (under `lock`) and atomics. Entries cross loops inside results, hence `Entry: Sendable`.
public final class SharedSublist<Entry: SublistEntry> {
    @usableFromInline let left = SubjectTrie<Entry>()
    @usableFromInline let right = SubjectTrie<Entry>()
    /// Which trie readers walk: 0 `left`, 1 `right`. Stored only by writers under `lock`.
    @usableFromInline let activeTrie = Atomic<Int>(0)
    /// The generation of the active trie, for matchers to validate their caches against.
    @usableFromInline let generationCounter = Atomic<UInt64>(0)

    let lock = PThreadLock()
    /// Slots of the registered matchers; changed and read under `lock` only.
    var readers: [ReaderSlot] = []

    private let entryCounter = Atomic<Int>(0)
    private let insertCounter = Atomic<UInt64>(0)
    private let removeCounter = Atomic<UInt64>(0)

    public init() {}

    /// Stored subscriptions.
    public var count: Int { entryCounter.load(ordering: .relaxed) }

    /// Bumped on every successful insert or remove.
    public var generation: UInt64 { generationCounter.load(ordering: .acquiring) }

    /// Successful inserts and removes since creation.
    public var changeCounts: (inserts: UInt64, removes: UInt64) {
        (insertCounter.load(ordering: .relaxed), removeCounter.load(ordering: .relaxed))
    }

    /// Inserts; returns false (and changes nothing) when the subject is not a valid subscription subject.
    ///
    /// An entry must not be inserted twice without a remove in between. Callable from any thread;
    /// every match that starts after this returns sees the entry.
    @discardableResult
    public func insert(_ entry: Entry) -> Bool {
        entry.subject.withUnsafeBufferPointer { subject in
            SubjectBytes.withTokens(ByteSlice(UnsafeRawBufferPointer(subject))) { tokens in
                guard let tokens, SubjectBytes.isValidSubscription(tokens) else { return false }
                let change = SubjectChange(subject: [UInt8](subject), hasWildcard: SubjectBytes.hasWildcard(tokens))
                lock.withLock {
                    _ = write { trie in
                        trie.insert(entry, tokens: tokens)
                        trie.record(change)
                        return true
                    }
                    entryCounter.store(entryCounter.load(ordering: .relaxed) + 1, ordering: .relaxed)
                    insertCounter.store(insertCounter.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
                }
                return true
            }
        }
    }

    /// Removes by identity (`===`); returns false when not present. Callable from any thread.
    @discardableResult
    public func remove(_ entry: Entry) -> Bool {
        entry.subject.withUnsafeBufferPointer { subject in
            SubjectBytes.withTokens(ByteSlice(UnsafeRawBufferPointer(subject))) { tokens in
                guard let tokens else { return false }
                let change = SubjectChange(subject: [UInt8](subject), hasWildcard: SubjectBytes.hasWildcard(tokens))
                return lock.withLock {
                    let removed = write { trie in
                        guard trie.remove(entry, tokens: tokens) else { return false }
                        trie.record(change)
                        return true
                    }
                    guard removed else { return false }
                    entryCounter.store(entryCounter.load(ordering: .relaxed) - 1, ordering: .relaxed)
                    removeCounter.store(removeCounter.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
                    return true
                }
            }
        }
    }

    /// Every stored entry (for replaying interest to a new route and for /subsz); order unspecified.
    ///
    /// The entries are gathered under the writer lock and `body` runs after it is released, so `body`
    /// may insert and remove.
    public func forEach(_ body: (Entry) -> Void) {
        var entries: ContiguousArray<Entry> = []
        lock.withLock {
            // Between writes both tries hold the same entries; the active one is as good as any.
            entries.reserveCapacity(entryCounter.load(ordering: .relaxed))
            activeTrieForWriter.forEachEntry { entries.append($0) }
        }
        for entry in entries { body(entry) }
    }

    /// The trie readers walk now; for a writer holding `lock` (only writers change `activeTrie`).
    private var activeTrieForWriter: SubjectTrie<Entry> {
        activeTrie.load(ordering: .relaxed) == 0 ? left : right
    }

    /// Applies one change to both tries, standby first, so readers always have a complete trie to walk.
    /// `apply` must do the same to either trie; when it reports no change (remove of an absent entry)
    /// nothing is swapped. Call with `lock` held.
    private func write(_ apply: (SubjectTrie<Entry>) -> Bool) -> Bool {
        let active = activeTrie.load(ordering: .relaxed)
        let standby = active == 0 ? right : left
        guard apply(standby) else { return false }
        activeTrie.store(active ^ 1, ordering: .sequentiallyConsistent)
        generationCounter.store(standby.generation, ordering: .releasing)
        waitForReadersToLeave()
        let applied = apply(active == 0 ? left : right)
        precondition(applied, "SharedSublist: the two tries disagree")
        return true
    }

    /// True when both tries are back to an empty root (tests: pruning after removing everything).
    var isEmpty: Bool { left.isEmpty && right.isEmpty }
}

extension SharedSublist: @unchecked Sendable where Entry: Sendable {}
