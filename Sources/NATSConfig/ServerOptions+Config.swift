/// Maps a parsed config file onto `ServerOptions`, with nats-server's key names, aliases and checks.
extension ServerOptions {
    /// Applies the core and cluster keys of `config` (keys are case-insensitive, as in nats-server).
    ///
    /// Unknown top-level or cluster keys are errors unless they were used as `$variables`. Keys nats-server
    /// knows but natsd does not implement follow `UnsupportedConfigKey`: security settings (TLS, accounts,
    /// permissions…) are refused, harmless ones accepted, with a warning where they would be expected to act.
    /// - Returns: warnings, such as a bare number given for a duration.
    /// - Throws: the first error found, pointing at its key.
    @discardableResult
    public mutating func apply(config: ConfigMap) throws(ConfigError) -> [ConfigError] {
        var reader = ConfigReader()
        for entry in config.entries {
            try applyTopLevel(entry, &reader)
        }
        try checkAccountSharing()
        return reader.warnings
    }

    private mutating func applyTopLevel(_ entry: ConfigEntry, _ reader: inout ConfigReader) throws(ConfigError) {
        switch entry.key.lowercased() {
        case "listen":
            (host, port) = try reader.hostPort(entry, defaultHost: host)
        case "client_advertise": clientAdvertise = try reader.string(entry)
        case "port": port = try reader.int(entry)
        case "server_name":
            let name = try reader.string(entry)
            guard !name.contains(" ") else { throw ConfigError("server name cannot contain spaces", at: entry.position) }
            serverName = name
        case "host", "net": host = try reader.string(entry)
        case "debug": debug = try reader.bool(entry)
        case "trace": trace = try reader.bool(entry)
        case "trace_verbose":
            traceVerbose = try reader.bool(entry)
            trace = traceVerbose
        case "logtime": logTime = try reader.bool(entry)
        case "logtime_utc": logTimeUTC = try reader.bool(entry)
        case "http": (httpHost, httpPort) = try reader.hostPort(entry, defaultHost: httpHost)
        case "http_port", "monitor_port": httpPort = try reader.int(entry)
        case "logfile", "log_file": logFile = try reader.string(entry)
        case "logfile_size_limit", "log_size_limit": logSizeLimit = Int64(try reader.int(entry))
        case "pidfile", "pid_file": pidFile = try reader.string(entry)
        case "ports_file_dir": portsFileDir = try reader.string(entry)
        case "max_control_line": maxControlLine = try reader.int(entry)
        case "max_payload": maxPayload = try reader.int(entry)
        case "max_pending": maxPending = try reader.int(entry)
        case "max_connections", "max_conn": maxConnections = try reader.int(entry)
        case "max_subscriptions", "max_subs": maxSubscriptions = try reader.int(entry)
        case "max_closed_clients":
            let count = try reader.int(entry)
            guard count >= 0 else { throw ConfigError("max_closed_clients cannot be negative (\(count))", at: entry.position) }
            maxClosedClients = count == 0 ? 10_000 : count
        case "max_traced_msg_len": maxTracedMessageLength = try reader.int(entry)
        case "ping_interval": pingIntervalSeconds = try reader.duration(entry)
        case "ping_max": pingMax = try reader.int(entry)
        case "write_deadline": writeDeadlineSeconds = try reader.duration(entry)
        case "lame_duck_duration": lameDuckDurationSeconds = try reader.lameDuckDuration(entry)
        case "lame_duck_grace_period": lameDuckGracePeriodSeconds = try reader.lameDuckGracePeriod(entry)
        case "no_header_support": noHeaderSupport = try reader.bool(entry)
        case "authorization": try applyAuthorization(entry, &reader)
        case "no_auth_user": noAuthUser = try reader.string(entry)
        case "accounts": try applyAccounts(entry, &reader)
        case "system_account", "system": systemAccount = try reader.string(entry)
        case "cluster": try cluster.apply(entry, &reader)
        case "tls": try applyTLS(entry, &reader)
        case "loops":
            let count = try reader.int(entry)
            guard (0...ServerOptions.maximumLoops).contains(count) else {
                throw ConfigError("loops must be between 0 (one per core) and \(ServerOptions.maximumLoops)", at: entry.position)
            }
            loops = count
        case let key:
            if let policy = UnsupportedConfigKey.topLevel[key] {
                try reader.handleUnsupported(entry, path: entry.key, policy: policy)
            } else if !entry.usedAsVariable {
                throw ConfigError("unknown field \"\(entry.key)\"", at: entry.position)
            }
        }
    }
}

