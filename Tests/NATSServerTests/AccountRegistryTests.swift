import Testing
import NATSConfig
@testable import NATSServer

/// The registry a configuration reload builds (issue 10 point 1): accounts that stay keep their Account
/// object (subscriptions, interest, matchers), removed ones are set aside and taken up again if their name
/// comes back, and imports that did not change keep their objects (live shadows and internal subscriptions
/// carry on).
@Suite struct AccountRegistryTests {
    static let loops = 2

    func options(_ text: String) throws -> ServerOptions {
        var options = ServerOptions()
        _ = try options.apply(config: ConfigFileParser.parse(text, file: "t.conf", environment: [:]))
        return options
    }

    func registry(_ text: String, previous: AccountRegistry? = nil) throws -> AccountRegistry {
        AccountRegistry(options: try options(text), previous: previous, loopCount: Self.loops)
    }

    static let shared = """
        accounts {
          A: { exports = [ {stream: "events.>"}, {service: "svc.time"} ] }
          B: { imports = [ {stream: {account: A, subject: "events.>"}}, {service: {account: A, subject: "svc.time"}, to: "time"} ] }
        }
        """

    @Test func keptAccountsKeepTheirObjectsAndNewOnesGetLoops() throws {
        let first = try registry("accounts { A: {}, B: {} }\n")
        let second = try registry("accounts { A: {}, C: {} }\n", previous: first)
        #expect(second.all.map(\.name) == ["$G", "A", "C"])
        #expect(second.global === first.global)
        #expect(second.account(named: "A") === first.account(named: "A"))
        #expect(second.account(named: "B") == nil)
        let added = try #require(second.account(named: "C"))
        #expect(added.hasLoops)
        #expect(added.matcher(onLoop: Self.loops - 1) !== added.matcher(onLoop: 0))
    }

    @Test func removedAccountIsTakenUpAgainWhenItsNameComesBack() throws {
        let first = try registry("accounts { A: {}, B: {} }\n")
        let removed = try #require(first.account(named: "B"))
        let second = try registry("accounts { A: {} }\n", previous: first)
        #expect(second.retired["B"] === removed)
        let third = try registry("accounts { A: {}, B: {} }\n", previous: second)
        #expect(third.account(named: "B") === removed)
        #expect(third.retired.isEmpty)
    }

    @Test func unchangedImportsKeepTheirObjects() throws {
        let first = try registry(Self.shared)
        let second = try registry("\n\n" + Self.shared, previous: first)
        let importer = try #require(second.account(named: "B")), exporter = try #require(second.account(named: "A"))
        let before = first.sharing(of: importer), after = second.sharing(of: importer)
        #expect(after.streamImports.count == 1 && after.streamImports[0] === before.streamImports[0])
        #expect(after.serviceImports.count == 1 && after.serviceImports[0] === before.serviceImports[0])
        #expect(second.sharing(of: exporter).responses === first.sharing(of: exporter).responses)
        #expect(after.serviceImports[0].responses === second.sharing(of: exporter).responses)
    }

    @Test func changedExportTermsMakeANewServiceImportWithTheSameResponses() throws {
        let first = try registry(Self.shared)
        let changed = Self.shared.replacingOccurrences(of: "{service: \"svc.time\"}",
                                                       with: "{service: \"svc.time\", response_type: stream}")
        let second = try registry(changed, previous: first)
        let importer = try #require(second.account(named: "B")), exporter = try #require(second.account(named: "A"))
        #expect(second.sharing(of: importer).serviceImports[0] !== first.sharing(of: importer).serviceImports[0])
        #expect(second.sharing(of: importer).streamImports[0] === first.sharing(of: importer).streamImports[0])
        #expect(second.sharing(of: exporter).responses === first.sharing(of: exporter).responses)
    }

    @Test func removedImportsLeaveNoSharing() throws {
        let first = try registry(Self.shared)
        let second = try registry("accounts { A: { exports = [ {stream: \"events.>\"} ] }, B: {} }\n", previous: first)
        let importer = try #require(second.account(named: "B")), exporter = try #require(second.account(named: "A"))
        #expect(second.sharing(of: importer).streamImports.isEmpty && second.sharing(of: importer).serviceImports.isEmpty)
        #expect(second.sharing(of: exporter).responses == nil)
    }
}
