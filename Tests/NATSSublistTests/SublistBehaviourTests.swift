import Testing

@testable import NATSSublist

@Suite("Sublist behaviour")
struct SublistBehaviourTests {
    @Test("queue groups merge by name across matching subjects", arguments: [0, 1024])
    func queueGroupsMergeByName(capacity: Int) {
        let sublist = Sublist<TestSub>(cacheCapacity: capacity)
        sublist.insert(TestSub("foo.*", queue: "q", id: 1))
        sublist.insert(TestSub("foo.bar", queue: "q", id: 2))
        sublist.insert(TestSub("foo.bar", queue: "r", id: 3))
        sublist.insert(TestSub(">", queue: "r", id: 4))
        sublist.insert(TestSub("foo.bar", id: 5))
        sublist.insert(TestSub("foo.>", id: 6))
        let result = sublist.match("foo.bar")
        #expect(result.shape == ResultShape(plain: [5, 6], groups: ["q": [1, 2], "r": [3, 4]]))
        #expect(result.fanout == 4)
        #expect(sublist.match("foo.baz").shape == ResultShape(plain: [6], groups: ["q": [1], "r": [4]]))
        #expect(sublist.match("other").shape == ResultShape(plain: [], groups: ["r": [4]]))
    }

    @Test("remove of an absent entry returns false and changes nothing")
    func removeAbsent() {
        let sublist = Sublist<TestSub>()
        let stored = TestSub("foo.bar", id: 1)
        sublist.insert(stored)
        let generation = sublist.generation
        #expect(!sublist.remove(TestSub("foo.bar", id: 1)))  // same subject, other object
        #expect(!sublist.remove(TestSub("foo.baz", id: 2)))  // no such node
        #expect(!sublist.remove(TestSub("foo", id: 3)))  // intermediate node without entries
        #expect(!sublist.remove(TestSub("foo.bar.baz", id: 4)))  // deeper than the trie
        #expect(!sublist.remove(TestSub("foo.bar", queue: "q", id: 5)))  // no such group
        #expect(sublist.generation == generation)
        #expect(sublist.stats.removes == 0)
        #expect(sublist.count == 1)
        #expect(sublist.remove(stored))
        #expect(!sublist.remove(stored))
        #expect(sublist.count == 0)
    }

