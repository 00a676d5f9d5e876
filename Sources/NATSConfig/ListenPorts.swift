/// How configured listener ports become the ports natsd binds, by nats-server's rules:
///
/// | listener                                       | 0            | -1          | other    |
/// |------------------------------------------------|--------------|-------------|----------|
/// | client (`-p`, `port`, `listen`)                | default 4222 | a free port | as given |
/// | cluster (`--cluster`, `cluster.port`/`listen`) | off          | a free port | as given |
/// | monitoring (`-m`, `http_port`, `http`)         | off          | a free port | as given |
///
/// Sources: `setBaselineOptions` in server/opts.go (client port 0 becomes `DEFAULT_PORT`, `RANDOM_PORT`
/// -1 becomes 0 for net.Listen), `StartRouting` in server/route.go and `startMonitoring` in server/server.go
/// (-1 becomes 0; the listener is not started at all for 0). "As given" includes ports outside 0...65535,
/// which Go's net.Listen refuses at start-up (`invalidPortReason`).
extension ServerOptions {
    /// nats-server's `DEFAULT_PORT`: the client port when none, or 0, is configured.
    public static let defaultClientPort = 4222
    /// nats-server's `RANDOM_PORT`: any listener configured with it binds a free port the system picks.
    public static let randomPort = -1

    /// The port the client listener binds: 0 is the default 4222, -1 is 0 (the system picks).
    public var clientListenPort: Int {
        port == 0 ? Self.defaultClientPort : Self.bindPort(forConfigured: port)
    }

    /// The port the monitoring listener binds, nil when monitoring is off (`http_port` 0).
    public var monitoringListenPort: Int? {
        httpPort == 0 ? nil : Self.bindPort(forConfigured: httpPort)
    }

    /// -1 (`RANDOM_PORT`) is bound as port 0; anything else as configured.
    static func bindPort(forConfigured port: Int) -> Int {
        port == randomPort ? 0 : port
    }

    /// Why a port cannot be bound at all, in Go's words (`address 70000: invalid port`, the text after
    /// `listen tcp: ` in net.Listen's error); nil for 0...65535.
    public static func invalidPortReason(_ port: Int) -> String? {
        (0...65535).contains(port) ? nil : "address \(port): invalid port"
    }
}

extension ClusterOptions {
    /// The port the route listener binds, nil when clustering is off (port 0); -1 is 0 (the system picks).
    public var listenPort: Int? {
        port == 0 ? nil : ServerOptions.bindPort(forConfigured: port)
    }
}
