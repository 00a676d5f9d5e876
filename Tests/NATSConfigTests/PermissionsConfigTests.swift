import Testing
@testable import NATSConfig

/// Issue 8, point 1: `permissions` of user entries and the `authorization` block, nkey entries, read with
/// nats-server's shapes (opts.go `parseUserPermissions`) and messages.
@Suite struct PermissionsConfigTests {
    func apply(_ text: String) throws(ConfigError) -> (ServerOptions, [ConfigError]) {
        var options = ServerOptions()
        let warnings = try options.apply(config: ConfigFileParser.parse(text, file: "t.conf", environment: [:]))
        return (options, warnings)
    }

    static let nkey = "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLKK"

    @Test func everyShapeOfAPermission() throws {
        let (o, warnings) = try apply("""
            authorization {
              users = [
                {user: a, password: p, permissions: {publish: "x.>", subscribe: ["y", "z.* q"]}}
                {user: b, password: p, permission: {pub: {allow: "x", deny: ["x.y", "x.z"]}, sub: {deny: "w"}}}
                {user: c, password: p, authorization: {publish: {}, allow_responses: true}}
                {user: d, password: p, permissions: {allow_responses: {max: 3, expires: "5s"}}}
                {user: e, password: p, permissions: {allow_responses: {max: 0, ttl: "0s"}, publish: {deny: "q"}}}
                {user: f, password: p, permissions: {allow_responses: {max_msgs: -1, expires: "-1s"}}}
              ]
            }
            """)
        #expect(warnings.isEmpty)
        #expect(o.users.map(\.permissions) == [
            Permissions(publish: SubjectPermission(allow: ["x.>"]), subscribe: SubjectPermission(allow: ["y", "z.* q"])),
            Permissions(publish: SubjectPermission(allow: ["x"], deny: ["x.y", "x.z"]), subscribe: SubjectPermission(deny: ["w"])),
            // allow_responses turns off the blanket publish allow (an empty map is no restriction at all).
            Permissions(publish: SubjectPermission(allow: []), responses: ResponsePermission()),
            Permissions(publish: SubjectPermission(allow: []),
                        responses: ResponsePermission(maxMessages: 3, expiresMilliseconds: 5000)),
            Permissions(publish: SubjectPermission(allow: [], deny: ["q"]), responses: ResponsePermission()),
            Permissions(publish: SubjectPermission(allow: []),
                        responses: ResponsePermission(maxMessages: -1, expiresMilliseconds: -1)),
        ])
    }

    @Test func defaultPermissionsGoToUsersWithoutTheirOwn() throws {
        let (o, _) = try apply("""
            authorization {
              users = [ {user: a, password: p}, {user: b, password: p, permissions: {publish: "own"}}, {nkey: \(Self.nkey)} ]
              default_permissions: {publish: "default"}
            }
            """)
        let defaults = Permissions(publish: SubjectPermission(allow: ["default"]))
        #expect(o.users.map(\.permissions) == [defaults, Permissions(publish: SubjectPermission(allow: ["own"]))])
        #expect(o.nkeyUsers.map(\.permissions) == [defaults])
        #expect(o.nkeyUsers.map(\.publicKey) == [Self.nkey])
        #expect(o.defaultPermissions == defaults)
        #expect(o.authRequired)
    }

    @Test func blockPermissionsWithoutUsersListAreKeptWithAWarning() throws {
        let (o, warnings) = try apply("authorization { user: a, password: b, permissions: {publish: \"x\"} }")
        #expect(o.defaultPermissions == Permissions(publish: SubjectPermission(allow: ["x"])))
        #expect(warnings.map(\.description) == [
            "t.conf:1:39: field \"authorization.permissions\" applies to every client without a users entry "
                + "(nats-server ignores it without a users list)",
        ])
    }

    @Test func nkeyUsersOnlyRequireAuthentication() throws {
        let (o, _) = try apply("authorization { users = [ {nkey: \(Self.nkey), permissions: {subscribe: \"s\"}} ] }\nno_auth_user: \(Self.nkey)")
        #expect(o.users.isEmpty && o.nkeyUsers.count == 1 && o.authRequired)
        #expect(o.nkeyUsers[0].position?.line == 1)
        #expect(throws: Never.self) { try o.validate() }
    }

    @Test(arguments: [
        ("authorization { users = [ {user: a, permissions: {publish: \"a b\"}} ] }",
         "t.conf:1:51: subject \"a b\" is not a valid subject"),
        ("authorization { users = [ {user: a, permissions: {subscribe: \"a b c\"}} ] }",
         "t.conf:1:51: subject \"a b c\" is not a valid subject"),
        ("authorization { users = [ {user: a, permissions: {subscribe: \"a b..c\"}} ] }",
         "t.conf:1:51: queue \"b..c\" is not a valid queue"),
        ("authorization { users = [ {user: a, permissions: {publish: \"a.>.b\"}} ] }",
         "t.conf:1:51: subject \"a.>.b\" is not a valid subject"),
        ("authorization { users = [ {user: a, permissions: {publish: 5}} ] }",
         "t.conf:1:51: Expected subject permissions to be a subject, or array of subjects, got integer"),
        ("authorization { users = [ {user: a, permissions: {publish: [5]}} ] }",
         "t.conf:1:51: Subject in permissions array cannot be cast to string"),
        ("authorization { users = [ {user: a, permissions: {publish: {allow: \"a\", maybe: \"b\"}}} ] }",
         "t.conf:1:73: Unknown field name \"maybe\" parsing subject permissions, only 'allow' or 'deny' are permitted"),
        ("authorization { users = [ {user: a, permissions: {bogus: 1}} ] }",
         "t.conf:1:51: Unknown field \"bogus\" parsing permissions"),
        ("authorization { users = [ {user: a, permissions: \"x\"} ] }",
         "t.conf:1:37: Expected permissions to be a map/struct, got string"),
        ("authorization { users = [ {user: a, permissions: {allow_responses: \"yes\"}} ] }",
         "t.conf:1:51: error parsing response permissions, expected a boolean or a map"),
        ("authorization { users = [ {user: a, permissions: {allow_responses: {expires: 5}}} ] }",
         "t.conf:1:69: error parsing expires, not a duration string"),
        ("authorization { users = [ {nkey: U1, user: b} ] }", "t.conf:1:28: Nkey users do not take usernames or passwords"),
        ("authorization { users = [ {nkey: U1}, {nkey: U1} ] }", "t.conf:1:40: Duplicate nkey \"U1\" detected"),
    ])
    func errors(_ text: String, _ expected: String) {
        do {
            _ = try apply(text)
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test(arguments: ["a", "a.b", "*", ">", "a.*.c", "a.>", "a*b.c", "$SYS.>"])
    func validPermissionSubjects(_ subject: String) {
        #expect(PermissionSubject.isValid(subject))
    }

    @Test(arguments: ["", ".", "a.", ".a", "a..b", "a.>.b", "> .a", "a b", "a\tb"])
    func invalidPermissionSubjects(_ subject: String) {
        #expect(!PermissionSubject.isValid(subject))
    }
}
