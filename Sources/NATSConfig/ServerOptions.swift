import Foundation

/// Everything an operator can set on the command line or in a config file, with nats-server's
/// defaults. Field names follow nats-server's option names so the mapping stays obvious.
public struct ServerOptions: Sendable, Equatable {
    // Client listener.
    public var host = "0.0.0.0"
    /// Client port as configured: 0 means the default 4222 and -1 a free port (see `clientListenPort`).
    public var port = 4222
    public var serverName = ""
    public var clientAdvertise = ""

    // Limits.
    public var maxControlLine = 4096
    public var maxPayload = 1024 * 1024
    public var maxPending = 64 * 1024 * 1024
    public var maxConnections = 65536
    /// 0 means unlimited.
    public var maxSubscriptions = 0
    public var pingIntervalSeconds: Double = 120
    public var pingMax = 2
    public var writeDeadlineSeconds: Double = 10
    /// Lame duck mode (SIGUSR2): clients are closed spread over this many seconds (`lame_duck_duration`,
    /// nats-server's default 2 minutes, at least 30 s), after waiting `lameDuckGracePeriodSeconds`
    /// (`lame_duck_grace_period`, default 10 s; 0 means the default, as in nats-server).
    public var lameDuckDurationSeconds: Double = 120
    public var lameDuckGracePeriodSeconds: Double = 10
    public var noHeaderSupport = false
    /// `max_closed_clients`: closed client connections /connz `state=closed` keeps (nats-server's
    /// `DEFAULT_MAX_CLOSED_CLIENTS`; 0 in a config also means this default, as in nats-server).
    public var maxClosedClients = 10_000

    // Authorization: one user, a token, or a list of users (never two of these at once, see `validate`).
    public var username = ""
    /// Plain text or a bcrypt hash (`$2a$…`, `$2b$…`, `$2y$…`).
    public var password = ""
    public var authToken = ""
    /// `authorization { users = [...] }`: the entries with a user name.
    public var users: [User] = []
    /// The entries of `users` with an `nkey` instead of a user name.
    public var nkeyUsers: [NkeyUser] = []
    /// The `authorization` block's `permissions` (`default_permissions`). Entries of `users` without their
    /// own already carry them; they bind the single user, the token holder or, without authentication,
    /// every client (nats-server applies them to users entries only, see `applyAuthorization`).
    public var defaultPermissions: Permissions?
    /// `no_auth_user`: the entry of `users` a client without credentials is logged in as (empty: none).
    public var noAuthUser = ""
    /// Seconds a client has to log in; without `authorization { timeout }` 2, or with TLS the TLS handshake's
    /// timeout plus one (`applyDefaultAuthTimeouts`).
    public var authTimeoutSeconds: Double = 2
    /// Whether `authorization { timeout }` set `authTimeoutSeconds`.
    public var authTimeoutIsConfigured = false
    /// `accounts { … }`: the accounts besides the global `$G`, in file order (their users are in `users` and
    /// `nkeyUsers`, with `account` set).
    public var accounts: [AccountConfig] = []
    /// The names in `accounts`, for the duplicate check as they are read.
    var accountNames: Set<String> = []
    /// `system_account`: accepted and reported (`/varz`); natsd runs no system services in it. Empty: none.
    public var systemAccount = ""

    /// `tls { … }` or the `--tls*` flags: clients must speak TLS; nil: plaintext clients.
    public var tls: TLSOptions?

    // Cluster (routes).
    public var cluster = ClusterOptions()

    /// Event loops (threads) serving connections (`--loops`, `loops`); 0 means one per online core, the
    /// default, as nats-server runs on every core (GOMAXPROCS). 1 is natsd's single-loop server.
    public var loops = 0

    // Monitoring.
    /// Empty: the client host (`-a`), as nats-server does.
    public var httpHost = ""
    /// 0 disables monitoring; -1 picks a random port (see `monitoringListenPort`).
    public var httpPort = 0

    // Logging and process.
    public var debug = false
    public var trace = false
    public var logTime = true
    /// Timestamps in UTC instead of local time (`--logtime_utc`, `logtime_utc`).
    public var logTimeUTC = false
    /// Trace the system account too (`-VV`, `-DVV`, `trace_verbose`).
    public var traceVerbose = false
    /// Log file size that triggers rotation; 0 = never (`--log_size_limit`).
    public var logSizeLimit: Int64 = 0
    /// Longest traced message body; 0 = unlimited (`--max_traced_msg_len`).
    public var maxTracedMessageLength = 0
    public var logFile = ""
    public var pidFile = ""
    public var portsFileDir = ""
    /// The config file given with `-c`, empty when none.
    public var configFile = ""
    /// `-t`: check the config file and exit.
    public var checkConfig = false
    /// Warnings from the config file (such as a bare number for a duration), for the server to log.
    public var configWarnings: [String] = []

    public init() {}

    /// The host the monitoring listener binds.
    public var monitoringHost: String { httpHost.isEmpty ? host : httpHost }

    /// True when clients must authenticate.
    public var authRequired: Bool { !username.isEmpty || !authToken.isEmpty || !users.isEmpty || !nkeyUsers.isEmpty }
}

