import Foundation
import Logging
import NATSConfig
import NATSJSON
import NATSServer
import NATSSublist
import Testing
@testable import NATSMonitoring

/// Monitoring with accounts: the sublist figures added up over accounts and loops, the authorized user
/// /connz shows, and /accountz answered by a server built from an `accounts` block.
@Suite struct AccountMonitoringTests {
    // MARK: Sublist figures

    @Test func accountsAddUpAndLoopsShareTheirSublist() {
        var totals = SublistTotals()
        // Account one on two loops: the sublist counts once, match and cache figures per loop.
        totals.add(account: [
            SublistStats(count: 4, inserts: 6, removes: 2, matches: 10, cacheHits: 5, cacheEntries: 2, maxFanout: 3, averageFanout: 2),
            SublistStats(count: 4, inserts: 6, removes: 2, matches: 10, cacheHits: 10, cacheEntries: 1, maxFanout: 1, averageFanout: 1),
        ])
        totals.add(account: [SublistStats(count: 1, inserts: 1, matches: 0, cacheEntries: 1, maxFanout: 5, averageFanout: 5)])
        let stats = totals.stats
        #expect(stats.count == 5 && stats.inserts == 7 && stats.removes == 2)
        #expect(stats.matches == 20 && stats.cacheHits == 15 && stats.cacheEntries == 4 && stats.maxFanout == 5)
        // Fan-out over every cached result: (2·2 + 1·1 + 5·1) / 4.
        #expect(stats.averageFanout == 2.5)
        #expect(totals.cacheHitRate == 0.75)
    }

    @Test func noAccountsOrNoMatchesAreZero() {
        var totals = SublistTotals()
        #expect(totals.cacheHitRate == 0 && totals.stats == SublistStats())
        totals.add(account: [])
        totals.add(account: [SublistStats(count: 2, inserts: 2)])
        #expect(totals.stats.count == 2 && totals.cacheHitRate == 0 && totals.stats.averageFanout == 0)
    }

    // MARK: Authorized user

    @Test func authorizedUserIsWhatTheClientOffered() {
        func shown(nkey: String = "", user: String = "", token: String = "", login: String = "") -> String {
            var options = ConnectOptions()
            options.nkey = nkey
            options.user = user
            options.authToken = token
            return ClientSnapshot.authorizedUser(connect: options, login: login)
        }
        #expect(shown(nkey: "UABC", user: "u", token: "t") == "UABC")
        #expect(shown(user: "u", token: "t", login: "other") == "u")
        #expect(shown(token: "secret") == "[REDACTED]")
        // Nothing offered: the no_auth_user the client was let in as, or nothing.
        #expect(shown(login: "anonymous") == "anonymous")
        #expect(shown() == "")
    }

    // MARK: /accountz

    private static let accounts = """
        accounts {
          A { users = [ {user: a, password: a} ]
              exports = [ {stream: "feed.>", accounts: [B]}, {service: "help.*", response_type: chunked} ] }
          B { users = [ {user: b, password: b} ]
              imports = [ {stream: {account: A, subject: "feed.>"}, prefix: "a"},
                          {service: {account: A, subject: "help.*"}, to: "ask.*"} ] }
          OPS { users = [ {user: o, password: o} ] }
        }
        system_account: OPS
        """

    /// A one-loop server from `accounts` and its monitor (not listening: requests are answered directly).
    private func withMonitor(_ body: (MonitorServer) throws -> Void) throws {
        var options = ServerOptions()
        _ = try options.apply(config: ConfigFileParser.parse(Self.accounts, file: "t.conf", environment: [:]))
        options.loops = 1
        let server = try Server(options: options, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        try body(MonitorServer(server: server))
        #expect(server.loop.shutdown() == 0)
    }

    private func document(_ response: MonitorResponse) throws -> [String: Any] {
        #expect(response.status == "200 OK")
        return try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
    }

    @Test func accountzListsTheAccounts() throws {
        try withMonitor { monitor in
            let list = try document(monitor.respond(to: "/accountz"))
            #expect(list["accounts"] as? [String] == ["$G", "A", "B", "OPS"])
            #expect(list["system_account"] as? String == "OPS")
            #expect(list["account_detail"] == nil)
        }
    }

    @Test func accountzDetailsExportsAndImports() throws {
        try withMonitor { monitor in
            let exporter = try #require(try document(monitor.respond(to: "/accountz?acc=A"))["account_detail"] as? [String: Any])
            #expect(exporter["account_name"] as? String == "A" && exporter["is_system"] == nil)
            #expect(exporter["client_connections"] as? Int == 0 && exporter["imports"] == nil)
            let exports = try #require(exporter["exports"] as? [[String: Any]])
            #expect(exports.count == 2)
            #expect(exports[0]["approved_accounts"] as? [String] == ["B"] && exports[0]["response_type"] == nil)
            #expect(exports[1]["response_type"] as? String == "Chunked" && exports[1]["approved_accounts"] == nil)
            // The service export's responses come back on one internal subscription.
            #expect(exporter["subscriptions"] as? Int == 1)

            let importer = try #require(try document(monitor.respond(to: "/accountz?acc=B"))["account_detail"] as? [String: Any])
            let imports = try #require(importer["imports"] as? [[String: Any]])
            #expect(imports.map { $0["type"] as? String } == ["stream", "service"])
            #expect(imports[0]["local_subject"] as? String == "a.feed.>" && imports[0]["to"] == nil)
            #expect(imports[1]["subject"] as? String == "help.*" && imports[1]["to"] as? String == "ask.*")
            #expect(imports[1]["local_subject"] as? String == "ask.*" && imports[1]["account"] as? String == "A")
            let system = try #require(try document(monitor.respond(to: "/accountz?acc=OPS"))["account_detail"] as? [String: Any])
            #expect(system["is_system"] as? Bool == true)
        }
    }

    @Test func accountzUnknownAccountIsRefused() throws {
        try withMonitor { monitor in
            let response = monitor.respond(to: "/accountz?acc=Z")
            #expect(response.status == "400 Bad Request" && response.body == "Account Z does not exist")
        }
    }
}
