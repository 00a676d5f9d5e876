import Testing
@testable import NATSConfig

@Suite struct ServerOptionsConfigTests {
    func options(_ text: String) throws(ConfigError) -> (ServerOptions, [ConfigError]) {
        var options = ServerOptions()
        let warnings = try options.apply(config: ConfigFileParser.parse(text, file: "t.conf", environment: [:]))
        return (options, warnings)
    }

    @Test func coreKeys() throws {
        let (o, warnings) = try options("""
            listen: 127.0.0.1:5222
            server_name: s1
            client_advertise: "example.com:4222"
            http: "localhost:8222"
            debug: true; trace: true; logtime: false; logtime_utc: true
            log_file: /tmp/n.log; pid_file: /tmp/n.pid; ports_file_dir: /tmp
            X = 4kb
            max_payload: $X
            max_control_line: 1k
            max_pending: 10MB
            max_conn: 10
            max_subs: 20
            ping_interval: "30s"
            ping_max: 3
            write_deadline: "2s"
            no_header_support: true
            authorization { user: u, password: $2a$11$abcdefghijk, timeout: 1.5 }
            """)
        #expect(warnings.isEmpty)
        #expect(o.host == "127.0.0.1" && o.port == 5222 && o.serverName == "s1")
        #expect(o.clientAdvertise == "example.com:4222")
        #expect(o.httpHost == "localhost" && o.httpPort == 8222)
        #expect(o.debug && o.trace && !o.logTime && o.logTimeUTC)
        #expect(o.logFile == "/tmp/n.log" && o.pidFile == "/tmp/n.pid" && o.portsFileDir == "/tmp")
        #expect(o.maxPayload == 4096 && o.maxControlLine == 1000 && o.maxPending == 10 << 20)
        #expect(o.maxConnections == 10 && o.maxSubscriptions == 20)
        #expect(o.pingIntervalSeconds == 30 && o.pingMax == 3 && o.writeDeadlineSeconds == 2)
        #expect(o.noHeaderSupport)
        #expect(o.username == "u" && o.password == "$2a$11$abcdefghijk" && o.authTimeoutSeconds == 1.5)
    }

    @Test func aliases() throws {
        let (o, _) = try options("net: 10.0.0.1\nport: 1234\nmonitor_port: 8000\nmax_connections: 5\nmax_subscriptions: 6\nauthorization { token: secret, timeout: \"3s\" }\nPORT: 99")
        #expect(o.host == "10.0.0.1" && o.port == 99 && o.httpPort == 8000)
        #expect(o.maxConnections == 5 && o.maxSubscriptions == 6)
        #expect(o.authToken == "secret" && o.authTimeoutSeconds == 3)
    }

    @Test func pingIntervalPitfall() throws {
        // Unquoted 2m is the integer 2 000 000 (mega), taken as seconds with a warning, as nats-server does.
        let (o, warnings) = try options("ping_interval: 2m")
        #expect(o.pingIntervalSeconds == 2_000_000)
        #expect(warnings.count == 1)
        #expect(warnings.first?.description.hasPrefix("t.conf:1:1: invalid use of field \"ping_interval\"") == true)
        let (quoted, none) = try options("ping_interval: \"2m\"")
        #expect(quoted.pingIntervalSeconds == 120 && none.isEmpty)
        let (bare, _) = try options("ping_interval: 10s")
        #expect(bare.pingIntervalSeconds == 10)
    }