extension ClusterOptions {
    /// Routes are pinged at most this often, whatever the config says (nats-server's cap).
    static let maximumPingIntervalSeconds: Double = 30

    fileprivate mutating func apply(_ entry: ConfigEntry, _ reader: inout ConfigReader) throws(ConfigError) {
        for field in try reader.map(entry).entries {
            switch field.key.lowercased() {
            case "name":
                let clusterName = try reader.string(field)
                guard !clusterName.contains(" ") else {
                    throw ConfigError("cluster name cannot contain spaces", at: field.position)
                }
                name = clusterName
            case "listen": (host, port) = try reader.hostPort(field, defaultHost: host)
            case "port": port = try reader.int(field)
            case "host", "net": host = try reader.string(field)
            case "authorization": try applyAuthorization(field, &reader)
            case "routes":
                routes = []
                for value in try reader.array(field) {
                    guard let text = value.stringValue, let route = RouteURL(parsing: text) else {
                        throw ConfigError("invalid route URL \(value.stringValue.map { "\"\($0)\"" } ?? value.typeName)", at: field.position)
                    }
                    routes.append(route)
                }
            case "cluster_advertise", "advertise": advertise = try reader.string(field)
            case "no_advertise": noAdvertise = try reader.bool(field)
            case "connect_retries": connectRetries = try reader.int(field)
            case "pool_size":
                poolSize = try reader.int(field)
                guard poolSize <= ClusterOptions.maximumPoolSize else {
                    throw ConfigError("cluster pool_size must be at most \(ClusterOptions.maximumPoolSize)", at: field.position)
                }
            case "ping_interval":
                pingIntervalSeconds = try reader.duration(field)
                if pingIntervalSeconds > Self.maximumPingIntervalSeconds {
                    reader.warn("cluster 'ping_interval' will reset to 30s which is the max for routes", at: field.position)
                }
            case "ping_max": pingMax = try reader.int(field)
            case "permissions": permissions = try reader.routePermissions(field)
            case "tls": tls = try reader.tlsOptions(field, path: "cluster.tls")
            case let key:
                if let policy = UnsupportedConfigKey.cluster[key] {
                    try reader.handleUnsupported(field, path: "cluster.\(field.key)", policy: policy)
                } else if !field.usedAsVariable {
                    throw ConfigError("unknown field \"\(field.key)\"", at: field.position)
                }
            }
        }
    }
}

/// Typed access to config entries with nats-server's conversions, collecting warnings on the way.
struct ConfigReader {
    var warnings: [ConfigError] = []

    mutating func warn(_ message: String, at position: ConfigPosition) {
        warnings.append(ConfigError(message, at: position))
    }

    func string(_ entry: ConfigEntry) throws(ConfigError) -> String {
        guard let value = entry.value.stringValue else { throw mismatch(entry, expected: "a string") }
        return value
    }

    /// A password or token. NUL bytes are refused: no client could log in with one, since offered secrets
    /// containing NUL are always refused (a C bcrypt check would cut them there).
    func secret(_ entry: ConfigEntry) throws(ConfigError) -> String {
        let value = try string(entry)
        guard !value.utf8.contains(0) else {
            throw ConfigError("\"\(entry.key)\" must not contain a NUL byte", at: entry.position)
        }
        return value
    }

