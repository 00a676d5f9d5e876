import NATSAuth
import NATSConfig
import Logging
import NATSProtocol
import UVLoop

/// The cluster side of a server: the route listener, the dialers, the peers (each with its route
/// connections: one, or a pool), gossip, and the bookkeeping of local interest that routes are told about.
package final class Cluster {
    /// The server owns the cluster for its whole life.
    unowned(unsafe) let server: Server
    /// The options the server started with: what a reload cannot change (host, port, pool size, limits).
    let options: ServerOptions
    /// The `cluster` block in force (main loop only): the start's, replaced by a reload (Cluster+Reload.swift).
    /// Serving loops read their own copy, `LoopWorker.options.cluster`.
    var clusterOptions: ClusterOptions
    let routeParserLimits: ParserLimits
    package private(set) var name: String
    private(set) var nameIsDynamic: Bool

    var listener: TCPListener?
    /// Every route connection, handshaking or registered, by route id.
    var routes: [UInt64: RouteConnection] = [:]
    /// The other servers we have registered route connections to, by server id.
    package var peers: [String: RoutePeer] = [:]
    /// Our pool size (`cluster.pool_size`); nil for the no-pool dialect.
    let localPoolSize: Int?
    var explicitDialers: [RouteDialer] = []
    /// Implicit dials under way, by the server id gossip announced.
    var implicitDialers: [String: RouteDialer] = [:]
    private var nextRouteID: UInt64 = 0
    /// The coalescing timer of peer-list announcements (see Cluster+PeerList).
    var peerListTimer: LoopTimer?
    var peerListPending = false
    /// natsd peers with a smaller id that should dial us, and when we dial them ourselves instead.
    var deferredDials: [String: (url: RouteURL, due: UInt64)] = [:]
    var maintenanceTimer: LoopTimer?
    /// Guards the local interest counts (`InterestIndex`) and `liveRoutes`, used from every loop
    /// (Cluster+Interest.swift). Never held while taking another lock but an inbox's.
    let interestLock = PThreadLock()
    /// Registered connections on their serving loops, as interest announcements see them (`interestLock`).
    var liveRoutes: [LiveRoute] = []
    /// The accounts whose local interest a route that goes live is told (`interestLock`; replaced by the
    /// main loop when a reload changes the accounts, so a loop still on the older registry tells a new
    /// route about the new accounts too).
    var interestAccounts: [Account]
    /// `cluster.permissions` compiled (Cluster+RoutePermissions.swift); nil: every subject crosses routes.
    /// Replaced by a reload on the main loop under `interestLock`, so it is read under that lock or on the
    /// main loop; serving loops check a peer's interest with their own copy (`LoopWorker.routePermissions`).
    package internal(set) var routePermissions: RoutePermissionRules?

    /// Pending output at which a route peer that stopped reading is dropped: far above a client's
    /// max_pending, since a route carries many clients' traffic and is redialled.
    var routeMaxPending: Int { max(options.maxPending * 4, 256 * 1024 * 1024) }

    init(server: Server) {
        self.server = server
        self.options = server.options
        self.clusterOptions = server.options.cluster
        self.interestAccounts = server.accounts.all
        self.localPoolSize = server.options.cluster.routePoolSize
        self.routePermissions = server.options.cluster.permissions.map(RoutePermissionRules.init)
        self.routeParserLimits = ParserLimits.route(
            maxControlLine: server.options.maxControlLine,
            maxPayload: max(server.options.maxPending, server.options.maxPayload, 64 * 1024 * 1024))
        if server.options.cluster.name.isEmpty {
            name = ServerIdentity.newNonce(length: 22)
            nameIsDynamic = true
        } else {
            name = server.options.cluster.name
            nameIsDynamic = false
        }
    }

    var isShuttingDown: Bool { server.isShuttingDown }

    /// Every registered route connection, in registration order (/routez, /varz `routes`).
    package var registeredRoutes: [RouteConnection] {
        peers.values.flatMap(\.connections).sorted { $0.id < $1.id }
    }

    // MARK: - Start and stop

    func start() throws {
        let clusterOptions = options.cluster
        if let port = clusterOptions.listenPort {
            let host = clusterOptions.host.isEmpty ? "0.0.0.0" : clusterOptions.host
            let listener: TCPListener
            do {
                listener = try server.listen(host: host, port: port) { [unowned self] connection in
                    self.accepted(connection)
                }
            } catch {
                throw StartupError("Error listening on router port: \(clusterOptions.port) - \(error)")
            }
            self.listener = listener
            boundPort = listener.port
            server.logger.info("Cluster name is \(name)")
            if nameIsDynamic {
                server.logger.warning("Cluster name was dynamically generated, consider setting one")
            }
            server.logger.info("Listening for route connections on \(server.hostPort(host, listener.port))")
        }
        for url in clusterOptions.routes {
            let dialer = RouteDialer(cluster: self, url: url, isExplicit: true)
            explicitDialers.append(dialer)
            dialer.start()
        }
    }

    func shutdown() {
        peerListTimer?.close()
        peerListTimer = nil
        maintenanceTimer?.close()
        maintenanceTimer = nil
        listener?.close()
        listener = nil
        for dialer in explicitDialers { dialer.stop() }
        for dialer in implicitDialers.values { dialer.stop() }
        implicitDialers.removeAll()
        for route in Array(routes.values) { route.closeFromMain(reason: .serverShutdown, flush: true) }
    }

    /// The port the route listener bound (kept after shutdown closed the listener).
    private var boundPort: Int?

    /// The port routes connect to (the bound one when configured as -1).
    package var port: Int { boundPort ?? options.cluster.port }

    // MARK: - New connections

    private func accepted(_ connection: TCPConnection) {
        guard !isShuttingDown else { return connection.close() }
        makeRoute(connection, dialer: nil).start()
    }

    func solicitedRouteConnected(_ connection: TCPConnection, dialer: RouteDialer) {
        makeRoute(connection, dialer: dialer).start()
    }

    private func makeRoute(_ connection: TCPConnection, dialer: RouteDialer?) -> RouteConnection {
        nextRouteID += 1
        let route = RouteConnection(cluster: self, id: nextRouteID, connection: connection, dialer: dialer)
        routes[route.id] = route
        return route
    }

    func hasRoute(to serverID: String) -> Bool { peers[serverID] != nil }

    /// The registered peer that accepts routes at `url`, if any.
    func registeredPeer(listeningAt url: RouteURL) -> RoutePeer? {
        peers.values.first { peer in
            guard let known = peer.remoteRouteURL, known.port == url.port else { return false }
            return known.host == url.host || peer.remoteInfo.host == url.host
                || (Cluster.isLoopback(known.host) && Cluster.isLoopback(url.host))
        }
    }

    private static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "127.0.0.1"
    }

    func implicitDialerFinished(_ dialer: RouteDialer) {
        if let id = dialer.expectedID, implicitDialers[id] === dialer { implicitDialers.removeValue(forKey: id) }
    }

    // MARK: - Authentication and names

    /// Whether an accepted route may join, as nats-server's `isRouterAuthorized` decides: with
    /// `cluster { tls { verify_and_map } }` when its verified `certificate` names the cluster `authorization`
    /// user (its CONNECT's credentials do not count); else when it offers that user and password, or anyone
    /// when none is configured.
    func authorizeRoute(user: String, pass: String, certificate: () -> CertificateIdentity?) -> Bool {
        let expectedUser = clusterOptions.username
        if server.routeTLS?.mapsCertificates == true {
            return certificate()?.namesRouteUser(expectedUser) ?? false
        }
        guard !expectedUser.isEmpty else { return true }
        return user == expectedUser && Authenticator.secretMatches(stored: clusterOptions.password, offered: pass)
    }

    /// The cluster name as a route handshake compares it.
    var handshakeName: RouteHandshake.ClusterName { RouteHandshake.ClusterName(name: name, isDynamic: nameIsDynamic) }

    /// `cluster { name }` changed by a reload: a configured name replaces the one in use when it differs
    /// (nats-server's `setClusterName`); without one, the name in use stays and may now give way to a peer's,
    /// as a generated one does (nats-server's `isClusterNameDynamic` reads the options in force).
    func reloadName(_ configured: String) {
        if configured.isEmpty {
            nameIsDynamic = true
        } else if configured != name {
            adoptClusterName(configured, dynamic: false)
        } else {
            nameIsDynamic = false
        }
    }

    func adoptClusterName(_ newName: String, dynamic: Bool) {
        server.logger.info("Cluster name updated to \(newName)")
        name = newName
        nameIsDynamic = dynamic
        server.refreshClientInfo()
    }
}