/// The `cluster { … }` block and the `--cluster`, `--routes`, `--cluster_name` flags.
public struct ClusterOptions: Sendable, Equatable {
    /// Cluster listen host; empty with port 0 means clustering is off.
    public var host = ""
    /// 0 = not listening for routes; -1 = random port (see `listenPort`).
    public var port = 0
    public var name = ""
    /// Credentials peers must present (from `--cluster nats://user:pass@host:port`).
    public var username = ""
    public var password = ""
    /// As the clients' (`ServerOptions.authTimeoutSeconds`), with `cluster { tls }` and `cluster { authorization }`.
    public var authTimeoutSeconds: Double = 2
    public var authTimeoutIsConfigured = false
    /// Explicit route URLs (`nats-route://[user:pass@]host:port`).
    public var routes: [RouteURL] = []
    public var advertise = ""
    public var noAdvertise = false
    public var connectRetries = 0
    public var pingIntervalSeconds: Double = 30
    public var pingMax = 2
    /// Route connections per peer (`pool_size`, `--cluster_pool_size`), as nats-server: 3 by default, 0 also
    /// means 3, and a negative size (-1) is the no-pool dialect (one connection per peer, the account named
    /// in every message). See `routePoolSize`.
    public var poolSize = ClusterOptions.defaultPoolSize
    /// `permissions { import, export }`: which interest and messages cross routes; nil: all of them.
    public var permissions: RoutePermissions?
    /// `tls { … }`: routes speak TLS from their first byte, both sides presenting `cert_file` and verifying
    /// the other's certificate against `ca_file` (nats-server always verifies route peers); nil: plaintext.
    public var tls: TLSOptions?

    public init() {}

    public var isEnabled: Bool { port != 0 }

    /// nats-server's `DEFAULT_ROUTE_POOL_SIZE`.
    public static let defaultPoolSize = 3
    /// The largest pool natsd opens: far above what a route needs (nats-server sets no bound), low enough
    /// that a typo (`pool_size: 30000`) is refused instead of opening thousands of connections per peer.
    public static let maximumPoolSize = 256

    /// The pool size in effect: nil for the no-pool dialect (a negative `poolSize`), the default for 0.
    public var routePoolSize: Int? {
        if poolSize < 0 { return nil }
        return poolSize == 0 ? ClusterOptions.defaultPoolSize : poolSize
    }
}

/// A parsed route URL.
public struct RouteURL: Sendable, Equatable, Hashable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String
    /// The scheme as configured (`nats-route`, `nats`, …): only for log lines, which name a route by the URL
    /// it was configured with, as nats-server prints it; not part of a route's identity (`==`).
    public var scheme: String

    public init(host: String, port: Int, username: String = "", password: String = "", scheme: String = "nats-route") {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.scheme = scheme
    }

    public static func == (left: RouteURL, right: RouteURL) -> Bool {
        left.host == right.host && left.port == right.port && left.username == right.username && left.password == right.password
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(host)
        hasher.combine(port)
        hasher.combine(username)
        hasher.combine(password)
    }

    /// The URL as a log line names it: nats-server prints the configured URL (`Removed route nats://h:p`).
    /// A password is shown as `xxxxx` (Go's `URL.Redacted` form) where nats-server prints it in clear: a log
    /// is no place for a secret.
    public var logged: String {
        let hostPort = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        if username.isEmpty && password.isEmpty { return "\(scheme)://\(hostPort)" }
        return "\(scheme)://\(username)\(password.isEmpty ? "" : ":xxxxx")@\(hostPort)"
    }

    /// Parses `scheme://[user[:pass]@]host:port[/]`; returns nil for anything else.
    public init?(parsing text: String) {
        var rest = Substring(text.trimmingSpaces)
        guard let schemeEnd = rest.range(of: "://") else { return nil }
        let scheme = String(rest[..<schemeEnd.lowerBound])
        rest = rest[schemeEnd.upperBound...]
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        var user = "", pass = ""
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = String(credentials[..<colon])
                pass = String(credentials[credentials.index(after: colon)...])
            } else {
                user = String(credentials)
            }
        }
        var hostPart = rest
        var portText: Substring = ""
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            guard after.hasPrefix(":") else { return nil }
            portText = after.dropFirst()
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            return nil
        }
        guard !hostPart.isEmpty, let port = Int(portText), (-1...65535).contains(port) else { return nil }
        self.init(host: String(hostPart), port: port, username: user, password: pass, scheme: scheme)
    }
}

extension String {
    var trimmingSpaces: Substring {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" || first == "\n" || first == "\r" {
            text = text.dropFirst()
        }
        while let last = text.last, last == " " || last == "\t" || last == "\n" || last == "\r" {
            text = text.dropLast()
        }
        return text
    }
}

extension ServerOptions {
    /// The most event loops natsd runs: far above any core count it is meant for, low enough that a typo
    /// (`--loops 40000`) is refused instead of starting thousands of threads.
    public static let maximumLoops = 1024

    /// The number of event loops to run: `loops`, or one per online core when it is 0.
    public func effectiveLoops(onlineCores: Int) -> Int {
        loops > 0 ? loops : max(onlineCores, 1)
    }
}
