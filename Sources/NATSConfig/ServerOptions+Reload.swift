/// What a configuration reload changes (SIGHUP, `--signal reload`): the comparison of the running options
/// with the ones read again from the config file and the command line, as nats-server's `diffOptions`
/// (server/reload.go) makes it. Pure: the server applies the plan.
public struct ReloadPlan: Sendable, Equatable {
    /// The parts of the server a reload touches; each is applied as a whole.
    public enum Part: Sendable, Hashable {
        /// debug, trace, logtime, logtime_utc, log_file, trace_verbose, max_traced_msg_len.
        case logging
        /// Users, nkeys, passwords, the token, permissions, the authorization timeout.
        case authorization
        /// max_connections, max_payload, max_control_line, ping_interval, ping_max, write_deadline.
        case limits
        /// client_advertise (the INFO clients get).
        case clientAdvertise
        /// The `tls` block: new client connections use the new certificate, key and CA.
        case clientTLS
        /// The `cluster { tls }` block: new route connections use it.
        case routeTLS
        /// `cluster { routes }`: `routesAdded` are dialed, `routesRemoved` closed.
        case routes
        /// The rest of `cluster` but host, port and pool_size: name, advertise, no_advertise,
        /// connect_retries, ping_interval, ping_max, the authorization timeout.
        case cluster
        /// `cluster { authorization }` user and password: accepted routes are checked against them.
        case clusterAuthorization
        /// `cluster { permissions }`: live routes take the new import and export rules.
        case clusterPermissions
        /// `pid_file`: the new file is written (the old one is left, as nats-server leaves it).
        case pidFile
        /// `ports_file_dir`: the ports file moves there.
        case portsFileDir
        /// The `accounts` block: accounts added or removed, users moved, exports and imports changed.
        case accounts
    }

    /// What changed.
    public var parts: Set<Part> = []
    /// nats-server's `Reloaded: …` notices (without that prefix), in the order they are logged.
    public var notices: [String] = []
    public var routesAdded: [RouteURL] = []
    public var routesRemoved: [RouteURL] = []

    public init() {}
}

/// A reload refused: an option that cannot change while the server runs changed. `message` is
/// nats-server's text (`config reload not supported for <Field>: old=<v>, new=<v>`, Go field names).
public struct ReloadError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension ServerOptions {
    /// The plan that takes a server running with `self` to `new`, or the refusal of the first option that
    /// cannot be reloaded (nats-server checks its `Options` fields in declaration order and stops at the
    /// first). Options natsd cannot apply live although nats-server can (`cluster { pool_size }`) are
    /// refused with the same text, naming the option.
    ///
    /// nats-server logs `authorization users` and `accounts` on every reload (its comparison always counts
    /// those two as changed); natsd logs `accounts` whenever the authorization or the accounts changed, and
    /// `authorization users` whenever the users did.
    public func reloadPlan(to new: ServerOptions) throws(ReloadError) -> ReloadPlan {
        try checkNotReloadable(new)
        var plan = ReloadPlan()
        func note(_ part: ReloadPlan.Part, _ notice: String) {
            plan.parts.insert(part)
            plan.notices.append(notice)
        }
        if debug != new.debug { note(.logging, "debug = \(new.debug)") }
        if trace != new.trace { note(.logging, "trace = \(new.trace)") }
        if traceVerbose != new.traceVerbose { note(.logging, "trace_verbose = \(new.traceVerbose)") }
        if logTime != new.logTime { note(.logging, "logtime = \(new.logTime)") }
        if logTimeUTC != new.logTimeUTC { note(.logging, "logtime_utc = \(new.logTimeUTC)") }
        if logFile != new.logFile { note(.logging, "log_file = \(new.logFile)") }
        if tls?.withoutPosition != new.tls?.withoutPosition { note(.clientTLS, "tls = \(new.tls == nil ? "disabled" : "enabled")") }
        if username != new.username { note(.authorization, "authorization username") }
        if password != new.password { note(.authorization, "authorization password") }
        if authToken != new.authToken { note(.authorization, "authorization token") }
        if authTimeoutSeconds != new.authTimeoutSeconds {
            note(.authorization, "authorization timeout = \(GoFormat.float(new.authTimeoutSeconds))")
        }
        if users != new.users || defaultPermissions != new.defaultPermissions || noAuthUser != new.noAuthUser {
            note(.authorization, "authorization users")
        }
        if nkeyUsers.map(\.withoutPosition) != new.nkeyUsers.map(\.withoutPosition) {
            note(.authorization, "authorization nkey users")
        }
        if accounts.map(\.withoutPositions) != new.accounts.map(\.withoutPositions) { plan.parts.insert(.accounts) }
        if plan.parts.contains(.authorization) || plan.parts.contains(.accounts) { plan.notices.append("accounts") }
        // nats-server's clusterOption: one notice whatever changed in the block but its routes.
        let clusterParts = clusterParts(changingTo: new.cluster)
        if !clusterParts.isEmpty {
            plan.parts.formUnion(clusterParts)
            plan.notices.append("cluster")
        }
        // nats-server logs nothing for a pid_file removed (and keeps the old file).
        if pidFile != new.pidFile && !new.pidFile.isEmpty { note(.pidFile, "pid_file = \(new.pidFile)") }
        if portsFileDir != new.portsFileDir { note(.portsFileDir, "ports_file_dir = \(new.portsFileDir)") }
        if cluster.routes != new.cluster.routes {
            plan.routesAdded = new.cluster.routes.filter { !cluster.routes.contains($0) }
            plan.routesRemoved = cluster.routes.filter { !new.cluster.routes.contains($0) }
            note(.routes, "cluster routes")
        }
        if maxConnections != new.maxConnections { note(.limits, "max_connections = \(new.maxConnections)") }
        if maxControlLine != new.maxControlLine { note(.limits, "max_control_line = \(new.maxControlLine)") }
        if maxPayload != new.maxPayload { note(.limits, "max_payload = \(new.maxPayload)") }
        if pingIntervalSeconds != new.pingIntervalSeconds {
            note(.limits, "ping_interval = \(GoFormat.duration(seconds: new.pingIntervalSeconds))")
        }
        if pingMax != new.pingMax { note(.limits, "ping_max = \(new.pingMax)") }
        if writeDeadlineSeconds != new.writeDeadlineSeconds {
            note(.limits, "write_deadline = \(GoFormat.duration(seconds: new.writeDeadlineSeconds))")
        }
        if clientAdvertise != new.clientAdvertise {
            // nats-server's notice says "Reload:", not "Reloaded:"; natsd keeps one prefix.
            note(.clientAdvertise, "client_advertise = \(new.clientAdvertise)")
        }
        if maxTracedMessageLength != new.maxTracedMessageLength {
            note(.logging, "max_traced_msg_len = \(new.maxTracedMessageLength)")
        }
        return plan
    }

