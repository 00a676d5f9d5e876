import Foundation
import Testing
@testable import NATSConfig

@Suite struct CommandLineParserTests {
    func run(_ arguments: [String]) throws(CommandLineError) -> ServerOptions {
        let action = try CommandLineParser.parse(arguments)
        guard case .run(let options) = action else { throw .invalid("not a run action: \(action)") }
        return options
    }

    func check(_ arguments: [String], _ body: (ServerOptions) -> Bool) throws {
        #expect(body(try run(arguments)), "\(arguments)")
    }

    @Test func valueFlagsInEveryForm() throws {
        for style in ["-", "--"] {
            for name in ["p", "port"] {
                try check(["\(style)\(name)", "5222"]) { $0.port == 5222 }
                try check(["\(style)\(name)=5223"]) { $0.port == 5223 }
            }
            for name in ["a", "addr", "net"] { try check(["\(style)\(name)", "127.0.0.1"]) { $0.host == "127.0.0.1" } }
            for name in ["n", "name", "server_name"] { try check(["\(style)\(name)=s1"]) { $0.serverName == "s1" } }
            for name in ["m", "http_port"] { try check(["\(style)\(name)", "8222"]) { $0.httpPort == 8222 } }
            for name in ["P", "pid"] { try check(["\(style)\(name)", "/tmp/p"]) { $0.pidFile == "/tmp/p" } }
            for name in ["l", "log"] { try check(["\(style)\(name)", "/tmp/l"]) { $0.logFile == "/tmp/l" } }
            try check(["\(style)user", "u", "\(style)pass", "p"]) { $0.username == "u" && $0.password == "p" }
            try check(["\(style)auth", "tok"]) { $0.authToken == "tok" }
            try check(["\(style)client_advertise", "h:1"]) { $0.clientAdvertise == "h:1" }
            try check(["\(style)ports_file_dir", "/tmp"]) { $0.portsFileDir == "/tmp" }
            try check(["\(style)cluster_name", "C"]) { $0.cluster.name == "C" }
            try check(["\(style)cluster_advertise", "h:2"]) { $0.cluster.advertise == "h:2" }
            try check(["\(style)connect_retries", "3"]) { $0.cluster.connectRetries == 3 }
            try check(["\(style)log_size_limit", "1000"]) { $0.logSizeLimit == 1000 }
            try check(["\(style)max_traced_msg_len", "10"]) { $0.maxTracedMessageLength == 10 }
        }
        try check(["-p", "-1"]) { $0.port == -1 }
        try check(["-p", "0x10"]) { $0.port == 16 }
        try check(["-p", "1", "-p", "2"]) { $0.port == 2 }
    }

    @Test func booleans() throws {
        try check(["-D"]) { $0.debug && !$0.trace }
        try check(["--debug"]) { $0.debug }
        try check(["-D=false"]) { !$0.debug }
        try check(["-V"]) { $0.trace && !$0.debug }
        try check(["--trace=1"]) { $0.trace }
        try check(["-DV"]) { $0.debug && $0.trace && !$0.traceVerbose }
        try check(["-VV"]) { $0.trace && $0.traceVerbose && !$0.debug }
        try check(["-DVV"]) { $0.debug && $0.trace && $0.traceVerbose }
        try check([]) { $0.logTime && !$0.logTimeUTC }
        try check(["-T=false"]) { !$0.logTime }
        try check(["--logtime=F"]) { !$0.logTime }
        try check(["--logtime_utc"]) { $0.logTimeUTC }
        try check(["--no_advertise"]) { $0.cluster.noAdvertise }
        try check(["--no_advertise=true"]) { $0.cluster.noAdvertise }
        // A bare boolean never takes the next argument: "false" is then a non-flag argument.
        #expect(throws: CommandLineError.unrecognizedCommand("false")) { try CommandLineParser.parse(["-D", "false"]) }
    }

