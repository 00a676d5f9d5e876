import NATSConfig
import NATSJSON
import NATSProtocol

/// The INFO and CONNECT a route speaks, and the client URLs the cluster advertises.
extension Cluster {
    /// The INFO natsd sends on a route (nats-protocol.md §2.2, §2.12): no compression; `route_pool_size`
    /// when pooled, and on a pooled dialler's delayed INFO the slot it took (`route_pool_idx`, omitted when 0).
    /// It describes this server only, as nats-server's does: it is the first thing an unauthenticated
    /// peer reads, so the natsd peer list travels in a later INFO (`peerListInfoLine`, issue 6 point 5).
    func routeInfo(for route: RouteConnection? = nil, poolSlot: Int = 0) -> ServerInfo {
        var info = server.commonInfo(proto: 2)
        let advertised = advertisedRouteHostPort()
        info.host = advertised.host
        info.port = advertised.port
        info.authRequired = !clusterOptions.username.isEmpty
        info.tlsRequired = clusterOptions.tls != nil
        info.tlsVerify = clusterOptions.tls != nil
        info.nonce = ServerIdentity.newNonce()
        info.cluster = name
        info.clusterDynamic = nameIsDynamic
        if !clusterOptions.advertise.isEmpty {
            info.ip = "nats-route://\(server.hostPort(advertised.host, advertised.port))/"
        }
        if !clusterOptions.noAdvertise {
            info.connectURLs = server.ownClientURLs()
        }
        // The peer checks what it may send us against them, and resends interest when they widen (a reload).
        info.importPermissions = clusterOptions.permissions?.import.map(SubjectPermissions.init)
        info.exportPermissions = clusterOptions.permissions?.export.map(SubjectPermissions.init)
        if let route, route.didSolicit, !route.isExplicit, route.dialGossipMode != Cluster.gossipDefault {
            info.gossipMode = UInt8(route.dialGossipMode)
        }
        info.routePoolSize = localPoolSize ?? 0
        info.routePoolIndex = poolSlot
        info.isNatsd = true
        return info
    }

    /// The async INFO that tells a natsd peer whom we are routed to (see Cluster+PeerList) and where our
    /// monitoring listens (for its `/topologyz`). Only for routes whose CONNECT has been accepted
    /// (`RouteConnection.connectAccepted`).
    func peerListInfoLine() -> [UInt8] {
        var info = routeInfo()
        info.natsdPeers = peerList()
        info.natsdMonitorPort = server.monitor?.port ?? 0
        return info.gossipLine()
    }

    func routeInfoLine(for route: RouteConnection, poolSlot: Int) -> [UInt8] { routeInfo(for: route, poolSlot: poolSlot).line() }

    /// CONNECT for a route we dialled: the peer identifies us by server id.
    func routeConnectLine(for route: RouteConnection) -> [UInt8] {
        var connect = ConnectOptions()
        connect.verbose = false
        connect.pedantic = false
        connect.echo = true
        connect.headers = !options.noHeaderSupport
        connect.name = server.serverID
        connect.cluster = name
        connect.clusterDynamic = nameIsDynamic
        if let url = route.dialer?.url {
            connect.user = url.username
            connect.pass = url.password
        }
        return connect.line()
    }

    func advertisedRouteHostPort() -> (host: String, port: Int) {
        if let advertised = Server.advertisedAddress(clusterOptions.advertise, listeningPort: port) {
            return advertised
        }
        let host = options.cluster.host.isEmpty ? "0.0.0.0" : options.cluster.host
        return (host, port)
    }

    /// Client URLs of every other cluster member (from their route INFO), in registration order.
    func peerClientURLs() -> [String] {
        var urls: [String] = []
        for peer in peers.values.sorted(by: { $0.joinOrder < $1.joinOrder }) {
            for url in peer.remoteInfo.connectURLs where !urls.contains(url) { urls.append(url) }
        }
        return urls
    }
}

extension SubjectPermissions {
    /// A config permission as route INFO carries it (Go's `SubjectPermission`: a missing allow list and an
    /// empty one are both omitted).
    init(_ permission: SubjectPermission) {
        self.init(allow: permission.allow ?? [], deny: permission.deny)
    }
}

extension SubjectPermission {
    /// A permission read from a peer's route INFO.
    init(_ permissions: SubjectPermissions) {
        self.init(allow: permissions.allow.isEmpty ? nil : permissions.allow, deny: permissions.deny)
    }
}
