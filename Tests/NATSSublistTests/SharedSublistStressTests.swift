#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NATSProtocol
import Synchronization
import Testing

@testable import NATSSublist

/// Concurrent SUB/UNSUB and matching on one `SharedSublist`: 2 writer threads, 4 reader threads each
/// with its own `SublistMatcher`. Meant to run under ThreadSanitizer too (`scripts/tsan.sh`).
///
/// Bounded by time (`SUBLIST_STRESS_SECONDS`, default 1) and by operation counts. Every entry stays
/// alive until all threads are joined, so no entry is freed while a result may hold it. Threads are
/// raw pthreads joined with `pthread_join`, which ThreadSanitizer understands.
@Suite("Shared sublist under concurrent writers and readers")
struct SharedSublistStressTests {
    static let writerCount = 2
    static let readerCount = 4
    /// Subscriptions each writer inserts once, announcing each after `insert` returned.
    static let lateCount = 100
    /// Subscriptions present from the start that each writer removes once, announcing each after `remove` returned.
    static let goneCount = 100
    /// Subscriptions each writer keeps inserting and removing at random.
    static let churnCount = 64
    static let maxWrites = 400_000
    static let maxMatches = 2_000_000

    static var duration: Duration {
        let seconds = getenv("SUBLIST_STRESS_SECONDS").flatMap { Double(String(cString: $0)) } ?? 1
        return .milliseconds(Int(seconds * 1000))
    }

    /// Tokens for churn subscriptions and published subjects; they overlap the late/gone/stable
    /// subjects, so wildcard churn changes results the invariants look at.
    static let words = ["a", "b", "late", "gone", "stable", "0", "1", "7"]