    @Test func cluster() throws {
        let (o, warnings) = try options("""
            cluster {
              name: A
              listen: 0.0.0.0:6222
              authorization { user: ru, password: rp, timeout: 3 }
              routes: [nats-route://u:p@10.0.0.2:6222, "nats://10.0.0.3:6222"]
              advertise: "10.0.0.1:6222"
              no_advertise: true
              connect_retries: 5
              pool_size: 3
              ping_interval: "45s"
              ping_max: 4
              compression: off
            }
            """)
        let c = o.cluster
        #expect(c.name == "A" && c.host == "0.0.0.0" && c.port == 6222 && c.isEnabled)
        #expect(c.username == "ru" && c.password == "rp" && c.authTimeoutSeconds == 3)
        #expect(c.routes == [RouteURL(host: "10.0.0.2", port: 6222, username: "u", password: "p"),
                             RouteURL(host: "10.0.0.3", port: 6222)])
        #expect(c.advertise == "10.0.0.1:6222" && c.noAdvertise && c.connectRetries == 5 && c.poolSize == 3)
        #expect(c.pingIntervalSeconds == 45 && c.pingMax == 4)
        #expect(warnings.count == 2)  // ping_interval above the route cap, unsupported compression.
        let (hostPort, _) = try options("cluster { host: 127.0.0.1, port: -1 }")
        #expect(hostPort.cluster.host == "127.0.0.1" && hostPort.cluster.port == -1)
    }

    /// nats-server's pool sizes: 3 by default and for 0, a negative size the no-pool dialect.
    @Test func routePoolSize() throws {
        #expect(ClusterOptions().poolSize == 3 && ClusterOptions().routePoolSize == 3)
        for (text, expected) in [("0", 3), ("1", 1), ("5", 5), ("256", 256)] as [(String, Int?)] + [("-1", nil), ("-7", nil)] {
            let (o, _) = try options("cluster { pool_size: \(text) }")
            #expect(o.cluster.routePoolSize == expected, "pool_size: \(text)")
        }
    }

    @Test func ignoredKnownKeysWarn() throws {
        let (_, warnings) = try options("mappings { a: b }\nproxy_protocol: true")
        #expect(warnings.map(\.description) == [
            "t.conf:1:1: field \"mappings\" is not supported by natsd and is ignored",
            "t.conf:2:1: field \"proxy_protocol\" is not supported by natsd and is ignored",
        ])
    }

    /// nats-server's defaults (2 minutes, 10 s); a grace period of 0 means the default.
    @Test func lameDuckKeys() throws {
        #expect(ServerOptions().lameDuckDurationSeconds == 120 && ServerOptions().lameDuckGracePeriodSeconds == 10)
        let (o, _) = try options("lame_duck_duration: \"1m30s\"\nlame_duck_grace_period: \"500ms\"")
        #expect(o.lameDuckDurationSeconds == 90 && o.lameDuckGracePeriodSeconds == 0.5)
        let (zero, _) = try options("lame_duck_grace_period: \"0s\"")
        #expect(zero.lameDuckGracePeriodSeconds == 10)
    }

    /// nats-server's messages (opts.go); a number is refused with a clear message where nats-server fails
    /// with a Go type assertion.
    @Test(arguments: [
        ("lame_duck_duration: \"10s\"", "t.conf:1:1: invalid lame_duck_duration of 10s, minimum is 30 seconds"),
        ("lame_duck_duration: \"abc\"", "t.conf:1:1: error parsing lame_duck_duration: time: invalid duration \"abc\""),
        ("lame_duck_duration: 30", "t.conf:1:1: expected a duration string for \"lame_duck_duration\", got integer"),
        ("lame_duck_grace_period: \"-1s\"", "t.conf:1:1: invalid lame_duck_grace_period, needs to be positive"),
        ("lame_duck_grace_period: \"x\"", "t.conf:1:1: error parsing lame_duck_grace_period: time: invalid duration \"x\""),
    ])
    func lameDuckKeyErrors(_ text: String, _ message: String) {
        #expect(throws: ConfigError.self) { _ = try options(text) }
        do { _ = try options(text) } catch { #expect(error.description == message) }
    }

    @Test(arguments: [
        ("foo: 1", "t.conf:1:1: unknown field \"foo\""),
        ("port: 1\ncluster { bogus: 1 }", "t.conf:2:11: unknown field \"bogus\""),
        ("port: \"x\"", "t.conf:1:1: expected an integer for \"port\", got string"),
        ("debug: 1", "t.conf:1:1: expected a boolean for \"debug\", got integer"),
        ("server_name: \"a b\"", "t.conf:1:1: server name cannot contain spaces"),
        ("listen: nonsense", "t.conf:1:1: could not parse address string \"nonsense\""),
        ("ping_interval: \"abc\"", "t.conf:1:1: error parsing ping_interval: invalid duration \"abc\""),
        ("cluster { authorization { token: x } }", "t.conf:1:27: Cluster authorization does not support tokens"),
        ("cluster { routes: [\"bad\"] }", "t.conf:1:11: invalid route URL \"bad\""),
        ("cluster { pool_size: 257 }", "t.conf:1:11: cluster pool_size must be at most 256"),
        ("authorization { users = [ {user: a, permissions: {publish: \"a b\"}} ] }",
         "t.conf:1:51: subject \"a b\" is not a valid subject"),
    ])
    func mappingErrors(_ text: String, _ expected: String) {
        do {
            _ = try options(text)
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test func variablesAreNotUnknownFields() throws {
        let (o, _) = try options("LIMIT: 100\nmax_subs: $LIMIT")
        #expect(o.maxSubscriptions == 100)
    }
}
