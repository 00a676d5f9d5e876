import Testing
@testable import NATSConfig

/// Issue 6, point 2: security settings natsd cannot enforce are refused, naming key and position; settings that
/// are harmless while their feature is off are accepted.
@Suite struct UnsupportedConfigKeysTests {
    func apply(_ text: String) throws(ConfigError) -> (ServerOptions, [ConfigError]) {
        var options = ServerOptions()
        let warnings = try options.apply(config: ConfigFileParser.parse(text, file: "t.conf", environment: [:]))
        return (options, warnings)
    }

    func refusal(_ path: String, _ missing: String, line: Int, column: Int) -> String {
        "t.conf:\(line):\(column): field \"\(path)\" is not supported yet (natsd has no \(missing)): "
            + "refusing to start rather than ignore it"
    }

    func expectRefused(_ text: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let (_, warnings) = try apply(text)
            Issue.record("accepted (warnings: \(warnings))", sourceLocation: sourceLocation)
        } catch {
            #expect(error.description == expected, sourceLocation: sourceLocation)
        }
    }

    /// Every top-level key that grants or restricts access or encrypts, written out here (not read from the
    /// table) so that dropping one from the table fails this test.
    @Test(arguments: [
        ("operator", "operator mode"), ("operators", "operator mode"), ("root", "operator mode"),
        ("roots", "operator mode"), ("root_operator", "operator mode"), ("root_operators", "operator mode"),
        ("trusted", "operator mode"), ("trusted_keys", "operator mode"), ("default_sentinel", "operator mode"),
        ("resolver", "account resolver"), ("account_resolver", "account resolver"),
        ("accounts_resolver", "account resolver"), ("resolver_tls", "account resolver"),
        ("resolver_preload", "account resolver"), ("resolver_pinned_accounts", "account resolver"),
        ("proxies", "trusted proxies"),
        ("https", "TLS for monitoring"), ("https_port", "TLS for monitoring"), ("ocsp", "TLS"),
    ])
    func securityKeysAreRefused(_ key: String, _ missing: String) {
        expectRefused("port: 4222\n  \(key): {}", refusal(key, missing, line: 2, column: 3))
        // Keys are case-insensitive in nats-server; the error names the key as written.
        expectRefused("\(key.uppercased()): 1", refusal(key.uppercased(), missing, line: 1, column: 1))
    }

    @Test func theIssuesExamplesAreRefused() {
        expectRefused("ocsp {}", refusal("ocsp", "TLS", line: 1, column: 1))
    }

    /// Issue 8, point 5: inside `accounts`, what natsd cannot enforce (operator-mode identities, limits,
    /// mappings, latency tracking) is refused with its position, never silently dropped.
    @Test(arguments: [
        ("accounts { A { nkey: ABC } }", "accounts.A.nkey", "operator mode (account nkeys)", 1, 16),
        ("accounts { A { jetstream: enabled } }", "accounts.A.jetstream", "JetStream", 1, 16),
        ("accounts { A { limits: { max_connections: 1 } } }", "accounts.A.limits", "account limits", 1, 16),
        ("accounts { A { mappings: { a: b } } }", "accounts.A.mappings", "subject mappings", 1, 16),
        ("accounts { A { exports = [ {service: s, latency: lat} ] } }", "accounts.A.exports.latency",
         "service latency tracking (it needs the system account's services)", 1, 41),
    ])
    func accountKeysNatsdCannotEnforceAreRefused(
        _ text: String, _ path: String, _ missing: String, _ line: Int, _ column: Int
    ) {
        expectRefused(text, refusal(path, missing, line: line, column: column))
    }

    /// Issue 8's example config, which issue 6 refused, now starts.
    @Test func accountsAndTheSystemAccountAreAccepted() throws {
        let (options, warnings) = try apply(
            "port: 4222\naccounts { A { users = [ {user: a, password: b} ], jetstream: disabled }, SYS {} }\n"
                + "no_auth_user: a\nsystem_account: SYS")
        #expect(options.accounts.map(\.name) == ["A", "SYS"])
        #expect(options.systemAccount == "SYS")
        #expect(warnings.isEmpty)
    }

    @Test(arguments: [
        ("cluster { authorization { user: a, password: b, permissions: {} } }", "cluster.authorization.permissions",
         "route permissions in cluster authorization, which nats-server deprecates: write them as cluster { permissions }", 1, 49),
        ("cluster { authorization { auth_callout: {} } }", "cluster.authorization.auth_callout", "auth callout", 1, 27),
        ("authorization { auth_callout: {} }", "authorization.auth_callout", "auth callout", 1, 17),
        ("authorization { proxy_required: true }", "authorization.proxy_required", "trusted proxies", 1, 17),
        ("authorization { users = [ {user: a, allowed_connection_types: [STANDARD]} ] }",
         "authorization.users.allowed_connection_types", "connection type restrictions", 1, 37),
        ("authorization { users = [ {user: a, proxy_required: true} ] }", "authorization.users.proxy_required",
         "trusted proxies", 1, 37),
    ])
    func nestedSecurityKeysAreRefused(_ text: String, _ path: String, _ missing: String, _ line: Int, _ column: Int) {
        expectRefused(text, refusal(path, missing, line: line, column: column))
    }

    @Test func proxyRequiredOffIsAccepted() throws {
        let (options, warnings) = try apply(
            "authorization { proxy_required: false, users = [ {user: a, password: b, proxy_required: false} ] }")
        #expect(options.users == [ServerOptions.User(username: "a", password: "b")])
        #expect(warnings.isEmpty)
    }

    @Test(arguments: [
        "jetstream: disabled", "jetstream: disable", "jetstream: false", "jetstream: off",
        "jetstream { enabled: false, store_dir: /tmp/js, max_mem: 1G }", "jetstream { enable: false }",
        "store_dir: /tmp/js", "storedir: /tmp/js", "jetstream: disabled\nstore_dir: /tmp/js",
        "no_system_account: true", "allow_non_tls: true",
    ])
    func harmlessWhileOffIsAcceptedQuietly(_ text: String) throws {
        let (_, warnings) = try apply(text)
        #expect(warnings.isEmpty)
    }

    @Test(arguments: [
        ("jetstream: enabled", 1), ("jetstream: true", 1), ("jetstream {}", 1),
        ("jetstream { store_dir: /tmp/js }", 1), ("port: 1\njetstream { enabled: true }", 2),
    ])
    func jetStreamOnIsRefused(_ text: String, _ line: Int) {
        expectRefused(text, refusal("jetstream", "JetStream", line: line, column: 1))
    }

    @Test func jetStreamBadStringIsAnError() {
        expectRefused("jetstream: maybe", "t.conf:1:1: Expected 'enabled' or 'disabled' for string value, got 'maybe'")
    }

    /// nats-server's top-level keys (`processConfigFileLine`, 2.15): each is either implemented or classified,
    /// so none is an unknown field to natsd.
    @Test func everyNATSServerTopLevelKeyIsKnown() {
        let keys = [
            "listen", "client_advertise", "port", "server_name", "host", "net", "debug", "trace", "trace_verbose",
            "trace_headers", "logtime", "logtime_utc", "mappings", "maps", "disable_sublist_cache",
            "no_sublist_cache", "accounts", "default_sentinel", "authorization", "http", "https", "http_port",
            "monitor_port", "https_port", "http_base_path", "cluster", "gateway", "leaf", "leafnodes", "store_dir",
            "storedir", "jetstream", "logfile", "log_file", "logfile_size_limit", "log_size_limit",
            "logfile_max_num", "log_max_num", "syslog", "remote_syslog", "pidfile", "pid_file", "ports_file_dir",
            "prof_port", "prof_block_rate", "max_control_line", "max_payload", "max_pending", "proxy_protocol",
            "max_connections", "max_conn", "max_traced_msg_len", "max_subscriptions", "max_subs", "max_sub_tokens",
            "max_subscription_tokens", "ping_interval", "ping_max", "tls", "ocsp", "allow_non_tls",
            "write_deadline", "write_timeout", "lame_duck_duration", "lame_duck_grace_period", "operator",
            "operators", "roots", "root", "root_operators", "root_operator", "resolver", "account_resolver",
            "accounts_resolver", "resolver_tls", "resolver_preload", "resolver_pinned_accounts", "no_auth_user",
            "system_account", "system", "no_system_account", "no_system", "no_sys_acc", "no_header_support",
            "trusted", "trusted_keys", "connect_error_reports", "reconnect_error_reports", "websocket", "ws", "mqtt",
            "server_tags", "server_metadata", "feature_flags", "default_js_domain", "ocsp_cache",
            "no_fast_producer_stall", "max_closed_clients", "proxies",
        ]
        for key in keys {
            do {
                _ = try apply("\(key): {}")
            } catch {
                #expect(!error.message.hasPrefix("unknown field"), "\(key): \(error)")
            }
        }
    }
}
