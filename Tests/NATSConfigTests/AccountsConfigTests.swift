import Testing
@testable import NATSConfig

/// Issue 8, point 2: the `accounts` block as nats-server reads it (opts.go `parseAccounts`), its users,
/// exports and imports, and the checks made once every account is known.
@Suite struct AccountsConfigTests {
    func apply(_ text: String) throws(ConfigError) -> ServerOptions {
        var options = ServerOptions()
        _ = try options.apply(config: ConfigFileParser.parse(text, file: "t.conf", environment: [:]))
        try options.validate()
        return options
    }

    func expectError(_ text: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try apply(text)
            Issue.record("accepted", sourceLocation: sourceLocation)
        } catch {
            #expect(error.message == message, sourceLocation: sourceLocation)
        }
    }

    static let sharing = """
        accounts {
          A {
            users = [ {user: a, password: a}, {user: a2, password: a2, permissions: {publish: "x"}} ]
            default_permissions { subscribe: "only.>" }
            exports = [
              {stream: "feed.>"}
              {service: "help.*", response_type: stream, response_threshold: "5s", accounts: [B]}
            ]
          }
          B {
            users = [ {user: b, password: b} ]
            imports = [
              {stream: {account: A, subject: "feed.>"}, prefix: "from.a."}
              {service: {account: A, subject: "help.me"}, to: "ask.a"}
            ]
          }
          C: {}
        }
        authorization { users = [ {user: g, password: g} ] }
        no_auth_user: b
        """

    @Test func usersJoinTheirAccountWithItsDefaultPermissions() throws {
        let o = try apply(Self.sharing)
        #expect(o.accounts.map(\.name) == ["A", "B", "C"])
        let byName = Dictionary(uniqueKeysWithValues: o.users.map { ($0.username, $0) })
        #expect(byName["a"]?.account == "A")
        #expect(byName["a"]?.permissions?.subscribe?.allow == ["only.>"])
        // A user's own permissions replace the account's defaults (nats-server: no merge).
        #expect(byName["a2"]?.permissions?.publish?.allow == ["x"])
        #expect(byName["a2"]?.permissions?.subscribe == nil)
        #expect(byName["b"]?.account == "B")
        #expect(byName["g"]?.account == "")
        #expect(o.noAuthUser == "b")
    }

    @Test func exportsAndImports() throws {
        let o = try apply(Self.sharing)
        let a = try #require(o.accounts.first { $0.name == "A" })
        #expect(a.exports.map(\.kind) == [.stream, .service])
        #expect(a.exports[0].subject == "feed.>" && a.exports[0].accounts.isEmpty && a.exports[0].admits("C"))
        #expect(a.exports[1].responseType == .stream && a.exports[1].responseThresholdSeconds == 5)
        #expect(a.exports[1].admits("B") && !a.exports[1].admits("C"))
        let b = try #require(o.accounts.first { $0.name == "B" })
        #expect(b.imports[0].kind == .stream && b.imports[0].prefix == "from.a")
        #expect(b.imports[0].localSubject == "from.a.feed.>")
        #expect(b.imports[1].kind == .service && b.imports[1].to == "ask.a" && b.imports[1].localSubject == "ask.a")
    }

    @Test func aServiceImportWithoutToAnswersOnItsOwnSubject() throws {
        let o = try apply("""
            accounts { A { exports = [ {service: q} ] }, B { imports = [ {service: {account: A, subject: q}} ] } }
            """)
        #expect(o.accounts[1].imports[0].to == "q")
    }

    @Test func aListOfNamesDeclaresEmptyAccounts() throws {
        let o = try apply("accounts: [X, Y]\nsystem_account: Y")
        #expect(o.accounts.map(\.name) == ["X", "Y"] && o.systemAccount == "Y")
    }

    @Test(arguments: [
        ("accounts { $G {} }", "\"$G\" is a Reserved Account"),
        ("accounts: [A, A]", "Duplicate Account Entry: A"),
        ("accounts { A { users = [ {user: u} ] }, B { users = [ {user: u} ] } }", "Duplicate user \"u\" detected"),
        ("authorization { user: x, password: y }\naccounts { A { users = [ {user: a} ] } }", "Can not have a single user/pass and accounts"),
        ("authorization { token: t }\naccounts { A { users = [ {user: a} ] } }", "Can not have a token and accounts"),
        ("accounts { B { imports = [ {stream: {account: A, subject: x}} ] } }",
         "\"A\" account not defined for stream import"),
        ("accounts { A { exports = [ {stream: x, accounts: [Z]} ] } }", "\"Z\" account not defined for stream export"),
        ("accounts { A { exports = [ {stream: x.y} ] }, B { imports = [ {stream: {account: A, subject: x.*}} ] } }",
         "Error adding stream import \"x.*\": stream import not authorized"),
        ("accounts { A { exports = [ {service: x} ] }, B { imports = [ {stream: {account: A, subject: x}} ] } }",
         "Error adding stream import \"x\": stream import not authorized"),
        ("accounts { A { exports = [ {stream: x, accounts: [C]} ] }, B { imports = [ {stream: {account: A, subject: x}} ] }, C {} }",
         "Error adding stream import \"x\": stream import not authorized"),
        ("accounts { A { exports = [ {stream: x, response_type: stream} ] } }", "Detected response directive on non-service"),
        ("accounts { A { exports = [ {service: x, response_type: many} ] } }", "Unknown response type: \"many\""),
        ("accounts { A { exports = [ {service: x} ] }, B { imports = [ {service: {account: A, subject: x}, prefix: p} ] } }",
         "Service import can not have a 'prefix' property"),
        ("accounts { A { exports = [ {stream: x} ] }, B { imports = [ {stream: {account: A, subject: x}, prefix: p, to: q} ] } }",
         "Stream import can not have a 'prefix' and a 'to' property"),
        ("accounts { A { exports = [ {stream: \"a..b\"} ] } }", "subject \"a..b\" is not a valid subject"),
        ("accounts: [A]\nsystem_account: NOPE", "error resolving system account: account missing (\"NOPE\" is not in the accounts block)"),
        ("accounts { A: 1 }", "Expected map entries for accounts"),
        ("accounts { A { colour: red } }", "unknown field \"colour\""),
        // Mappings whose wildcards do not stand for the source's (nats-server refuses them too).
        ("accounts { A { exports = [ {stream: a.>} ] }, B { imports = [ {stream: {account: A, subject: a.>}, to: b} ] } }",
         "Error adding stream import \"a.>\": invalid mapping destination \"b\" for \"a.>\" (its wildcards must stand for the source's, one each)"),
        ("accounts { A { exports = [ {stream: a.*} ] }, B { imports = [ {stream: {account: A, subject: a.*}, to: b.*.*} ] } }",
         "Error adding stream import \"a.*\": invalid mapping destination \"b.*.*\" for \"a.*\" (its wildcards must stand for the source's, one each)"),
        ("accounts { A { exports = [ {stream: a.>} ] }, B { imports = [ {stream: {account: A, subject: a.>}, prefix: p.*} ] } }",
         "Error adding stream import \"a.>\": prefix \"p.*\" can not contain wildcards"),
        ("accounts { A { exports = [ {service: a.*.*} ] }, B { imports = [ {service: {account: A, subject: a.*.*}, to: b.*} ] } }",
         "Error adding service import \"a.*.*\": invalid mapping destination \"a.*.*\" for \"b.*\" (its wildcards must stand for the source's, one each)"),
        // Imports that lead back to the importer, in file order as nats-server adds them.
        ("accounts { A { exports = [ {service: \">\"} ], imports = [ {service: {account: A, subject: q.x}}, "
            + "{service: {account: A, subject: q.>}} ] } }",
         "Error adding service import \"q.>\": import forms a cycle"),
        ("accounts { A { exports = [ {service: q} ], imports = [ {service: {account: B, subject: q}} ] }, "
            + "B { exports = [ {service: q} ], imports = [ {service: {account: A, subject: q}} ] } }",
         "Error adding service import \"q\": import forms a cycle"),
        ("accounts { A { exports = [ {stream: \">\"} ], imports = [ {stream: {account: B, subject: \">\"}} ] }, "
            + "B { exports = [ {stream: \">\"} ], imports = [ {stream: {account: A, subject: \">\"}} ] } }",
         "Error adding stream import \">\": import forms a cycle"),
        ("accounts { A { exports = [ {stream: s} ] }, B { imports = [ {stream: {account: A, subject: s}}, "
            + "{stream: {account: A, subject: s}} ] } }",
         "Error adding stream import \"s\": stream import already exists"),
    ])
    func mistakesAreRefusedWithNatsServersWords(_ text: String, _ message: String) {
        expectError(text, message)
    }

    /// nats-server adds an import before the next one is checked: an account's first import of its own
    /// service is no cycle yet (and, at run time, a request goes through it once).
    @Test func oneImportOfAnAccountsOwnServiceIsAccepted() throws {
        let o = try apply("accounts { A { exports = [ {service: x} ], imports = [ {service: {account: A, subject: x}} ] } }")
        #expect(o.accounts[0].imports.count == 1)
    }

    @Test func numberedWildcardReferencesAreAccepted() throws {
        let o = try apply("""
            accounts {
              A { exports = [ {stream: "a.*.*"} ] }
              B { imports = [ {stream: {account: A, subject: "a.*.*"}, to: "b.$2.$1"},
                              {stream: {account: A, subject: "a.*.*"}, to: "c.{{wildcard(1)}}.{{wildcard(2)}}"} ] }
            }
            """)
        #expect(o.accounts[1].imports.map(\.to) == ["b.$2.$1", "c.{{wildcard(1)}}.{{wildcard(2)}}"])
    }

    @Test func importsThatDoNotCollideFormNoCycle() throws {
        _ = try apply("""
            accounts {
              A { exports = [ {service: a.>} ], imports = [ {service: {account: B, subject: b.x}} ] }
              B { exports = [ {service: b.>} ], imports = [ {service: {account: A, subject: a.x}} ] }
            }
            """)
    }

    @Test func theSystemAccountMayBeTheImplicitSYS() throws {
        #expect(try apply("system_account: \"$SYS\"").systemAccount == "$SYS")
    }

    @Test(arguments: [
        ("foo.>", "foo.bar", true), ("foo.>", "foo.>", true), ("foo.>", "foo", false), ("foo.*", "foo.bar", true),
        ("foo.*", "foo.>", false), ("foo.*", "foo.*", true), ("foo.bar", "foo.*", false), (">", "a.b.c", true),
        ("a.b", "a.b", true), ("a.b", "a.c", false),
    ])
    func coverage(_ pattern: String, _ subject: String, _ covered: Bool) {
        #expect(SubjectCoverage.covers(pattern: pattern, subject: subject) == covered)
    }
}
