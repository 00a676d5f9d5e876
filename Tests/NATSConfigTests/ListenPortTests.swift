import Testing
@testable import NATSConfig

/// Configured listener ports resolved as nats-server resolves them (server/opts.go `setBaselineOptions`,
/// route.go `StartRouting`, server.go `startMonitoring`).
@Suite struct ListenPortTests {
    func options(_ arguments: [String]) throws -> ServerOptions {
        guard case .run(let options) = try CommandLineParser.parse(arguments) else {
            Issue.record("not a run action")
            return ServerOptions()
        }
        return options
    }

    @Test func clientPortZeroIsTheDefaultAndMinusOneIsAnyFreePort() throws {
        #expect(try options([]).clientListenPort == 4222)
        #expect(try options(["-p", "0"]).clientListenPort == 4222)
        #expect(try options(["-p", "-1"]).clientListenPort == 0)
        #expect(try options(["-p", "5222"]).clientListenPort == 5222)
        // Out-of-range values pass through: binding them fails at start-up, as in nats-server.
        #expect(try options(["-p", "-5"]).clientListenPort == -5)
        #expect(try options(["-p", "70000"]).clientListenPort == 70000)
    }

    @Test func clientPortZeroFromAConfigFileIsTheDefaultToo() throws {
        var options = ServerOptions()
        try options.apply(config: ConfigFileParser.parse("port: 0"))
        #expect(options.clientListenPort == 4222)
        try options.apply(config: ConfigFileParser.parse("listen: \"127.0.0.1:0\""))
        #expect(options.host == "127.0.0.1")
        #expect(options.clientListenPort == 4222)
        try options.apply(config: ConfigFileParser.parse("listen: -1"))
        #expect(options.clientListenPort == 0)
    }

    @Test func monitoringPortZeroIsOff() throws {
        #expect(try options([]).monitoringListenPort == nil)
        #expect(try options(["-m", "0"]).monitoringListenPort == nil)
        #expect(try options(["-m", "-1"]).monitoringListenPort == 0)
        #expect(try options(["-m", "8222"]).monitoringListenPort == 8222)
        var options = ServerOptions()
        try options.apply(config: ConfigFileParser.parse("http: \"127.0.0.1:0\""))
        #expect(options.monitoringListenPort == nil)
        try options.apply(config: ConfigFileParser.parse("http_port: -1"))
        #expect(options.monitoringListenPort == 0)
    }

    @Test func clusterPortZeroIsOff() throws {
        #expect(try options([]).cluster.listenPort == nil)
        #expect(try options(["--cluster", "nats://127.0.0.1:0"]).cluster.listenPort == nil)
        #expect(try options(["--cluster", "nats://127.0.0.1:-1"]).cluster.listenPort == 0)
        #expect(try options(["--cluster", "nats://127.0.0.1:6222"]).cluster.listenPort == 6222)
        var options = ServerOptions()
        try options.apply(config: ConfigFileParser.parse("cluster { listen: \"127.0.0.1:0\" }"))
        #expect(options.cluster.listenPort == nil)
        try options.apply(config: ConfigFileParser.parse("cluster { port: -1 }"))
        #expect(options.cluster.listenPort == 0)
    }

    @Test func portsOutsideTheTCPRangeHaveGoReason() {
        #expect(ServerOptions.invalidPortReason(0) == nil)
        #expect(ServerOptions.invalidPortReason(65535) == nil)
        #expect(ServerOptions.invalidPortReason(-5) == "address -5: invalid port")
        #expect(ServerOptions.invalidPortReason(65536) == "address 65536: invalid port")
    }
}
