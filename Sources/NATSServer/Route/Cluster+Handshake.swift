import NATSConfig
import NATSJSON
import NATSProtocol

extension Cluster {
    /// The peer's first INFO on a route: checks, duplicate resolution, then registration.
    /// Returns false when the route was closed.
    func processHandshakeInfo(_ info: ServerInfo, on route: RouteConnection) -> Bool {
        if info.serverID == server.serverID {
            server.logger.debug("\(route.label) - Detected route to self, ignoring \(route.connection.remoteHost):\(route.connection.remotePort)")
            for dialer in route.dialers { dialer.stop() }
            route.dialers.removeAll()
            route.close(reason: .duplicateRoute, flush: false)
            return false
        }
        if !info.routeAccount.isEmpty {
            // A pooled nats-server also dials a pinned `$SYS` route; natsd has no pinned accounts, so the
            // peer rejects that connection itself once it sees our INFO. Never register it.
            return true
        }
        if route.didSolicit, let rejection = clusterNameRejection(remote: info.cluster, remoteDynamic: info.clusterDynamic) {
            server.logger.error("\(route.label) - \(rejection)")
            route.close(reason: .clusterNameConflict, flush: false)
            return false
        }
        if !info.serverName.isEmpty && info.serverName == server.serverName {
            server.logger.error("\(route.label) - Remote server has a duplicate name: \"\(server.serverName)\"")
            route.close(reason: .duplicateServerName, flush: false)
            return false
        }
        route.remoteInfo = info
        route.remoteRouteURL = routeURL(of: info, reachedAt: route.connection.remoteHost)
        if let existing = routesByServerID[info.serverID] {
            if keepsNewRoute(route, over: existing) {
                replace(existing, with: route)
            } else {
                closeDuplicate(route, survivor: existing)
                return false
            }
        }
        register(route)
        return route.state == .registered
    }

    private func keepsNewRoute(_ new: RouteConnection, over existing: RouteConnection) -> Bool {
        RouteArbitration.newConnectionWins(localID: server.serverID, remoteID: new.remoteID, peerIsNatsd: new.remoteInfo.isNatsd,
                                           newDidSolicit: new.didSolicit, existingDidSolicit: existing.didSolicit)
    }

    private func closeDuplicate(_ loser: RouteConnection, survivor: RouteConnection) {
        server.logger.debug("\(loser.label) - Duplicate route to \(loser.remoteName), closing")
        // The closed connection may have carried the duty to pass the peer on (an explicit dial, or a
        // gossip override); do it now, or servers that only we could tell would never hear of the peer.
        forwardNewRouteInfo(loser)
        inheritDialers(from: loser, into: survivor)
        loser.close(reason: .duplicateRoute, flush: false)
    }

    private func replace(_ existing: RouteConnection, with route: RouteConnection) {
        inheritDialers(from: existing, into: route)
        // Point the peer at the new connection first, so closing the old one changes no client URLs.
        routesByServerID[route.remoteID] = route
        server.logger.debug("\(existing.label) - Duplicate route to \(existing.remoteName), closing")
        existing.close(reason: .duplicateRoute, flush: false)
    }

    /// The surviving connection takes over the closed one's redial duty (and explicit status).
    private func inheritDialers(from loser: RouteConnection, into survivor: RouteConnection) {
        if loser.isExplicit { survivor.isExplicit = true }
        survivor.dialers.append(contentsOf: loser.dialers)
        loser.dialers.removeAll()
    }

    private func register(_ route: RouteConnection) {
        route.state = .registered
        route.handshakeDeadline?.close()
        route.handshakeDeadline = nil
        let isNewPeer = routesByServerID[route.remoteID] !== route
        routesByServerID[route.remoteID] = route
        if let dialer = implicitDialers[route.remoteID], !route.dialers.contains(where: { $0 === dialer }) {
            // Another connection reached the peer first; the implicit dial is no longer needed.
            dialer.stop()
            implicitDialers.removeValue(forKey: route.remoteID)
        }
        for dialer in route.dialers { dialer.routeRegistered() }
        server.logger.info("\(route.label) - Route connection created to \(route.remoteName)")
        sendAllLocalInterest(to: route)
        route.startPinging()
        // Forward even for a connection replacing a duplicate: its gossip duties may differ.
        forwardNewRouteInfo(route)
        // A peer list in the handshake INFO is not read: on a route we dialled, the peer may not have
        // accepted our CONNECT yet. Lists arrive in the INFO that follows acceptance (Cluster+PeerList).
        if !route.didSolicit {
            // We accepted the peer's CONNECT before its INFO got this far.
            route.connectAccepted = true
            sendPeerList(to: route)
        }
        if isNewPeer {
            server.clusterMembershipChanged()
            schedulePeerListBroadcast()
        }
    }

    /// Called once per route connection when it closes.
    func routeClosed(_ route: RouteConnection, wasRegistered: Bool) {
        routes.removeValue(forKey: route.id)
        if wasRegistered && routesByServerID[route.remoteID] === route {
            routesByServerID.removeValue(forKey: route.remoteID)
            server.logger.info("\(route.label) - Router connection closed: \(route.closeReason?.rawValue ?? "") - Remote: \(route.remoteName)")
            server.clusterMembershipChanged()
        } else {
            server.logger.debug("\(route.label) - Router connection closed: \(route.closeReason?.rawValue ?? "")")
        }
        let dialers = route.dialers
        route.dialers.removeAll()
        for dialer in dialers { dialer.routeEnded() }
    }

    /// An INFO on an established route: gossip about another server, or the peer's own update.
    func processAsyncInfo(_ info: ServerInfo, on route: RouteConnection) {
        if info.serverID != route.remoteID {
            processGossip(info)
            return
        }
        if info.ldm {
            route.remoteInfo.connectURLs = []
            server.clusterMembershipChanged()
        }
        if !route.connectAccepted {
            // On a route we dialled: a server sends an INFO of its own after the handshake only once
            // it has registered us, so our CONNECT was accepted. Now it may hear whom we are routed to.
            route.connectAccepted = true
            sendPeerList(to: route)
        }
        processPeerList(info.natsdPeers)
    }

    /// Where a peer accepts routes: its `ip` when it sent one, else the address we see + its port.
    func routeURL(of info: ServerInfo, reachedAt remoteHost: String) -> RouteURL? {
        if !info.ip.isEmpty, let url = RouteURL(parsing: info.ip) { return url }
        guard info.port > 0 else { return nil }
        return RouteURL(host: remoteHost, port: info.port)
    }
}