    /// Refuses the first option that changed and cannot be reloaded, with nats-server's Go field name.
    private func checkNotReloadable(_ new: ServerOptions) throws(ReloadError) {
        func refuse(_ field: String, _ old: Any, _ new: Any) -> ReloadError {
            ReloadError("config reload not supported for \(field): old=\(old), new=\(new)")
        }
        if serverName != new.serverName { throw refuse("ServerName", serverName, new.serverName) }
        if host != new.host { throw refuse("Host", host, new.host) }
        // nats-server ignores a new port of 0 (a random port keeps the one bound).
        if port != new.port && new.port != -1 { throw refuse("Port", port, new.port) }
        if noAuthUser != new.noAuthUser
            && !(new.noAuthUser.isEmpty && !new.users.contains { $0.username == noAuthUser }) {
            throw refuse("NoAuthUser", noAuthUser, new.noAuthUser)
        }
        if systemAccount != new.systemAccount { throw refuse("SystemAccount", systemAccount, new.systemAccount) }
        if maxPending != new.maxPending { throw refuse("MaxPending", maxPending, new.maxPending) }
        if maxSubscriptions != new.maxSubscriptions { throw refuse("MaxSubs", maxSubscriptions, new.maxSubscriptions) }
        if noHeaderSupport != new.noHeaderSupport { throw refuse("NoHeaderSupport", noHeaderSupport, new.noHeaderSupport) }
        if httpHost != new.httpHost { throw refuse("HTTPHost", httpHost, new.httpHost) }
        if httpPort != new.httpPort { throw refuse("HTTPPort", httpPort, new.httpPort) }
        if logSizeLimit != new.logSizeLimit { throw refuse("LogSizeLimit", logSizeLimit, new.logSizeLimit) }
        if lameDuckDurationSeconds != new.lameDuckDurationSeconds {
            throw refuse("LameDuckDuration", GoFormat.duration(seconds: lameDuckDurationSeconds),
                         GoFormat.duration(seconds: new.lameDuckDurationSeconds))
        }
        if lameDuckGracePeriodSeconds != new.lameDuckGracePeriodSeconds {
            throw refuse("LameDuckGracePeriod", GoFormat.duration(seconds: lameDuckGracePeriodSeconds),
                         GoFormat.duration(seconds: new.lameDuckGracePeriodSeconds))
        }
        if loops != new.loops { throw refuse("Loops", loops, new.loops) }
        if cluster.host != new.cluster.host {
            throw ReloadError("config reload not supported for cluster host: old=\(cluster.host), new=\(new.cluster.host)")
        }
        if cluster.port != new.cluster.port {
            throw ReloadError("config reload not supported for cluster port: old=\(cluster.port), new=\(new.cluster.port)")
        }
        // nats-server re-creates its routes for a new pool size; natsd sizes its pools only at start.
        if cluster.routePoolSize != new.cluster.routePoolSize {
            throw ReloadError("config reload not supported for cluster pool_size: old=\(cluster.poolSize), new=\(new.cluster.poolSize) "
                              + "(natsd does not re-create its routes while running: restart it)")
        }
        // Whatever else differs (a field added to the options and not classified here) is refused too.
        var applied = self
        applied.copyReloadable(from: new)
        applied.configWarnings = new.configWarnings
        applied.configFile = new.configFile
        applied.checkConfig = new.checkConfig
        applied.port = new.port
        applied.accounts = new.accounts
        applied.accountNames = new.accountNames
        if applied != new { throw ReloadError("config reload not supported for an option that changed") }
    }

