import Testing
@testable import NATSConfig

/// Issue 6, point 10: `authorization { users = [...] }` lists, with nats-server's checks and messages.
@Suite struct AuthorizationConfigTests {
    func apply(_ text: String) throws(ConfigError) -> (ServerOptions, [ConfigError]) {
        var options = ServerOptions()
        let warnings = try options.apply(config: ConfigFileParser.parse(text, file: "t.conf", environment: [:]))
        return (options, warnings)
    }

    static let hash = "$2a$04$JxvFQU5aysRrgswiKiftieMQ6gPuHE3KErH015/I/o7DtAdQDtbDu"

    @Test func usersList() throws {
        let (o, warnings) = try apply("""
            authorization {
              timeout: 3
              users = [
                {user: alice, password: s3cret}
                {username: bob, pass: $2a$04$JxvFQU5aysRrgswiKiftieMQ6gPuHE3KErH015/I/o7DtAdQDtbDu}
                {user: "carol", password: "$2a$04$JxvFQU5aysRrgswiKiftieMQ6gPuHE3KErH015/I/o7DtAdQDtbDu"}
                {user: dave}
              ]
            }
            """)
        #expect(warnings.isEmpty)
        #expect(o.users == [
            ServerOptions.User(username: "alice", password: "s3cret"),
            ServerOptions.User(username: "bob", password: Self.hash),
            ServerOptions.User(username: "carol", password: Self.hash),
            ServerOptions.User(username: "dave", password: ""),
        ])
        #expect(o.authRequired && o.username.isEmpty && o.authToken.isEmpty && o.authTimeoutSeconds == 3)
        #expect(throws: Never.self) { try o.validate() }
    }

    @Test func singleUserStillWorks() throws {
        let (o, _) = try apply("authorization { user: a, password: b }")
        #expect(o.username == "a" && o.password == "b" && o.users.isEmpty && o.authRequired)
    }

    @Test func emptyUsersListLeavesTheServerOpenWithAWarning() throws {
        // nats-server treats `users = []` as no users: clients need no credentials.
        let (o, warnings) = try apply("authorization { users = [] }")
        #expect(o.users.isEmpty && !o.authRequired)
        #expect(warnings.map(\.description) == [
            "t.conf:1:17: field \"authorization.users\" is empty: clients need no credentials",
        ])
    }

    @Test(arguments: [
        ("authorization {\n  users = [ {user: a, password: b} ]\n  token: x\n}",
         "t.conf:1:1: Can not have a token and a users array"),
        ("authorization {\n  user: u, password: p\n  users = [ {user: a, password: b} ]\n}",
         "t.conf:1:1: Can not have a single user/pass and a users array"),
        ("authorization { user: u, password: p, token: t }", "t.conf:1:1: Cannot have a user/pass and token"),
        ("authorization { users = {user: a} }", "t.conf:1:17: Expected users field to be an array, got map"),
        ("authorization { users = [ a ] }", "t.conf:1:17: Expected user entry to be a map/struct, got string"),
        ("authorization { users = [ {password: b} ] }", "t.conf:1:28: User entry requires a user"),
        ("authorization { users = [ {user: a, password: b}, {user: a, password: c} ] }",
         "t.conf:1:52: Duplicate user \"a\" detected"),
        ("authorization { users = [ {user: a, password: b, colour: red} ] }",
         "t.conf:1:50: unknown field \"colour\""),
        ("authorization { users = [ {user: a, password: 7} ] }",
         "t.conf:1:37: expected a string for \"password\", got integer"),
        ("authorization { users = [ {user: a, password: \"b\\x00c\"} ] }",
         "t.conf:1:37: \"password\" must not contain a NUL byte"),
        ("authorization { user: a, password: \"b\\x00\" }", "t.conf:1:26: \"password\" must not contain a NUL byte"),
        ("authorization { token: \"\\x00t\" }", "t.conf:1:17: \"token\" must not contain a NUL byte"),
        ("cluster { authorization { users = [ {user: a, password: b} ] } }",
         "t.conf:1:27: Cluster authorization does not allow multiple users"),
    ])
    func errors(_ text: String, _ expected: String) {
        do {
            let (o, _) = try apply(text)
            Issue.record("accepted: \(o.users)")
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test func variablesInsideUserEntriesAreNotUnknownFields() throws {
        let (o, _) = try apply("PASS: s3cret\nauthorization { users = [ {user: a, password: $PASS} ] }")
        #expect(o.users == [ServerOptions.User(username: "a", password: "s3cret")])
    }
}