    func int(_ entry: ConfigEntry) throws(ConfigError) -> Int {
        guard let value = entry.value.intValue else { throw mismatch(entry, expected: "an integer") }
        return Int(value)
    }

    func bool(_ entry: ConfigEntry) throws(ConfigError) -> Bool {
        guard let value = entry.value.boolValue else { throw mismatch(entry, expected: "a boolean") }
        return value
    }

    func map(_ entry: ConfigEntry) throws(ConfigError) -> ConfigMap {
        guard let value = entry.value.mapValue else { throw mismatch(entry, expected: "a map") }
        return value
    }

    func array(_ entry: ConfigEntry) throws(ConfigError) -> [ConfigValue] {
        switch entry.value {
        case .array(let values): return values
        case .string: return [entry.value]  // A single route may be written without brackets.
        default: throw mismatch(entry, expected: "an array")
        }
    }

    /// A Go duration string, or (with a warning) a number of seconds.
    mutating func duration(_ entry: ConfigEntry) throws(ConfigError) -> Double {
        switch entry.value {
        case .string(let text):
            guard let seconds = GoDuration.seconds(text) else {
                throw ConfigError("error parsing \(entry.key): invalid duration \"\(text)\"", at: entry.position)
            }
            return seconds
        case .int(let seconds):
            warn("invalid use of field \"\(entry.key)\": \(entry.key) should be converted to a duration", at: entry.position)
            return Double(seconds)
        default:
            throw mismatch(entry, expected: "a duration")
        }
    }

    /// `authorization.timeout`: seconds as a number, or a duration string.
    mutating func authTimeout(_ entry: ConfigEntry) throws(ConfigError) -> Double {
        let seconds: Double
        switch entry.value {
        case .int(let value): seconds = Double(value)
        case .double(let value): seconds = value
        case .string(let text):
            guard let value = GoDuration.seconds(text) else {
                throw ConfigError("error parsing authorization config, 'timeout' invalid duration \"\(text)\"", at: entry.position)
            }
            seconds = value
        default:
            throw ConfigError("error parsing authorization config, 'timeout' wrong type", at: entry.position)
        }
        if seconds > 60 {
            warn("timeout of \(seconds) seconds is high, consider keeping it under 60 seconds; possibly an unquoted duration (use '1m', not 1m)", at: entry.position)
        }
        return seconds
    }

    /// `listen`/`http`: a port number or `host:port` (`[v6]:port`).
    func hostPort(_ entry: ConfigEntry, defaultHost: String) throws(ConfigError) -> (String, Int) {
        switch entry.value {
        case .int(let port):
            return (defaultHost, Int(port))
        case .string(let text):
            guard let parsed = splitHostPort(text) else {
                throw ConfigError("could not parse address string \"\(text)\"", at: entry.position)
            }
            return parsed
        default:
            throw ConfigError("expected port or host:port, got \(entry.value.typeName)", at: entry.position)
        }
    }

    private func mismatch(_ entry: ConfigEntry, expected: String) -> ConfigError {
        ConfigError("expected \(expected) for \"\(entry.key)\", got \(entry.value.typeName)", at: entry.position)
    }
}

/// Go's `net.SplitHostPort` plus a numeric port: `host:port`, `:port`, `[::1]:port`.
func splitHostPort(_ text: String) -> (String, Int)? {
    let host: Substring
    let portText: Substring
    if text.hasPrefix("[") {
        guard let close = text.firstIndex(of: "]") else { return nil }
        host = text[text.index(after: text.startIndex)..<close]
        let after = text[text.index(after: close)...]
        guard after.hasPrefix(":") else { return nil }
        portText = after.dropFirst()
    } else {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        host = text[..<colon]
        guard !host.contains(":") else { return nil }
        portText = text[text.index(after: colon)...]
    }
    guard let port = Int(portText) else { return nil }
    return (String(host), port)
}