    @Test func clusterAndRoutes() throws {
        let o = try run(["--cluster", "nats://ru:rp@127.0.0.1:6222", "--routes", "nats://a:1, nats-route://u:p@b:2"])
        #expect(o.cluster.host == "127.0.0.1" && o.cluster.port == 6222)
        #expect(o.cluster.username == "ru" && o.cluster.password == "rp")
        #expect(o.cluster.routes == [RouteURL(host: "a", port: 1), RouteURL(host: "b", port: 2, username: "u", password: "p")])
        try check(["--cluster_listen=nats://0.0.0.0:-1"]) { $0.cluster.port == -1 && $0.cluster.username.isEmpty }
        try check(["--cluster_pool_size", "-1"]) { $0.cluster.routePoolSize == nil }
        try check(["--cluster_pool_size=7"]) { $0.cluster.routePoolSize == 7 }
        #expect(throws: CommandLineError.invalid("expected cluster password to be set")) {
            try CommandLineParser.parse(["--cluster", "nats://user@127.0.0.1:6222"])
        }
        #expect(throws: CommandLineError.invalid("solicited routes require cluster capabilities, e.g. --cluster")) {
            try CommandLineParser.parse(["--routes", "nats://a:1"])
        }
    }

    @Test(arguments: [
        (["-x"], "flag provided but not defined: -x"),
        (["--http_host", "h"], "flag provided but not defined: -http_host"),
        (["---p", "1"], "bad flag syntax: ---p"),
        (["-=1"], "bad flag syntax: -=1"),
        (["-p"], "flag needs an argument: -p"),
        (["-p", "abc"], "invalid value \"abc\" for flag -p: parse error"),
        (["-D=maybe"], "invalid boolean value \"maybe\" for -D: parse error"),
        (["-p", "1", "extra"], "unrecognized command: \"extra\""),
        (["-t"], "must specify [-c, --config] option to check configuration file syntax"),
        (["--tls"], "TLS Server certificate must be present and valid"),
        (["--tlscert", "c.pem"], "TLS Server private key must be present and valid"),
        (["--tlsverify", "--tlskey", "k.pem"], "TLS Server certificate must be present and valid"),
        (["-js"], "natsd does not support -js"),
        (["-sl", "bogus"], "unknown signal \"bogus\""),
        (["-sl", "stop=1=2"], "invalid signal parameters: [2]"),
        (["-c", "/nonexistent/natsd.conf"], "error opening config file: cannot read /nonexistent/natsd.conf"),
        (["--cluster_pool_size", "1000"], "--cluster_pool_size must be at most 256"),
    ])
    func errors(_ arguments: [String], _ message: String) {
        do {
            let action = try CommandLineParser.parse(arguments)
            Issue.record("expected an error, got \(action)")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func usageOnlyForFlagSyntaxErrors() {
        #expect(CommandLineError.undefinedFlag("x").showsUsage)
        #expect(!CommandLineError.unrecognizedCommand("x").showsUsage)
    }

    @Test func helpVersionSignal() throws {
        for arguments in [["-h"], ["--help"], ["help"], ["-p", "1", "HELP"]] {
            guard case .help(let text) = try CommandLineParser.parse(arguments) else {
                Issue.record("\(arguments) is not help"); continue
            }
            #expect(text.contains("Usage: natsd [options]") && text.contains("Cluster Options:"))
        }
        for arguments in [["-v"], ["--version"], ["version"], ["-h", "-v"]] {
            #expect(try CommandLineParser.parse(arguments) == .version("natsd: v\(CommandLineParser.version)"))
        }
        #expect(try CommandLineParser.parse(["-sl", "reload"]) == .signal(command: "reload", pid: nil))
        #expect(try CommandLineParser.parse(["--signal=stop=123"]) == .signal(command: "stop", pid: "123"))
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("natsd-\(UUID()).pid")
        try "4321\n".write(to: pidFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: pidFile) }
        #expect(try CommandLineParser.parse(["-sl", "ldm=\(pidFile.path)"]) == .signal(command: "ldm", pid: "4321"))
    }

    @Test func flagsOverrideConfigFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("natsd-\(UUID()).conf")
        try """
            port: 1111
            server_name: from_config
            debug: true
            ping_interval: 2m
            cluster { listen: 127.0.0.1:6222, authorization { user: a, password: b } }
            """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        // Flags win whatever their position relative to -c.
        let o = try run(["-p", "2222", "-c", file.path, "-D=false", "--cluster", "nats://127.0.0.1:7222"])
        #expect(o.port == 2222 && o.serverName == "from_config" && !o.debug && o.configFile == file.path)
        #expect(o.cluster.port == 7222 && o.cluster.username.isEmpty)
        #expect(o.configWarnings.count == 1)
        let checked = try run(["-t", "--config=\(file.path)"])
        #expect(checked.checkConfig && checked.port == 1111 && checked.debug)
        var base = ServerOptions()
        base.maxPayload = 7
        guard case .run(let fromBase) = try CommandLineParser.parse(["-c", file.path], base: base) else {
            Issue.record("not run"); return
        }
        #expect(fromBase.maxPayload == 7 && fromBase.port == 1111)
    }

    @Test func configErrorsSurface() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("natsd-\(UUID()).conf")
        try "port: 1\nbogus: 2\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: CommandLineError.config(ConfigError("unknown field \"bogus\"",
            at: ConfigPosition(file: file.path, line: 2, column: 1)))) {
            try CommandLineParser.parse(["-c", file.path])
        }
    }

    @Test func goIntegers() {
        #expect(CommandLineParser.parseGoInt("42") == 42)
        #expect(CommandLineParser.parseGoInt("-0x1F") == -31)
        #expect(CommandLineParser.parseGoInt("1_000") == 1000)
        #expect(CommandLineParser.parseGoInt("010") == 8)
        #expect(CommandLineParser.parseGoInt("") == nil)
        #expect(CommandLineParser.parseGoInt("--1") == nil)
        #expect(CommandLineParser.parseGoInt("1.5") == nil)
    }

    @Test(arguments: [
        ("nats://h:4222", RouteURL(host: "h", port: 4222)),
        ("nats-route://u:p@10.0.0.1:6222/", RouteURL(host: "10.0.0.1", port: 6222, username: "u", password: "p")),
        ("nats://[::1]:6222", RouteURL(host: "::1", port: 6222)),
        ("nats://u@h:1", RouteURL(host: "h", port: 1, username: "u")),
    ])
    func routeURLs(_ text: String, _ expected: RouteURL) {
        #expect(RouteURL(parsing: text) == expected)
    }

    @Test(arguments: ["h:4222", "nats://h", "nats://:1", "nats://h:99999", "nats://[::1]"])
    func invalidRouteURLs(_ text: String) {
        #expect(RouteURL(parsing: text) == nil)
    }
}
