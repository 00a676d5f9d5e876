import NATSProtocol
import Testing

@testable import NATSSublist

/// How one loop's matcher catches up with writes made elsewhere (single-threaded: the order of
/// writes and matches is fixed, so which catch-up path runs is known).
@Suite("Sublist matcher catch-up")
struct SublistMatcherTests {
    /// A shared sublist with `foo.bar` (id 1) and a matcher that has cached three subjects.
    private static func warmMatcher() -> (SharedSublist<TestSub>, SublistMatcher<TestSub>) {
        let shared = SharedSublist<TestSub>()
        shared.insert(TestSub("foo.bar", id: 1))
        let matcher = SublistMatcher(shared, cacheCapacity: 16)
        #expect(matcher.plainIDs("foo.bar") == [1])
        #expect(matcher.plainIDs("foo.baz") == [])
        #expect(matcher.plainIDs("x.y") == [])
        #expect(matcher.stats.cacheEntries == 3)
        return (shared, matcher)
    }

    @Test("a literal change elsewhere drops only that subject from another matcher's cache")
    func literalPatch() {
        let (shared, matcher) = Self.warmMatcher()
        shared.insert(TestSub("foo.bar", id: 2))
        #expect(matcher.stats.cacheEntries == 2)
        #expect(matcher.plainIDs("foo.bar") == [1, 2])
        let hits = matcher.stats.cacheHits
        #expect(matcher.plainIDs("x.y") == [])  // kept through the catch-up: a hit
        #expect(matcher.stats.cacheHits == hits + 1)
    }

    @Test("a wildcard change drops every cached subject it matches")
    func wildcardPatch() {
        let (shared, matcher) = Self.warmMatcher()
        let star = TestSub("foo.*", id: 3)
        shared.insert(star)
        #expect(matcher.stats.cacheEntries == 1)  // x.y only
        #expect(matcher.plainIDs("foo.baz") == [3])
        #expect(matcher.plainIDs("foo.bar") == [1, 3])
        shared.remove(star)
        #expect(matcher.plainIDs("foo.baz") == [])
        #expect(matcher.plainIDs("foo.bar") == [1])
    }

    @Test("more than 64 changes behind flushes the cache", arguments: [64, 65])
    func farBehind(changes: Int) {
        let (shared, matcher) = Self.warmMatcher()
        for index in 0..<changes { shared.insert(TestSub("other.\(index)", id: 100 + index)) }
        // Within the remembered changes, unaffected entries survive; past them, all go.
        #expect(matcher.stats.cacheEntries == (changes <= SubjectTrie<TestSub>.recentChangeCapacity ? 3 : 0))
        #expect(matcher.plainIDs("foo.bar") == [1])
        #expect(matcher.plainIDs("other.7") == [107])
    }

    @Test("more than four wildcard changes at once flush instead of sweeping", arguments: [4, 5])
    func manyWildcards(changes: Int) {
        let (shared, matcher) = Self.warmMatcher()
        for index in 0..<changes { shared.insert(TestSub("q\(index).*", id: 100 + index)) }
        #expect(matcher.stats.cacheEntries == (changes <= SublistMatcher<TestSub>.wildcardChangesPatched ? 3 : 0))
        #expect(matcher.plainIDs("q2.z") == [102])
    }

    @Test("results hold their own entry arrays and stay intact across later writes")
    func resultsAreCopies() throws {
        let shared = SharedSublist<TestSub>()
        let matcher = SublistMatcher(shared)
        let plain = TestSub("a.b", id: 1)
        let queued = TestSub("a.b", queue: "q", id: 2)
        shared.insert(plain)
        shared.insert(queued)
        let result = matcher.match(Array("a.b".utf8))
        for trie in [shared.left, shared.right] {
            let node = try #require(Self.node(trie, "a.b"))
            #expect(Self.base(result.plain) != Self.base(node.plain))
            #expect(Self.base(result.queueGroups[0]) != Self.base(node.queueMembers[0]))
        }
        shared.remove(plain)
        shared.remove(queued)
        shared.insert(TestSub("a.b", id: 3))
        #expect(result.shape == ResultShape(plain: [1], groups: ["q": [2]]))
        #expect(matcher.plainIDs("a.b") == [3])
    }

    @Test("a matcher that goes away stops being waited for")
    func unregister() {
        let shared = SharedSublist<TestSub>()
        do {
            let matcher = SublistMatcher(shared)
            #expect(shared.readers.count == 1)
            _ = matcher.match(Array("x".utf8))
        }
        #expect(shared.readers.isEmpty)
        #expect(shared.insert(TestSub("x", id: 1)))
    }

    @Test("forEach runs its body outside the writer lock, so the body may write")
    func forEachMayWrite() {
        let shared = SharedSublist<TestSub>()
        for index in 0..<10 { shared.insert(TestSub("s.\(index)", queue: index % 2 == 0 ? "q" : nil, id: index)) }
        var seen: [Int] = []
        shared.forEach { sub in
            seen.append(sub.id)
            #expect(shared.remove(sub))
        }
        #expect(Set(seen) == Set(0..<10))
        #expect(shared.count == 0)
        #expect(shared.isEmpty)
    }

    private static func node(_ trie: SubjectTrie<TestSub>, _ subject: String) -> SubjectNode<TestSub>? {
        var level: SubjectLevel<TestSub>? = trie.root
        var node: SubjectNode<TestSub>?
        for token in subject.split(separator: ".") {
            let bytes = Array(token.utf8)
            node = bytes.withUnsafeBufferPointer {
                level?.literal(SubjectToken(start: $0.baseAddress!, count: $0.count, hash: SubjectBytes.hash($0.baseAddress!, $0.count)))
            }
            level = node?.next
        }
        return node
    }

    private static func base(_ entries: ContiguousArray<TestSub>) -> UnsafeRawPointer? {
        entries.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }
}

extension SublistMatcher where Entry == TestSub {
    /// Ids of the plain subscribers matching `subject`, sorted.
    func plainIDs(_ subject: String) -> [Int] { match(Array(subject.utf8)).plain.map(\.id).sorted() }
}
