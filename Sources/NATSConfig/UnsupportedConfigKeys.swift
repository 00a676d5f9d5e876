/// What natsd does with a config key that nats-server knows and natsd does not implement.
///
/// The rule (issue 6, point 2): a key that grants or restricts access, or encrypts, is never ignored, because
/// ignoring it would run the server more open than its operator configured. Such keys are refused at start-up
/// with an error naming the key and its position. Keys that are harmless while their feature is off are
/// accepted, with a warning where an operator might expect them to do something.
enum UnsupportedConfigKey: Sendable, Equatable {
    /// Refused: the config does not load. `missing` completes "natsd has no …" in the error.
    case refused(missing: String)
    /// Refused unless its value turns the feature off (`false`, `"disabled"`, or a map with
    /// `enabled: false`), which is accepted silently.
    case refusedUnlessOff(missing: String)
    /// Accepted with a warning that it is ignored.
    case ignored
    /// Accepted silently: meaningful only with a feature that is off (nats-py's cluster launcher always passes
    /// a store directory, for example).
    case harmless

    /// The error for a refused key at `position`; `path` is the key as written, with its enclosing blocks
    /// (`cluster.tls`).
    static func refusal(_ path: String, missing: String, at position: ConfigPosition) -> ConfigError {
        ConfigError(
            "field \"\(path)\" is not supported yet (natsd has no \(missing)): refusing to start rather than ignore it",
            at: position)
    }

    /// Top-level keys of nats-server's `processConfigFileLine` that natsd does not implement, lowercased.
    static let topLevel: [String: UnsupportedConfigKey] = [
        // Access: accounts, JWT/operator mode, identities and who may log in.
        "operator": .refused(missing: "operator mode"),
        "operators": .refused(missing: "operator mode"),
        "root": .refused(missing: "operator mode"),
        "roots": .refused(missing: "operator mode"),
        "root_operator": .refused(missing: "operator mode"),
        "root_operators": .refused(missing: "operator mode"),
        "trusted": .refused(missing: "operator mode"),
        "trusted_keys": .refused(missing: "operator mode"),
        "resolver": .refused(missing: "account resolver"),
        "account_resolver": .refused(missing: "account resolver"),
        "accounts_resolver": .refused(missing: "account resolver"),
        "resolver_tls": .refused(missing: "account resolver"),
        "resolver_preload": .refused(missing: "account resolver"),
        "resolver_pinned_accounts": .refused(missing: "account resolver"),
        "default_sentinel": .refused(missing: "operator mode"),
        "proxies": .refused(missing: "trusted proxies"),
        // Encryption.
        "https": .refused(missing: "TLS for monitoring"),
        "https_port": .refused(missing: "TLS for monitoring"),
        "ocsp": .refused(missing: "TLS"),
        // Features that are off unless turned on.
        "jetstream": .refusedUnlessOff(missing: "JetStream"),
        "store_dir": .harmless,
        "storedir": .harmless,
        "no_system_account": .harmless,
        "no_system": .harmless,
        "no_sys_acc": .harmless,
        "allow_non_tls": .harmless,
        "ocsp_cache": .harmless,
        // Listeners natsd does not open and tuning it does not have: nothing is served more openly.
        "mappings": .ignored, "maps": .ignored,
        "disable_sublist_cache": .ignored, "no_sublist_cache": .ignored,
        "http_base_path": .ignored,
        "gateway": .ignored, "leaf": .ignored, "leafnodes": .ignored, "websocket": .ignored, "ws": .ignored,
        "mqtt": .ignored,
        "logfile_max_num": .ignored, "log_max_num": .ignored, "syslog": .ignored, "remote_syslog": .ignored,
        "prof_port": .ignored, "prof_block_rate": .ignored,
        "proxy_protocol": .ignored,
        "max_sub_tokens": .ignored, "max_subscription_tokens": .ignored,
        "write_timeout": .ignored,
        "connect_error_reports": .ignored, "reconnect_error_reports": .ignored,
        "server_tags": .ignored, "server_metadata": .ignored, "feature_flags": .ignored,
        "default_js_domain": .ignored, "no_fast_producer_stall": .ignored,
        "trace_headers": .ignored,
    ]

    /// Keys of the `authorization { … }` block natsd does not implement.
    static let authorization: [String: UnsupportedConfigKey] = [
        "auth_callout": .refused(missing: "auth callout"),
        "auth_hook": .refused(missing: "auth callout"),
        "proxy_required": .refusedUnlessOff(missing: "trusted proxies"),
    ]

