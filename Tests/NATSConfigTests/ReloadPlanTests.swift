import Testing
@testable import NATSConfig

/// The option diff of a configuration reload: which options changed, the notices nats-server logs for
/// them, and nats-server's refusal text for the ones that cannot be reloaded.
@Suite struct ReloadPlanTests {
    func options(_ text: String) throws -> ServerOptions {
        var options = ServerOptions()
        _ = try options.apply(config: ConfigFileParser.parse(text, file: "t.conf", environment: [:]))
        return options
    }

    func plan(_ old: String, _ new: String) throws -> ReloadPlan {
        try options(old).reloadPlan(to: options(new))
    }

    func refusal(_ old: String, _ new: String) throws -> String? {
        let (before, after) = (try options(old), try options(new))
        do throws(ReloadError) {
            _ = try before.reloadPlan(to: after)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func nothingChangedIsAnEmptyPlan() throws {
        let plan = try plan("max_payload: 1000\n", "\n\nmax_payload: 1000\n")
        #expect(plan.parts.isEmpty)
        #expect(plan.notices.isEmpty)
    }

    @Test func limitsAndLoggingAreNoticedInNatsServersWords() throws {
        let plan = try plan("port: 4222\n",
                            "port: 4222\ndebug: true\nmax_payload: 2000\nping_interval: \"30s\"\nwrite_deadline: \"3s\"\n")
        #expect(plan.parts == [.logging, .limits])
        #expect(plan.notices == ["debug = true", "max_payload = 2000", "ping_interval = 30s", "write_deadline = 3s"])
    }

    @Test func usersChangeIsAnAuthorizationChange() throws {
        let old = "authorization { users = [ {user: a, password: a}, {user: b, password: b} ] }\n"
        let new = "authorization { users = [ {user: a, password: a, permissions: {publish: x}} ] }\n"
        let plan = try plan(old, new)
        #expect(plan.parts == [.authorization])
        #expect(plan.notices == ["authorization users", "accounts"])
    }

    @Test func routesAddedAndRemoved() throws {
        let old = "cluster { port: 6222, routes: [\"nats-route://h1:6222\", \"nats-route://h2:6222\"] }\n"
        let new = "cluster { port: 6222, routes: [\"nats-route://h2:6222\", \"nats-route://h3:6222\"] }\n"
        let plan = try plan(old, new)
        #expect(plan.parts == [.routes])
        #expect(plan.routesAdded == [RouteURL(host: "h3", port: 6222)])
        #expect(plan.routesRemoved == [RouteURL(host: "h1", port: 6222)])
    }

    @Test func tlsBlocksAreReloadable() throws {
        let plan = try plan("tls { cert_file: a.pem, key_file: a.key }\n", "tls { cert_file: b.pem, key_file: b.key }\n")
        #expect(plan.parts == [.clientTLS])
        #expect(plan.notices == ["tls = enabled"])
    }

    @Test(arguments: [
        ("max_pending: 2000000\n", "config reload not supported for MaxPending: old=67108864, new=2000000"),
        ("max_subscriptions: 5\n", "config reload not supported for MaxSubs: old=0, new=5"),
        ("port: 4333\n", "config reload not supported for Port: old=4222, new=4333"),
        ("server_name: other\n", "config reload not supported for ServerName: old=, new=other"),
    ])
    func optionsThatCannotBeReloadedAreRefused(change: String, message: String) throws {
        #expect(try refusal("max_payload: 1000\n", "max_payload: 2000\n" + change) == message)
    }

    @Test func clusterListenCannotChange() throws {
        #expect(try refusal("cluster { port: 6222 }\n", "cluster { port: 6333 }\n")
                == "config reload not supported for cluster port: old=6222, new=6333")
    }

    @Test func pidFileAndPortsFileDirMove() throws {
        let plan = try plan("pid_file: /tmp/a.pid\nports_file_dir: /tmp/a\n", "pid_file: /tmp/b.pid\nports_file_dir: /tmp/b\n")
        #expect(plan.parts == [.pidFile, .portsFileDir])
        #expect(plan.notices == ["pid_file = /tmp/b.pid", "ports_file_dir = /tmp/b"])
    }

    @Test func pidFileRemovedIsSilent() throws {
        // nats-server writes nothing and logs nothing when the pid file is taken out of the config.
        let plan = try plan("pid_file: /tmp/a.pid\n", "\n")
        #expect(plan.parts.isEmpty)
        #expect(plan.notices.isEmpty)
    }

    @Test func accountAddedIsAnAccountsChange() throws {
        let plan = try plan("accounts { A: {} }\n", "accounts { A: {}, B: {} }\n")
        #expect(plan.parts == [.accounts])
        #expect(plan.notices == ["accounts"])
    }

    @Test func importsAndExportsChangedAreAnAccountsChange() throws {
        let old = "accounts { A: { exports = [ {stream: \"a.>\"} ] }, B: {} }\n"
        let new = "accounts { A: { exports = [ {stream: \"a.>\"} ] }, B: { imports = [ {stream: {account: A, subject: \"a.>\"}} ] } }\n"
        #expect(try plan(old, new).parts == [.accounts])
        #expect(try plan(new, old).parts == [.accounts])
    }

    /// An account's users are `users` entries with their account set: moving one is an authorization change.
    @Test func userMovedToAnotherAccountIsAnAuthorizationChange() throws {
        let old = "accounts { A: { users = [ {user: u, password: p} ] }, B: {} }\n"
        let new = "accounts { A: {}, B: { users = [ {user: u, password: p} ] } }\n"
        let plan = try plan(old, new)
        #expect(plan.parts == [.authorization])
        #expect(plan.notices == ["authorization users", "accounts"])
    }

    @Test func accountRemovedWithItsUsersIsBothChanges() throws {
        let plan = try plan("accounts { A: {}, B: { users = [ {user: u, password: p} ] } }\n", "accounts { A: {} }\n")
        #expect(plan.parts == [.authorization, .accounts])
        #expect(plan.notices == ["authorization users", "accounts"])
    }

    @Test func accountsMovedInTheFileAreNoChange() throws {
        let plan = try plan("accounts { A: {} }\n", "\n\naccounts {\n  A: {}\n}\n")
        #expect(plan.parts.isEmpty)
        #expect(plan.notices.isEmpty)
    }

    @Test func clusterChangesAreOneNotice() throws {
        let old = "cluster { port: 6222, name: a, permissions: { import: \"x.>\" } }\n"
        let new = """
            cluster { port: 6222, name: b, advertise: "h:1", no_advertise: true, connect_retries: 3,
                      permissions: { import: "y.>" }, authorization: { user: u, password: p } }

            """
        let plan = try plan(old, new)
        #expect(plan.parts == [.cluster, .clusterPermissions, .clusterAuthorization])
        #expect(plan.notices == ["cluster"])
    }

    @Test(arguments: [
        ("cluster { port: 6222, permissions: { export: \"x.>\" } }\n", ReloadPlan.Part.clusterPermissions),
        ("cluster { port: 6222, authorization: { user: u, password: p } }\n", .clusterAuthorization),
        ("cluster { port: 6222, ping_interval: \"5s\" }\n", .cluster),
        ("cluster { port: 6222, authorization: { user: u, password: p, timeout: 3 } }\n", .clusterAuthorization),
    ])
    func clusterPartsAreTold(new: String, part: ReloadPlan.Part) throws {
        let plan = try plan("cluster { port: 6222 }\n", new)
        #expect(plan.parts.contains(part))
        #expect(plan.notices == ["cluster"])
    }

    @Test func clusterRoutesAndTLSStaySeparate() throws {
        let plan = try plan("cluster { port: 6222 }\n", "cluster { port: 6222, routes: [\"nats-route://h:1\"], name: n }\n")
        #expect(plan.parts == [.cluster, .routes])
        #expect(plan.notices == ["cluster", "cluster routes"])
    }

    @Test func poolSizeCannotChangeInNatsd() throws {
        let message = try refusal("cluster { port: 6222, pool_size: 3 }\n", "cluster { port: 6222, pool_size: 5 }\n")
        #expect(message == "config reload not supported for cluster pool_size: old=3, new=5 "
                + "(natsd does not re-create its routes while running: restart it)")
        // 0 means the default size: nothing changes, nothing is refused.
        #expect(try refusal("cluster { port: 6222, pool_size: 3 }\n", "cluster { port: 6222, pool_size: 0 }\n") == nil)
    }

    @Test func clusterHostCannotChange() throws {
        #expect(try refusal("cluster { host: \"127.0.0.1\", port: 6222 }\n", "cluster { host: localhost, port: 6222 }\n")
                == "config reload not supported for cluster host: old=127.0.0.1, new=localhost")
    }

    @Test func systemAccountStillCannotChange() throws {
        let message = try refusal("accounts { A: {}, S: {} }\nsystem_account: A\n", "accounts { A: {}, S: {} }\nsystem_account: S\n")
        #expect(message == "config reload not supported for SystemAccount: old=A, new=S")
    }

    @Test func goDurations() {
        #expect(GoFormat.duration(seconds: 120) == "2m0s")
        #expect(GoFormat.duration(seconds: 30) == "30s")
        #expect(GoFormat.duration(seconds: 3600) == "1h0m0s")
        #expect(GoFormat.duration(seconds: 1.5) == "1.5s")
        #expect(GoFormat.duration(seconds: 0.5) == "500ms")
    }
}
