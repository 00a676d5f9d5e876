import NATSConfig
import Testing
@testable import NATSAuth

/// Permission matching as nats-server decides it (client.go `pubAllowedFullCheck`, `canSubscribeInternal`,
/// `checkDenySub`, `queueMatches`; sublist.go `matchLevel`), and the per-connection caches and reply grants.
@Suite struct PermissionRulesTests {
    static func bytes(_ text: String, _ body: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        Array(text.utf8).withUnsafeBytes(body)
    }

    static func publishes(_ permissions: ClientPermissions, _ subject: String, now: UInt64 = 0) -> Bool {
        bytes(subject) { permissions.allowsPublish($0, now: now) }
    }

    static func subscribes(_ rules: PermissionRules, _ subject: String, _ queue: String = "") -> Bool {
        bytes(subject) { subject in bytes(queue) { rules.allowsSubscribe(subject: subject, queue: $0) } }
    }

    @Test(arguments: [
        ("foo", "foo", true), ("foo", "bar", false), ("foo", "foo.bar", false),
        ("foo.*", "foo.bar", true), ("foo.*", "foo", false), ("foo.*", "foo.bar.baz", false),
        ("foo.>", "foo.bar", true), ("foo.>", "foo.bar.baz", true), ("foo.>", "foo", false),
        (">", "a", true), (">", "a.b.c", true), ("*", "a", true), ("*", "a.b", false),
        ("*.b.*", "a.b.c", true), ("*.b.*", "a.x.c", false),
        // A wildcard in the checked subject is a token like any other: only a wildcard of the pattern takes it.
        ("foo.bar", "foo.*", false), ("foo.*", "foo.*", true), ("foo.>", "foo.*", true),
        ("foo.*", "foo.>", true), ("foo.bar", "foo.>", false), (">", ">", true),
        // Odd subjects never crash and never match more than they should.
        ("foo", "", false), ("foo.*", "foo.", true), ("foo", "foo..", false),
    ])
    func subjectPatterns(_ pattern: String, _ subject: String, _ expected: Bool) {
        #expect(SubjectPattern(pattern).matches(Array(subject.utf8)) == expected)
    }

    @Test func publishAllowThenDeny() {
        let rules = PermissionRules(Permissions(publish: SubjectPermission(allow: ["foo.*", "bar.>"], deny: ["foo.secret"])))
        let client = ClientPermissions(rules: rules)
        for _ in 0..<2 {  // The second round is answered by the cache.
            #expect(Self.publishes(client, "foo.a"))
            #expect(!Self.publishes(client, "foo.secret"))
            #expect(!Self.publishes(client, "foo.a.b"))
            #expect(Self.publishes(client, "bar.x.y"))
            #expect(!Self.publishes(client, "baz"))
        }
        #expect(rules.restrictsPublish)
        #expect(!PermissionRules(Permissions(subscribe: SubjectPermission(allow: ["x"]))).restrictsPublish)
    }

    @Test func denyOnlyPublish() {
        let client = ClientPermissions(rules: PermissionRules(Permissions(publish: SubjectPermission(deny: ["$SYS.>"]))))
        #expect(Self.publishes(client, "anything"))
        #expect(!Self.publishes(client, "$SYS.x"))
    }