    /// Keys of one entry of `authorization { users = [ … ] }` natsd does not implement.
    static let userEntry: [String: UnsupportedConfigKey] = [
        "allowed_connection_types": .refused(missing: "connection type restrictions"),
        "connection_types": .refused(missing: "connection type restrictions"),
        "clients": .refused(missing: "connection type restrictions"),
        "proxy_required": .refusedUnlessOff(missing: "trusted proxies"),
    ]

    /// Keys of an `accounts { NAME { … } }` entry natsd does not implement.
    static let accountEntry: [String: UnsupportedConfigKey] = [
        // The account's identity in operator mode: nothing to check without JWTs.
        "nkey": .refused(missing: "operator mode (account nkeys)"),
        "jetstream": .refusedUnlessOff(missing: "JetStream"),
        "limits": .refused(missing: "account limits"),
        "mappings": .refused(missing: "subject mappings"),
        "maps": .refused(missing: "subject mappings"),
        "msg_trace": .ignored,
        "trace_dest": .ignored,
    ]

    /// Keys of an `exports`/`imports` entry natsd does not implement.
    static let shareEntry: [String: UnsupportedConfigKey] = [
        "latency": .refused(missing: "service latency tracking (it needs the system account's services)"),
        "account_token_position": .refused(missing: "account token positions"),
        "allow_trace": .ignored,
        "share": .ignored,
    ]

    /// Keys of the `cluster { … }` block natsd does not implement.
    static let cluster: [String: UnsupportedConfigKey] = [
        // Accounts pinned to dedicated routes: natsd carries every account on the pool (a nats-server peer with
        // pinned accounts would send them where natsd does not look, so refuse rather than lose messages).
        "accounts": .refused(missing: "pinned account routes (every account shares the route pool)"),
        "compression": .ignored,
        "connect_backoff": .ignored,
        "write_deadline": .ignored,
        "write_timeout": .ignored,
    ]

    /// Keys of `cluster { authorization { … } }` natsd does not implement.
    static let clusterAuthorization: [String: UnsupportedConfigKey] = [
        "permissions": .refused(missing: "route permissions in cluster authorization, which nats-server deprecates: write them as cluster { permissions }"),
        "default_permission": .refused(missing: "route permissions in cluster authorization, which nats-server deprecates: write them as cluster { permissions }"),
        "default_permissions": .refused(missing: "route permissions in cluster authorization, which nats-server deprecates: write them as cluster { permissions }"),
        "auth_callout": .refused(missing: "auth callout"),
        "auth_hook": .refused(missing: "auth callout"),
        "proxy_required": .refusedUnlessOff(missing: "trusted proxies"),
    ]
}

extension ConfigReader {
    /// Applies `policy` to `entry` (written as `path`): throws for refused keys, records a warning for
    /// ignored ones.
    mutating func handleUnsupported(
        _ entry: ConfigEntry, path: String, policy: UnsupportedConfigKey
    ) throws(ConfigError) {
        switch policy {
        case .refused(let missing):
            throw UnsupportedConfigKey.refusal(path, missing: missing, at: entry.position)
        case .refusedUnlessOff(let missing):
            guard try isOff(entry) else {
                throw UnsupportedConfigKey.refusal(path, missing: missing, at: entry.position)
            }
        case .ignored:
            warn("field \"\(path)\" is not supported by natsd and is ignored", at: entry.position)
        case .harmless:
            break
        }
    }

    /// Whether a feature switch is off, read as nats-server reads `jetstream`: a boolean, `enabled`/`disabled`,
    /// or a map that is on unless it holds `enabled: false`.
    private func isOff(_ entry: ConfigEntry) throws(ConfigError) -> Bool {
        switch entry.value {
        case .bool(let on):
            return !on
        case .string(let text):
            switch text.lowercased() {
            case "enabled", "enable": return false
            case "disabled", "disable": return true
            default:
                throw ConfigError(
                    "Expected 'enabled' or 'disabled' for string value, got '\(text)'", at: entry.position)
            }
        case .map(let map):
            let enabled = map.entries.last { ["enabled", "enable"].contains($0.key.lowercased()) }
            return enabled?.value.boolValue == false
        default:
            throw ConfigError(
                "expected a boolean, 'enabled'/'disabled' or a map for \"\(entry.key)\", got \(entry.value.typeName)",
                at: entry.position)
        }
    }
}