    @Test("matches stay correct while two writers subscribe and unsubscribe")
    func concurrentWritersAndReaders() throws {
        let shared = SharedSublist<TestSub>()
        let world = StressWorld()
        // Present throughout: every match of `stable.<i>` must find them.
        let stable = (0..<8).map { TestSub("stable.\($0)", id: -1 - $0) }
        for sub in stable { #expect(shared.insert(sub)) }
        let writers = (0..<Self.writerCount).map { WriterPlan(index: $0) }
        for plan in writers {
            for sub in plan.gone { #expect(shared.insert(sub)) }
        }
        // Matchers are made here and handed to one thread each, then read back after the join.
        let readers = (0..<Self.readerCount).map { index in
            ReaderPlan(index: index, matcher: SublistMatcher(shared, cacheCapacity: [1024, 1024, 8, 0][index]))
        }
        let deadline = ContinuousClock.now + Self.duration

        var threads: [pthread_t] = []
        for plan in writers {
            threads.append(startThread { Self.runWriter(plan, shared: shared, world: world, deadline: deadline) })
        }
        for plan in readers {
            threads.append(startThread {
                Self.runReader(plan, stable: stable, writers: writers, world: world, deadline: deadline)
            })
        }
        world.start.store(true, ordering: .releasing)
        for thread in threads { pthread_join(thread, nil) }

        // After the join every thread's writes are visible here.
        print(
            "SharedSublistStress: \(writers.map(\.writes)) writes, \(readers.map(\.outcome.matches)) matches, "
                + "late \(writers.map { $0.lateInserted.load(ordering: .relaxed) }), "
                + "gone \(writers.map { $0.goneRemoved.load(ordering: .relaxed) }), live at end \(shared.count)")
        let failures = writers.flatMap(\.failures) + readers.flatMap(\.outcome.failures)
        for failure in failures.prefix(10) { Issue.record("\(failure)") }
        for plan in writers {
            #expect(plan.writes > 0)
            #expect(plan.lateInserted.load(ordering: .acquiring) > 0)
            #expect(plan.goneRemoved.load(ordering: .acquiring) > 0)
        }
        var live = stable
        for plan in writers {
            let inserted = plan.lateInserted.load(ordering: .acquiring)
            let removed = plan.goneRemoved.load(ordering: .acquiring)
            live += plan.late.prefix(inserted) + plan.gone.dropFirst(removed) + plan.churnLive
        }
        #expect(shared.count == live.count)
        var stored: [Int] = []
        shared.forEach { stored.append($0.id) }
        #expect(stored.sorted() == live.map(\.id).sorted())
        // Each reader's matcher, cache and all, must now agree with the final subscriptions.
        let subjects = Self.allPublished()
        let expectations = subjects.map { NaiveMatcher.shape(published: $0, subscriptions: live) }
        for plan in readers {
            #expect(plan.outcome.matches > 0)
            for (subject, expected) in zip(subjects, expectations) {
                let actual = plan.matcher.match(Array(subject.utf8)).shape
                if actual != expected {
                    Issue.record("reader \(plan.index) after the run, \(subject): got \(String(describing: actual)), want \(expected)")
                    break
                }
            }
        }
        let cached = readers.filter { $0.matcher.cache.isEnabled }.map { $0.matcher.stats }
        #expect(cached.allSatisfy { $0.cacheHits > 0 })
    }

    /// Published subjects of one to three tokens over `words`, plus the late/gone/stable ones.
    static func allPublished() -> [String] {
        var subjects: [String] = []
        for first in words {
            subjects.append(first)
            for second in words {
                subjects.append("\(first).\(second)")
                for third in words { subjects.append("\(first).\(second).\(third)") }
            }
        }
        return subjects
    }

    static func randomChurnSubject(using random: inout SeededRandom) -> String {
        let length = Int.random(in: 1...3, using: &random)
        var tokens: [String] = []
        for position in 0..<length {
            switch Int.random(in: 0..<10, using: &random) {
            case 0, 1: tokens.append("*")
            case 2 where position == length - 1: tokens.append(">")
            default: tokens.append(words.randomElement(using: &random)!)
            }
        }
        return tokens.joined(separator: ".")
    }

    static func runWriter(_ plan: WriterPlan, shared: SharedSublist<TestSub>, world: StressWorld, deadline: ContinuousClock.Instant) {
        var random = SeededRandom(seed: UInt64(plan.index) &+ 11)
        var isIn = [Bool](repeating: false, count: plan.churn.count)
        var late = 0
        var gone = 0
        while !world.start.load(ordering: .acquiring) {}
        while plan.writes < maxWrites && ContinuousClock.now < deadline {
            for _ in 0..<32 {
                let index = Int.random(in: 0..<plan.churn.count, using: &random)
                let sub = plan.churn[index]
                if isIn[index] {
                    if !shared.remove(sub) { plan.failures.append("writer \(plan.index): remove of \(sub) failed") }
                } else if !shared.insert(sub) {
                    plan.failures.append("writer \(plan.index): insert of \(sub) failed")
                }
                isIn[index].toggle()
                let other = (index + 1) % plan.churn.count
                if !isIn[other] && Int.random(in: 0..<16, using: &random) == 0 && shared.remove(plan.churn[other]) {
                    plan.failures.append("writer \(plan.index): remove of absent \(plan.churn[other]) succeeded")
                }
                plan.writes += 1
            }
            // One announced insert and one announced remove per round, until each list is used up.
            if late < lateCount {
                if !shared.insert(plan.late[late]) { plan.failures.append("writer \(plan.index): late insert failed") }
                late += 1
                plan.lateInserted.store(late, ordering: .releasing)
            }
            if gone < goneCount {
                if !shared.remove(plan.gone[gone]) { plan.failures.append("writer \(plan.index): gone remove failed") }
                gone += 1
                plan.goneRemoved.store(gone, ordering: .releasing)
            }
        }
        plan.churnLive = plan.churn.indices.filter { isIn[$0] }.map { plan.churn[$0] }
    }

    static func runReader(
        _ plan: ReaderPlan, stable: [TestSub], writers: [WriterPlan], world: StressWorld, deadline: ContinuousClock.Instant
    ) {
        let outcome = plan.outcome
        let matcher = plan.matcher
        var random = SeededRandom(seed: UInt64(plan.index) &+ 101)
        let published = allPublished().map { Array($0.utf8) }
        while !world.start.load(ordering: .acquiring) {}
        while outcome.matches < maxMatches && ContinuousClock.now < deadline {
            for _ in 0..<64 {
                let subject = published.randomElement(using: &random)!
                let result: SublistResult<TestSub>
                switch Int.random(in: 0..<8, using: &random) {
                case 0:
                    result = subject.withUnsafeBufferPointer { matcher.matchUncached(ByteSlice(UnsafeRawBufferPointer($0))) }
                default:
                    result = matcher.match(subject)
                }
                outcome.matches += 1
                checkShape(result, subject: subject, outcome: outcome, reader: plan.index)
            }
            // Announced changes: an insert announced before this match must be found, an announced
            // remove must be gone. Every late and gone subject is matched each round, so the ones not
            // yet announced sit in the cache and a stale hit would show up right after the change.
            for writer in writers {
                let inserted = writer.lateInserted.load(ordering: .acquiring)
                for (position, sub) in writer.late.enumerated() {
                    let found = matcher.match(sub.subject).plain.contains { $0 === sub }
                    if position < inserted && !found {
                        outcome.failures.append("reader \(plan.index): announced \(sub) not found")
                    }
                }
                let removed = writer.goneRemoved.load(ordering: .acquiring)
                for (position, sub) in writer.gone.enumerated() {
                    let found = matcher.match(sub.subject).plain.contains { $0 === sub }
                    if position < removed && found {
                        outcome.failures.append("reader \(plan.index): announced removal of \(sub) still matched")
                    }
                }
                outcome.matches += writer.late.count + writer.gone.count
            }
            let anchor = stable[Int.random(in: 0..<stable.count, using: &random)]
            if !matcher.match(anchor.subject).plain.contains(where: { $0 === anchor }) {
                outcome.failures.append("reader \(plan.index): stable \(anchor) not found")
            }
            // Six threads share few cores here: let the writers run, or they mostly wait out time slices.
            sched_yield()
        }
    }

    /// Every entry of a result matches the subject, none twice, and queue groups are consistent.
    static func checkShape(_ result: SublistResult<TestSub>, subject: [UInt8], outcome: ReaderOutcome, reader: Int) {
        guard outcome.failures.count < 20 else { return }
        let name = String(decoding: subject, as: UTF8.self)
        if result.shape == nil { outcome.failures.append("reader \(reader): inconsistent result for \(name)") }
        let entries = result.plain + result.queueGroups.joined()
        for entry in entries {
            let matches = subject.withUnsafeBufferPointer { literal in
                entry.subject.withUnsafeBufferPointer { SubjectBytes.literal(literal, isMatchedBy: $0) }
            }
            if !matches { outcome.failures.append("reader \(reader): \(entry) in the result for \(name)") }
        }
    }
}

/// What the threads share besides the sublist: the start flag.
final class StressWorld: Sendable {
    let start = Atomic<Bool>(false)
}

/// One writer's subscriptions, announced progress and findings. `@unchecked Sendable`: `writes`,
/// `failures` and `churnLive` are written only by that writer's thread and read by the test after
/// `pthread_join`; the subscription lists never change; the counters are atomics.
final class WriterPlan: @unchecked Sendable {
    let index: Int
    /// How many of `late` are inserted; stored (release) after each `insert` returned.
    let lateInserted = Atomic<Int>(0)
    /// How many of `gone` are removed; stored (release) after each `remove` returned.
    let goneRemoved = Atomic<Int>(0)
    let late: [TestSub]
    let gone: [TestSub]
    let churn: [TestSub]
    var writes = 0
    var failures: [String] = []
    var churnLive: [TestSub] = []

    init(index: Int) {
        self.index = index
        late = (0..<SharedSublistStressTests.lateCount).map { TestSub("late.\(index).\($0)", id: 10_000 * (index + 1) + $0) }
        gone = (0..<SharedSublistStressTests.goneCount).map { TestSub("gone.\(index).\($0)", id: 10_000 * (index + 1) + 5_000 + $0) }
        var random = SeededRandom(seed: UInt64(index) &+ 1)
        churn = (0..<SharedSublistStressTests.churnCount).map {
            TestSub(
                SharedSublistStressTests.randomChurnSubject(using: &random),
                queue: $0 % 3 == 0 ? "q\($0 % 2)" : nil, id: 100_000 * (index + 1) + $0)
        }
    }
}

/// One reader's matcher and findings. `@unchecked Sendable`: handed to one reader thread, which alone
/// uses the matcher and writes the outcome until the test joins it and reads them.
final class ReaderPlan: @unchecked Sendable {
    let index: Int
    let matcher: SublistMatcher<TestSub>
    let outcome = ReaderOutcome()

    init(index: Int, matcher: SublistMatcher<TestSub>) {
        self.index = index
        self.matcher = matcher
    }
}

final class ReaderOutcome {
    var matches = 0
    var failures: [String] = []
}

/// A started pthread running `body`.
private final class ThreadBody {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

private func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(
        &thread, nil,
        { context in
            Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, context)
    precondition(status == 0, "pthread_create failed: \(status)")
    return thread
}