    @Test func publishCacheStaysBounded() {
        let client = ClientPermissions(rules: PermissionRules(Permissions(publish: SubjectPermission(allow: ["s.*"]))))
        for index in 0..<1000 { #expect(Self.publishes(client, "s.\(index)")) }
        #expect(!Self.publishes(client, "t.1"))
        #expect(Self.publishes(client, "s.1"))
    }

    @Test func subscribeAllowAndDenyWithQueues() {
        let rules = PermissionRules(Permissions(subscribe: SubjectPermission(
            allow: ["work.> workers", "work.open", "jobs.* v1.*", "data.>"], deny: ["data.secret", "work.* bad"])))
        #expect(!Self.subscribes(rules, "work.a"))
        #expect(Self.subscribes(rules, "work.a", "workers"))
        #expect(!Self.subscribes(rules, "work.a", "others"))
        #expect(Self.subscribes(rules, "work.open"))
        #expect(!Self.subscribes(rules, "work.open", "anyq"))
        #expect(Self.subscribes(rules, "work.open", "workers"))
        #expect(Self.subscribes(rules, "jobs.x", "v1.blue"))
        #expect(!Self.subscribes(rules, "jobs.x", "v1"))
        #expect(!Self.subscribes(rules, "jobs.x", "v2"))
        #expect(Self.subscribes(rules, "data.>"))
        #expect(!Self.subscribes(rules, "data.secret"))
        #expect(!Self.subscribes(rules, "work.x", "bad"))
        #expect(!Self.subscribes(rules, "other"))
    }

    @Test(arguments: [
        ("v1", "v1", true), ("v1", "v2", false), ("v1.a", "v1.*", true), ("v1.a.b", "v1.*", false),
        ("v1.a.b", "v1.>", true), ("v1.*", "v1.*", true), ("v1.*", "v1.a", false), ("v1.>", "v1.*", false),
    ])
    func queueNames(_ queue: String, _ pattern: String, _ expected: Bool) {
        #expect(QueueName.matchesAny(Array(queue.utf8), [Array(pattern.utf8)]) == expected)
    }

    @Test(arguments: [
        ("foo.*", "foo.bar", true), ("foo.*", "foo.bar.baz", false), ("foo.>", "foo.bar.baz", true),
        ("foo.>", "foo", false), ("*", "foo.bar", false), (">", "a.b", true), ("*.bar", "foo.*", true),
        ("secret.>", "*", false), ("a.*.c", "a.b.d", false), ("a.*.c", "*.b.>", true), ("foo", "foo", true),
    ])
    func subjectsCollide(_ first: String, _ second: String, _ expected: Bool) {
        #expect(SubjectPattern(first).collides(with: SubjectPattern(second)) == expected)
        #expect(SubjectPattern(second).collides(with: SubjectPattern(first)) == expected)
    }

    @Test func verdictCacheIsBoundedAndExact() {
        let cache = SubjectVerdictCache(limit: 4)
        for index in 0..<10 {
            Array("s.\(index)".utf8).withUnsafeBytes { cache.store(UInt8(index), for: $0) }
            #expect(cache.count <= 4)
            #expect(Array("s.\(index)".utf8).withUnsafeBytes { cache.verdict(for: $0) } == UInt8(index))
        }
        #expect(Array("s.1".utf8).withUnsafeBytes { cache.verdict(for: $0) } == nil)
        #expect(Array("s.9x".utf8).withUnsafeBytes { cache.verdict(for: $0) } == nil)
        #expect([UInt8]().withUnsafeBytes { cache.verdict(for: $0) } == nil)
        [UInt8]().withUnsafeBytes { cache.store(7, for: $0) }
        #expect([UInt8]().withUnsafeBytes { cache.verdict(for: $0) } == 7)
    }

    @Test func deliveryFilterTurnsOnForWildcardAndQueueSubscriptions() {
        let client = ClientPermissions(rules: PermissionRules(Permissions(subscribe: SubjectPermission(
            deny: ["data.secret", "work.* bad"]))))
        #expect(Self.bytes("data.ok") { s in Self.bytes("") { client.allowsSubscribe(subject: s, queue: $0) } })
        #expect(!client.filtersDeliveries)
        // A wildcard that cannot receive a denied subject needs no filter.
        #expect(Self.bytes("other.*") { s in Self.bytes("") { client.allowsSubscribe(subject: s, queue: $0) } })
        #expect(!client.filtersDeliveries)
        #expect(Self.bytes("data.*") { s in Self.bytes("") { client.allowsSubscribe(subject: s, queue: $0) } })
        #expect(client.filtersDeliveries)
        func denied(_ subject: String, _ queue: String = "") -> Bool {
            Self.bytes(subject) { s in Self.bytes(queue) { client.deniesDelivery(of: s, queue: $0) } }
        }
        for _ in 0..<2 {
            #expect(denied("data.secret"))
            #expect(!denied("data.ok"))
            #expect(!denied("work.a"))
            #expect(denied("work.a", "bad"))
            #expect(!denied("work.a", "good"))
        }
        // Without a deny list nothing is ever filtered.
        let open = ClientPermissions(rules: PermissionRules(Permissions(subscribe: SubjectPermission(allow: [">"]))))
        #expect(Self.bytes(">") { s in Self.bytes("q") { open.allowsSubscribe(subject: s, queue: $0) } })
        #expect(!open.filtersDeliveries)
    }

    @Test func replyGrantsFollowMaxAndExpiry() {
        var permissions = Permissions(subscribe: SubjectPermission(allow: ["requests"]),
                                      responses: ResponsePermission(maxMessages: 2, expiresMilliseconds: 1000))
        permissions.publish = SubjectPermission(allow: [])
        let client = ClientPermissions(rules: PermissionRules(permissions))
        #expect(!Self.publishes(client, "_INBOX.a", now: 0))
        Array("_INBOX.a".utf8).withUnsafeBytes { client.messageDelivered(reply: $0, now: 10) }
        #expect(Self.publishes(client, "_INBOX.a", now: 20))
        #expect(Self.publishes(client, "_INBOX.a", now: 30))
        #expect(!Self.publishes(client, "_INBOX.a", now: 40))
        Array("_INBOX.b".utf8).withUnsafeBytes { client.messageDelivered(reply: $0, now: 100) }
        #expect(!Self.publishes(client, "_INBOX.b", now: 1200))
        #expect(!Self.publishes(client, "_INBOX.c", now: 1200))
    }

    @Test func replyGrantsAreSweptAndBounded() {
        let permissions = Permissions(publish: SubjectPermission(allow: []), responses: ResponsePermission())
        let client = ClientPermissions(rules: PermissionRules(permissions))
        // 10 000 requests never answered within one millisecond: grants stay (unexpired), below the cap.
        for index in 0..<10_000 {
            Array("_INBOX.\(index)".utf8).withUnsafeBytes { client.messageDelivered(reply: $0, now: 5) }
        }
        #expect(client.grantCount == 10_000)
        // Past expiry (two minutes by default) the next grant sweeps the expired ones.
        Array("_INBOX.late".utf8).withUnsafeBytes { client.messageDelivered(reply: $0, now: 5 + 121_000) }
        #expect(client.grantCount == 1)
        // Unlimited expiry: the table still never exceeds its cap.
        let forever = ClientPermissions(rules: PermissionRules(Permissions(
            publish: SubjectPermission(allow: []), responses: ResponsePermission(maxMessages: 1, expiresMilliseconds: -1))))
        for index in 0..<(ClientPermissions.maximumGrants + 100) {
            Array("r.\(index)".utf8).withUnsafeBytes { forever.messageDelivered(reply: $0, now: UInt64(index)) }
        }
        #expect(forever.grantCount <= ClientPermissions.maximumGrants)
        #expect(Self.publishes(forever, "r.\(ClientPermissions.maximumGrants + 99)", now: 0))
    }

    @Test func allowedRepliesNeedNoGrant() {
        let permissions = Permissions(publish: SubjectPermission(allow: ["_INBOX.>"]), responses: ResponsePermission())
        let client = ClientPermissions(rules: PermissionRules(permissions))
        Array("_INBOX.x".utf8).withUnsafeBytes { client.messageDelivered(reply: $0, now: 0) }
        #expect(client.grantCount == 0)
        #expect(Self.publishes(client, "_INBOX.x"))
        #expect(Self.publishes(client, "_INBOX.x"))
    }
}
