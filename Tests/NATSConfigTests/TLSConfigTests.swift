import Testing
@testable import NATSConfig

/// The `tls { … }` block and the `--tls*` flags, with nats-server's keys and error texts (issue 9, point 1).
@Suite struct TLSConfigTests {
    func apply(_ text: String) throws(ConfigError) -> ServerOptions {
        var options = ServerOptions()
        try options.apply(config: ConfigFileParser.parse(text, file: "t.conf", environment: [:]))
        return options
    }

    func expectError(_ text: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let options = try apply(text)
            Issue.record("accepted: \(String(describing: options.tls))", sourceLocation: sourceLocation)
        } catch {
            #expect(error.description == expected, sourceLocation: sourceLocation)
        }
    }

    @Test func everySupportedKey() throws {
        let options = try apply("""
            tls {
              cert_file: "server.pem"
              key_file: "server.key"
              ca_file: "ca.pem"
              verify: true
              timeout: 0.5
              min_version: "1.3"
              cipher_suites: ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"]
              curve_preferences: ["CurveP256", "X25519"]
              handshake_first: true
            }
            """)
        let tls = try #require(options.tls)
        #expect(tls.certFile == "server.pem")
        #expect(tls.keyFile == "server.key")
        #expect(tls.caFile == "ca.pem")
        #expect(tls.verify)
        #expect(tls.timeoutSeconds == 0.5)
        #expect(tls.minVersion == "1.3")
        #expect(tls.handshakeFirst)
        #expect(tls.position == ConfigPosition(file: "t.conf", line: 1, column: 1))
        // TLS 1.3 suites are accepted and not configurable, as in Go.
        #expect(tls.openSSLCipherSuites == ["ECDHE-ECDSA-AES128-GCM-SHA256"])
        #expect(tls.openSSLGroups == ["P-256", "X25519"])
    }

    @Test func defaultsAndAnEmptyBlock() throws {
        let tls = try #require(try apply("tls {}").tls)
        #expect(tls == { var expected = TLSOptions(); expected.position = tls.position; return expected }())
        #expect(tls.timeoutSeconds == 2)
        #expect(tls.minVersion == "1.2")
        #expect(!tls.verify && !tls.handshakeFirst)
        #expect(try apply("port: 4222").tls == nil)
    }

    @Test(arguments: [
        ("timeout: \"250ms\"", 0.25), ("timeout: 3", 3.0), ("TIMEOUT: \"1m\"", 60.0),
    ])
    func timeouts(_ line: String, _ seconds: Double) throws {
        #expect(try apply("tls { \(line) }").tls?.timeoutSeconds == seconds)
    }

    @Test(arguments: [
        ("handshake_first: false", false), ("first: \"on\"", true), ("immediate: \"off\"", false),
        ("handshake_first: \"TRUE\"", true),
    ])
    func handshakeFirstSpellings(_ line: String, _ expected: Bool) throws {
        #expect(try apply("tls { \(line) }").tls?.handshakeFirst == expected)
    }

    /// nats-server's texts, checked against nats-server 2.15.1 (positions are natsd's: 1-based columns).
    @Test(arguments: [
        ("tls { cert_file: 5 }", "t.conf:1:7: error parsing tls config, expected 'cert_file' to be filename"),
        ("tls { verify: \"yes\" }", "t.conf:1:7: error parsing tls config, expected 'verify' to be a boolean"),
        ("tls { foo: 1 }", "t.conf:1:7: error parsing tls config, unknown field \"foo\""),
        ("tls { cipher_suites: [\"FOO\"] }", "t.conf:1:7: unrecognized cipher FOO"),
        ("tls { cipher_suites: [] }", "t.conf:1:7: error parsing tls config, 'cipher_suites' cannot be empty"),
        ("tls { curve_preferences: [\"FOO\"] }", "t.conf:1:7: unrecognized curve preference FOO"),
        ("tls { min_version: \"1.1\" }", "t.conf:1:7: error parsing tls config: unsupported TLS version: TLS 1.1"),
        ("tls { min_version: \"1.5\" }", "t.conf:1:7: error parsing tls config: unknown version: 1.5"),
        ("tls { timeout: \"x\" }", "t.conf:1:7: error parsing tls config, 'timeout' time: invalid duration \"x\""),
        ("tls { timeout: true }", "t.conf:1:7: error parsing tls config, 'timeout' wrong type"),
        ("tls { handshake_first: \"bogus\" }", "t.conf:1:7: field \"handshake_first\"'s value \"bogus\" is invalid"),
        ("tls { handshake_first: 1 }", "t.conf:1:7: field \"handshake_first\" should be a boolean or string, got integer"),
        ("tls { cert_file: \"c.pem\" }", "t.conf:1:1: missing 'key_file' in TLS configuration"),
        ("tls { key_file: \"k.pem\" }", "t.conf:1:1: missing 'cert_file' in TLS configuration"),
    ])
    func errors(_ text: String, _ expected: String) {
        expectError(text, expected)
    }

    /// What natsd does not implement is refused with its key and position, never ignored.
    @Test(arguments: [
        ("tls {\n  handshake_first: \"auto\"\n}", "tls.handshake_first", "handshake_first fallback", 2),
        ("tls {\n  handshake_first: \"300ms\"\n}", "tls.handshake_first", "handshake_first fallback", 2),
        ("tls {\n  pinned_certs: []\n}", "tls.pinned_certs", "support for it", 2),
        ("tls {\n  insecure: true\n}", "tls.insecure", "support for it", 2),
        ("tls {\n  ocsp_peer: true\n}", "tls.ocsp_peer", "support for it", 2),
    ])
    func unsupportedKeysAreRefused(_ text: String, _ path: String, _ missing: String, _ line: Int) {
        expectError(text, "t.conf:\(line):3: field \"\(path)\" is not supported yet (natsd has no \(missing)): "
                        + "refusing to start rather than ignore it")
    }

    @Test func clusterTLS() throws {
        let options = try apply("""
            cluster {
              port: 6222
              tls { cert_file: "r.pem", key_file: "r.key", ca_file: "ca.pem", timeout: 3 }
            }
            """)
        let tls = try #require(options.cluster.tls)
        #expect(tls.certFile == "r.pem" && tls.keyFile == "r.key" && tls.caFile == "ca.pem")
        #expect(tls.timeoutSeconds == 3)
        #expect(options.tls == nil, "route TLS says nothing about clients")
        expectError("cluster {\n  tls { foo: 1 }\n}", "t.conf:2:9: error parsing tls config, unknown field \"foo\"")
    }

    @Test func verifyAndMap() throws {
        let off = try #require(try apply("tls { verify_and_map: false }").tls)
        #expect(!off.verify && !off.verifyAndMap)
        // As nats-server: mapping implies verifying the client's certificate.
        let on = try #require(try apply("tls { verify_and_map: true }").tls)
        #expect(on.verify && on.verifyAndMap)
        // Routes too: a route is the cluster user its certificate names (nats-server's isRouterAuthorized).
        let route = try #require(try apply("cluster {\n  port: 6222\n  tls { verify_and_map: true }\n}").cluster.tls)
        #expect(route.verifyAndMap)
    }

    @Test func flags() throws {
        let action = try CommandLineParser.parse(["--tlscert", "c.pem", "--tlskey", "k.pem", "--tlscacert", "ca.pem",
                                                  "--tlsverify"])
        guard case .run(let options) = action else {
            Issue.record("not run: \(action)")
            return
        }
        let tls = try #require(options.tls)
        #expect(tls.certFile == "c.pem" && tls.keyFile == "k.pem" && tls.caFile == "ca.pem" && tls.verify)
        #expect(tls.position == nil)
        #expect(!tls.handshakeFirst)
    }

    @Test func tlsFalseTurnsTheFlagsOff() throws {
        guard case .run(let options) = try CommandLineParser.parse(["--tls=false", "--tlscert", "c.pem"]) else {
            Issue.record("not run")
            return
        }
        #expect(options.tls == nil)
    }
}
