import Testing

@testable import NATSSublist

@Suite("Wildcard semantics")
struct WildcardSemanticsTests {
    /// (subscription, published, expected match)
    static let table: [(String, String, Bool)] = [
        ("foo", "foo", true),
        ("foo", "bar", false),
        ("foo", "foo.bar", false),
        ("foo.bar", "foo", false),
        ("foo.bar", "foo.bar", true),
        ("*", "foo", true),
        ("*", "foo.bar", false),
        ("foo.*", "foo.bar", true),
        ("foo.*", "foo", false),
        ("foo.*", "foo.bar.baz", false),
        ("*.bar", "foo.bar", true),
        ("*.*", "foo.bar", true),
        ("*.*", "foo", false),
        ("foo.*.baz", "foo.bar.baz", true),
        ("foo.*.baz", "foo.bar.qux", false),
        (">", "foo", true),
        (">", "foo.bar.baz", true),
        ("foo.>", "foo", false),
        ("foo.>", "foo.bar", true),
        ("foo.>", "foo.bar.baz", true),
        ("foo.>", "bar.baz", false),
        ("*.>", "foo", false),
        ("*.>", "foo.bar", true),
        ("foo.*.>", "foo.bar", false),
        ("foo.*.>", "foo.bar.baz", true),
        // Wildcards only as whole tokens: these are literals.
        ("foo*", "foo*", true),
        ("foo*", "foobar", false),
        ("foo*.bar", "foox.bar", false),
        ("a>b", "a>b", true),
        ("a>b", "axb", false),
        ("foo.b*", "foo.bar", false),
        // A published wildcard is a literal token.
        ("foo.*", "foo.*", true),
        (">", "foo.*", true),
        ("foo.>", "foo.>", true),
        ("*.*", "*.*", true),
        ("foo.bar", "foo.*", false),
        ("foo.*", "foo.>", true),
        // Malformed published subjects match nothing.
        (">", "foo..bar", false),
        (">", ".foo", false),
        (">", "foo.", false),
        (">", "", false),
        ("*", "", false),
    ]

    @Test("subscription matches published subject as in nats-server", arguments: table)
    func matchTable(subscription: String, published: String, expected: Bool) {
        for capacity in [0, 1024] {
            let sublist = Sublist<TestSub>(cacheCapacity: capacity)
            #expect(sublist.insert(TestSub(subscription, id: 1)))
            #expect(sublist.plainIDs(published) == (expected ? [1] : []), "capacity \(capacity)")
            // The naive matcher used by the property test agrees with the table.
            #expect(NaiveMatcher.matches(published: published, subscription: subscription) == expected)
        }
    }

    static let invalidSubscriptions = [
        "", ".", "foo.", ".foo", "foo..bar", "foo.>.bar", ">.foo", ">.>", "foo bar", "foo.\tbar", "foo.b\nr",
    ]

    @Test("invalid subscription subjects are rejected and change nothing", arguments: invalidSubscriptions)
    func invalidRejected(subject: String) {
        let sublist = Sublist<TestSub>()
        let sub = TestSub(subject, id: 1)
        #expect(!sublist.insert(sub))
        #expect(sublist.count == 0)
        #expect(sublist.generation == 0)
        #expect(sublist.stats.inserts == 0)
        #expect(!sublist.remove(sub))
        #expect(sublist.match(">").isEmpty)
    }

    @Test("valid oddities are accepted", arguments: ["foo*", "a>b", "*", ">", "*.>", "foo.*.*.>", "$SYS.>", "_INBOX.x"])
    func validAccepted(subject: String) {
        let sublist = Sublist<TestSub>()
        #expect(sublist.insert(TestSub(subject, id: 1)))
        #expect(sublist.count == 1)
    }

    @Test("long subjects beyond the stack token buffer still match")
    func longSubjects() {
        let tokens = (0..<200).map { "t\($0)" }
        let literal = tokens.joined(separator: ".")
        var pattern = tokens
        pattern[150] = "*"
        pattern[199] = ">"
        let sublist = Sublist<TestSub>()
        #expect(sublist.insert(TestSub(literal, id: 1)))
        #expect(sublist.insert(TestSub(pattern.joined(separator: "."), id: 2)))
        #expect(sublist.insert(TestSub(tokens.prefix(100).joined(separator: ".") + ".>", id: 3)))
        #expect(sublist.plainIDs(literal) == [1, 2, 3])
        #expect(sublist.remove(TestSub(literal, id: 1)) == false)  // identity, not equality
    }
}
