#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// One matcher's announcement of its read sections (trie walks) to writers.
///
/// `sequence` is odd while the matcher is inside a section; only the matcher stores it (+1 on entry,
/// +1 on exit), so a writer that saw an odd value knows that section ended once the value changes,
/// even if the matcher has already started the next one.
@usableFromInline
final class ReaderSlot: Sendable {
    @usableFromInline let sequence = Atomic<UInt64>(0)

    @usableFromInline init() {}
}

extension SharedSublist {
    /// Adds a matcher's slot to those writers wait for.
    func register(_ slot: ReaderSlot) {
        lock.withLock { readers.append(slot) }
    }

    /// Drops a matcher's slot (its matcher is going away and is outside any section).
    func unregister(_ slot: ReaderSlot) {
        lock.withLock { readers.removeAll { $0 === slot } }
    }

    /// Waits until every reader that may have loaded the old active trie index has left its section.
    /// Call with `lock` held, right after swapping `activeTrie`; see the type's doc comment.
    func waitForReadersToLeave() {
        for reader in readers {
            let seen = reader.sequence.load(ordering: .sequentiallyConsistent)
            guard seen & 1 == 1 else { continue }
            // A section is one trie walk and never blocks; yield only if its thread was preempted.
            var spins = 0
            while reader.sequence.load(ordering: .acquiring) == seen {
                spins &+= 1
                if spins >= 64 { sched_yield() }
            }
        }
    }
}
