import NATSProtocol
import Testing

@testable import NATSSublist

/// Random inserts, removes and matches compared against `NaiveMatcher` after every step.
@Suite("Sublist against a naive matcher")
struct SublistPropertyTests {
    /// A small vocabulary so random subscriptions and subjects overlap often; `*` and `>` appear as
    /// published literals too, and `foo*` is a literal that looks like a wildcard.
    static let vocabulary = ["a", "b", "c", "foo", "foo*", "*", ">"]
    static let queues = ["q1", "q2", "q3"]

    static func randomSubscription(using random: inout SeededRandom) -> String {
        let length = Int.random(in: 1...4, using: &random)
        var tokens: [String] = []
        for position in 0..<length {
            let roll = Int.random(in: 0..<10, using: &random)
            if roll < 2 {
                tokens.append("*")
            } else if roll == 2 && position == length - 1 {
                tokens.append(">")
            } else {
                // Literal tokens only; `*`/`>` here would be wildcards, so skip the last two words.
                tokens.append(vocabulary[Int.random(in: 0..<(vocabulary.count - 2), using: &random)])
            }
        }
        return tokens.joined(separator: ".")
    }

    static func randomPublished(using random: inout SeededRandom) -> String {
        let length = Int.random(in: 1...5, using: &random)
        return (0..<length).map { _ in vocabulary.randomElement(using: &random)! }.joined(separator: ".")
    }

    @Test("random operations agree with the naive matcher", arguments: [0, 4, 1024], [7, 42])
    func randomOperations(cacheCapacity: Int, seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let sublist = Sublist<TestSub>(cacheCapacity: cacheCapacity)
        var stored: [TestSub] = []
        var nextID = 0
        var inserts: UInt64 = 0
        var removes: UInt64 = 0
        var matches: UInt64 = 0
        var mismatches = 0
        for step in 0..<2000 {
            let roll = Int.random(in: 0..<10, using: &random)
            if roll < 3 || stored.isEmpty {
                let queue = Bool.random(using: &random) ? Self.queues.randomElement(using: &random) : nil
                let sub = TestSub(Self.randomSubscription(using: &random), queue: queue, id: nextID)
                nextID += 1
                #expect(sublist.insert(sub))
                stored.append(sub)
                inserts += 1
            } else if roll < 5 {
                let sub = stored.remove(at: Int.random(in: 0..<stored.count, using: &random))
                #expect(sublist.remove(sub))
                #expect(!sublist.remove(sub))
                removes += 1
            } else {
                let subject = Self.randomPublished(using: &random)
                let expected = NaiveMatcher.shape(published: subject, subscriptions: stored)
                let actual = sublist.match(subject).shape
                matches += 1
                if actual != expected {
                    mismatches += 1
                    Issue.record("seed \(seed) step \(step) subject \(subject): got \(String(describing: actual)), want \(expected)")
                }
            }
            if mismatches > 5 { break }
        }
        #expect(sublist.count == stored.count)
        let stats = sublist.stats
        #expect(stats.inserts == inserts && stats.removes == removes && stats.matches == matches)
        #expect(stats.cacheEntries <= cacheCapacity)
        if cacheCapacity == 0 { #expect(stats.cacheHits == 0) } else { #expect(stats.cacheHits > 0) }
        var seen = Set<Int>()
        sublist.forEach { seen.insert($0.id) }
        #expect(seen == Set(stored.map(\.id)))
        // Draining everything leaves an empty trie.
        for sub in stored { #expect(sublist.remove(sub)) }
        #expect(sublist.count == 0)
        #expect(sublist.shared.isEmpty)
    }
}

/// The same comparison with two matchers ("loops") on one shared sublist and writes between their
/// matches, so each matcher finds the generation moved on by changes it did not make.
@Suite("Shared sublist with two matchers against a naive matcher")
struct SharedSublistPropertyTests {
    @Test("interleaved writes and matches on two matchers agree with the naive matcher", arguments: [(0, 1024), (4, 1024), (1024, 16)], [7, 42])
    func twoMatchers(capacities: (Int, Int), seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let shared = SharedSublist<TestSub>()
        let matchers = [SublistMatcher(shared, cacheCapacity: capacities.0), SublistMatcher(shared, cacheCapacity: capacities.1)]
        var matchCounts = [UInt64](repeating: 0, count: 2)
        var stored: [TestSub] = []
        var nextID = 0
        var mismatches = 0
        for step in 0..<1500 {
            // Every 500 steps a burst of writes leaves both matchers more than 64 changes behind.
            let writes = step % 500 == 499 ? 100 : (Int.random(in: 0..<2, using: &random))
            for _ in 0..<writes {
                if Int.random(in: 0..<10, using: &random) < 6 || stored.isEmpty {
                    let queue = Bool.random(using: &random) ? SublistPropertyTests.queues.randomElement(using: &random) : nil
                    let sub = TestSub(SublistPropertyTests.randomSubscription(using: &random), queue: queue, id: nextID)
                    nextID += 1
                    #expect(shared.insert(sub))
                    stored.append(sub)
                } else {
                    let sub = stored.remove(at: Int.random(in: 0..<stored.count, using: &random))
                    #expect(shared.remove(sub))
                    #expect(!shared.remove(sub))
                }
            }
            // Several matches per step, on either matcher, some repeated so caches hit.
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                let which = Int.random(in: 0..<2, using: &random)
                let subject = SublistPropertyTests.randomPublished(using: &random)
                let expected = NaiveMatcher.shape(published: subject, subscriptions: stored)
                let bytes = Array(subject.utf8)
                let actual = matchers[which].match(bytes).shape
                let uncached = bytes.withUnsafeBufferPointer {
                    matchers[which].matchUncached(ByteSlice(UnsafeRawBufferPointer($0))).shape
                }
                matchCounts[which] += 1
                if actual != expected || uncached != expected {
                    mismatches += 1
                    Issue.record(
                        "seed \(seed) step \(step) matcher \(which) subject \(subject): got \(String(describing: actual)) / uncached \(String(describing: uncached)), want \(expected)")
                }
            }
            if mismatches > 5 { break }
        }
        #expect(shared.count == stored.count)
        for (which, matcher) in matchers.enumerated() {
            let stats = matcher.stats
            #expect(stats.matches == matchCounts[which])
            #expect(stats.cacheEntries <= (which == 0 ? capacities.0 : capacities.1))
            let capacity = which == 0 ? capacities.0 : capacities.1
            if capacity == 0 { #expect(stats.cacheHits == 0) } else if capacity >= 16 { #expect(stats.cacheHits > 0) }
        }
        for sub in stored { #expect(shared.remove(sub)) }
        #expect(shared.isEmpty)
    }
}