    @Test("duplicate subjects with different entries are kept apart", arguments: [0, 1024])
    func duplicateSubjects(capacity: Int) {
        let sublist = Sublist<TestSub>(cacheCapacity: capacity)
        let subs = (1...5).map { TestSub("a.b", id: $0) }
        let queued = (6...8).map { TestSub("a.b", queue: "q", id: $0) }
        for sub in subs + queued { #expect(sublist.insert(sub)) }
        #expect(sublist.match("a.b").shape == ResultShape(plain: [1, 2, 3, 4, 5], groups: ["q": [6, 7, 8]]))
        #expect(sublist.remove(subs[2]))
        #expect(sublist.remove(queued[0]))
        #expect(sublist.match("a.b").shape == ResultShape(plain: [1, 2, 4, 5], groups: ["q": [7, 8]]))
        #expect(sublist.plainIDs("a.b") == [1, 2, 4, 5])
        for sub in subs where sub.id != 3 { #expect(sublist.remove(sub)) }
        for sub in queued.dropFirst() { #expect(sublist.remove(sub)) }
        #expect(sublist.match("a.b").isEmpty)
        #expect(sublist.count == 0)
    }

    @Test("stats count inserts, removes, matches, hits and fan-out")
    func statsCounting() {
        let sublist = Sublist<TestSub>(cacheCapacity: 16)
        let a = TestSub("foo.bar", id: 1)
        let b = TestSub("foo.*", id: 2)
        let c = TestSub("foo.*", queue: "q", id: 3)
        sublist.insert(a)
        sublist.insert(b)
        sublist.insert(c)
        sublist.insert(TestSub("bad..subject", id: 9))
        #expect(sublist.stats == SublistStats(count: 3, inserts: 3, removes: 0))
        _ = sublist.match("foo.bar")  // miss: fan-out 2 plain + 1 group
        _ = sublist.match("foo.bar")  // hit
        _ = sublist.match("foo.baz")  // miss: fan-out 1 + 1
        _ = sublist.match("nothing")  // miss, empty result cached
        _ = sublist.match("nothing")  // hit
        _ = sublist.match("a..b")  // malformed: counted, not cached
        #expect(
            sublist.stats
                == SublistStats(
                    count: 3, inserts: 3, removes: 0, matches: 6, cacheHits: 2, cacheEntries: 3, maxFanout: 3,
                    averageFanout: 5.0 / 3.0))
        #expect(sublist.stats.cacheHitRate == 2.0 / 6.0)
        sublist.remove(a)  // literal: drops only the foo.bar entry
        #expect(sublist.stats.cacheEntries == 2)
        sublist.remove(b)  // wildcard: drops foo.baz, keeps "nothing"
        #expect(sublist.stats.cacheEntries == 1)
        #expect(sublist.stats.count == 1)
        #expect(sublist.stats.removes == 2)
    }

    @Test("an empty sublist reports zero fan-out and a disabled cache stays empty")
    func disabledCache() {
        let sublist = Sublist<TestSub>(cacheCapacity: 0)
        sublist.insert(TestSub("x", id: 1))
        for _ in 0..<3 { #expect(sublist.plainIDs("x") == [1]) }
        #expect(sublist.stats == SublistStats(count: 1, inserts: 1, matches: 3))
        #expect(Sublist<TestSub>().stats == SublistStats())
    }

    @Test("forEach visits every stored entry exactly once")
    func forEachVisitsAll() {
        let sublist = Sublist<TestSub>()
        let subjects = ["a", "a.b", "a.*", "a.>", ">", "*", "a.b.c", "x.y.z", "a.b"]
        var expected = Set<Int>()
        for (index, subject) in subjects.enumerated() {
            sublist.insert(TestSub(subject, queue: index % 3 == 0 ? "q\(index % 2)" : nil, id: index))
            expected.insert(index)
        }
        var seen: [Int] = []
        sublist.forEach { seen.append($0.id) }
        #expect(seen.count == subjects.count)
        #expect(Set(seen) == expected)
    }

    @Test("generation bumps on every successful change only")
    func generation() {
        let sublist = Sublist<TestSub>()
        let sub = TestSub("g.h", id: 1)
        #expect(sublist.generation == 0)
        sublist.insert(sub)
        #expect(sublist.generation == 1)
        _ = sublist.match("g.h")
        #expect(sublist.generation == 1)
        sublist.remove(sub)
        #expect(sublist.generation == 2)
        sublist.remove(sub)
        #expect(sublist.generation == 2)
    }

    @Test("cached results are replaced after inserts and removes that affect them", arguments: [4, 1024])
    func cacheInvalidation(capacity: Int) {
        let sublist = Sublist<TestSub>(cacheCapacity: capacity)
        #expect(sublist.match("foo.bar").isEmpty)
        let literal = TestSub("foo.bar", id: 1)
        sublist.insert(literal)
        #expect(sublist.plainIDs("foo.bar") == [1])
        let star = TestSub("*.bar", id: 2)
        sublist.insert(star)
        #expect(sublist.plainIDs("foo.bar") == [1, 2])
        let tail = TestSub(">", id: 3)
        sublist.insert(tail)
        #expect(sublist.plainIDs("foo.bar") == [1, 2, 3])
        // A published literal `*` is affected by wildcard subscriptions only through their wildcards.
        #expect(sublist.plainIDs("foo.*") == [3])
        sublist.remove(star)
        #expect(sublist.plainIDs("foo.bar") == [1, 3])
        sublist.remove(literal)
        #expect(sublist.plainIDs("foo.bar") == [3])
        sublist.remove(tail)
        #expect(sublist.match("foo.bar").isEmpty)
        #expect(sublist.match("foo.*").isEmpty)
    }

    @Test("the cache never exceeds its capacity")
    func cacheBound() {
        let sublist = Sublist<TestSub>(cacheCapacity: 8)
        sublist.insert(TestSub(">", id: 1))
        for index in 0..<1000 {
            #expect(sublist.plainIDs("subject.\(index)") == [1])
            #expect(sublist.stats.cacheEntries <= 8)
        }
        #expect(sublist.stats.cacheEntries == 8)
        #expect(sublist.stats.cacheHits == 0)
    }

    @Test("removing everything prunes the trie back to an empty root")
    func pruning() {
        let sublist = Sublist<TestSub>()
        let subs = ["a.b.c", "a.b", "a.*.c", "a.>", "b.*", "*", ">"].enumerated().map { TestSub($1, id: $0) }
        for sub in subs { sublist.insert(sub) }
        for sub in subs.reversed() { #expect(sublist.remove(sub)) }
        #expect(sublist.shared.isEmpty)
    }
}