    /// Sets the options a reload may change to those of `other`.
    private mutating func copyReloadable(from other: ServerOptions) {
        debug = other.debug; trace = other.trace; traceVerbose = other.traceVerbose
        logTime = other.logTime; logTimeUTC = other.logTimeUTC; logFile = other.logFile
        maxTracedMessageLength = other.maxTracedMessageLength
        tls = other.tls
        username = other.username; password = other.password; authToken = other.authToken
        authTimeoutSeconds = other.authTimeoutSeconds; authTimeoutIsConfigured = other.authTimeoutIsConfigured
        users = other.users; nkeyUsers = other.nkeyUsers; defaultPermissions = other.defaultPermissions
        noAuthUser = other.noAuthUser
        // Host, port and the pool size in effect are equal (checked first); all the rest reloads.
        cluster = other.cluster
        pidFile = other.pidFile; portsFileDir = other.portsFileDir
        maxConnections = other.maxConnections; maxControlLine = other.maxControlLine; maxPayload = other.maxPayload
        pingIntervalSeconds = other.pingIntervalSeconds; pingMax = other.pingMax
        writeDeadlineSeconds = other.writeDeadlineSeconds; clientAdvertise = other.clientAdvertise
    }
}

extension ServerOptions {
    /// What changed in the `cluster` block besides its routes (host, port and pool size are refused before).
    private func clusterParts(changingTo new: ClusterOptions) -> Set<ReloadPlan.Part> {
        var parts: Set<ReloadPlan.Part> = []
        if cluster.tls?.withoutPosition != new.tls?.withoutPosition { parts.insert(.routeTLS) }
        if cluster.permissions != new.permissions { parts.insert(.clusterPermissions) }
        if cluster.username != new.username || cluster.password != new.password { parts.insert(.clusterAuthorization) }
        if cluster.withoutOwnParts != new.withoutOwnParts { parts.insert(.cluster) }
        return parts
    }
}

extension ClusterOptions {
    /// The block without what has a reload part of its own (routes, tls, permissions, credentials).
    fileprivate var withoutOwnParts: Self {
        var copy = self
        copy.routes = []
        copy.tls = nil
        copy.permissions = nil
        copy.username = ""
        copy.password = ""
        return copy
    }
}

extension ServerOptions.NkeyUser {
    /// The entry without where it was written: moving lines in the file changes nothing.
    var withoutPosition: Self {
        var copy = self
        copy.position = nil
        return copy
    }
}

extension TLSOptions {
    var withoutPosition: Self {
        var copy = self
        copy.position = nil
        return copy
    }
}

extension AccountConfig {
    var withoutPositions: Self {
        var copy = self
        copy.position = nil
        for index in copy.exports.indices { copy.exports[index].position = nil }
        copy.imports = copy.imports.map(\.withoutPosition)
        return copy
    }
}

extension AccountImport {
    /// The entry without where it was written: a reload compares imports with it.
    public var withoutPosition: Self {
        var copy = self
        copy.position = nil
        return copy
    }
}

/// Go's `%v` of the values nats-server puts in its reload notices.
public enum GoFormat {
    /// A `time.Duration`'s `String()`: `2m0s`, `30s`, `1.5s`, `500ms`, `1h0m0s`.
    public static func duration(seconds: Double) -> String {
        if seconds == 0 { return "0s" }
        if seconds < 1 { return float(seconds * 1000) + "ms" }
        var rest = seconds
        var text = ""
        let hours = Int(rest / 3600)
        if hours > 0 { text += "\(hours)h"; rest -= Double(hours * 3600) }
        let minutes = Int(rest / 60)
        if hours > 0 || minutes > 0 { text += "\(minutes)m"; rest -= Double(minutes * 60) }
        return text + float(rest) + "s"
    }

    /// A float64 as `%v` prints one: no trailing `.0` for whole numbers.
    public static func float(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
