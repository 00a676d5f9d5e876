import NATSConfig
import NATSJSON
import NATSProtocol

/// Peers and their pools: where a connection whose handshake INFO was accepted goes, what registering it
/// does, and what happens when it closes.
extension Cluster {
    /// Places a connection in its peer's pool, nats-server's `addRoute` rules (nats-protocol.md §2.8):
    /// - a peer heard of for the first time gets a pool of the negotiated size;
    /// - an accepted connection takes the slot its INFO named, one we dialled the first free slot; with
    ///   the pool full, a dialled connection is an extra one and closed;
    /// - a taken slot makes a duplicate: between natsd servers the connection dialled by the smaller
    ///   server id wins on both sides (`RouteArbitration`), against nats-server the first one stays.
    func place(_ route: RouteConnection, _ placement: RouteHandshake.Placement) -> RouteHandshake.PlacementResult {
        let id = route.remoteID
        let peer: RoutePeer
        if let existing = peers[id] {
            peer = existing
            guard peer.isPooled == (placement.poolSize != nil) else {
                // The peer's other connections speak the other dialect: keep them.
                return duplicate(route, of: peer, why: "pool mode differs from the registered routes")
            }
            if let size = placement.poolSize { peer.grow(to: size) }
        } else {
            peer = RoutePeer(serverID: id, remoteInfo: route.remoteInfo, poolSize: placement.poolSize, localPoolSize: localPoolSize,
                             joinOrder: route.id)
            peer.remoteRouteURL = route.remoteRouteURL
            peers[id] = peer
        }
        let slot: Int
        if !peer.isPooled {
            slot = 0
        } else if let requested = placement.requestedSlot {
            slot = requested
        } else if let free = peer.pool.firstFreeSlot() {
            slot = free
        } else {
            return duplicate(route, of: peer, why: "route pool size reached")
        }
        var displaced: RouteConnection?
        if let existing = peer.pool[slot] {
            guard keepsNewRoute(route, over: existing) else { return duplicate(route, of: peer, why: "slot \(slot) taken") }
            displaced = existing
        }
        peer.place(route, at: slot)
        route.peer = peer
        route.poolSlot = peer.isPooled ? slot : nil
        route.spreadsByClient = peer.spreadsByClient
        route.peerKey = peer.joinOrder
        route.poolSize = peer.pool.size
        route.peerOffset = Int(truncatingIfNeeded: peer.joinOrder % 1024)
        route.interestRule = peer.interestRule
        if peer.hasExplicitDialer { route.isExplicit = true }
        if let dialer = route.dialer {
            peer.attach(dialer)
            dialer.connectionRegistered(to: peer)
        }
        if let displaced {
            server.logger.debug("\(displaced.label) - Duplicate route to \(displaced.remoteName), closing")
            displaced.closeFromMain(reason: .duplicateRoute, flush: false)
        }
        return .placed(slot: slot, poolFull: peer.pool.isFull)
    }

    private func keepsNewRoute(_ new: RouteConnection, over existing: RouteConnection) -> Bool {
        RouteArbitration.newConnectionWins(localID: server.serverID, remoteID: new.remoteID, peerIsNatsd: new.remoteInfo.isNatsd,
                                           newDidSolicit: new.didSolicit, existingDidSolicit: existing.didSolicit)
    }

    /// A connection the peer's pool does not take; the handshake closes it.
    private func duplicate(_ loser: RouteConnection, of peer: RoutePeer, why: String) -> RouteHandshake.PlacementResult {
        server.logger.debug("\(loser.label) - Duplicate route to \(loser.remoteName) (\(why)), closing")
        // The closed connection may have carried the duty to pass the peer on (an explicit dial, or a
        // gossip override); do it now, or servers that only we could tell would never hear of the peer.
        forwardNewRouteInfo(loser, of: peer)
        // Its dialer now looks after the peer: it refills the pool if a connection drops.
        if let dialer = loser.dialer { peer.attach(dialer) }
        return .duplicate
    }

    /// A connection joined its peer's pool: it gets the local interest of its slot; the first connection
    /// of a peer makes it a member (gossip, client URLs, peer lists).
    func routeRegistered(_ route: RouteConnection) {
        guard let peer = route.peer else { return }
        let slotText = route.poolSlot.map { " (pool slot \($0))" } ?? ""
        server.logger.info("\(route.label) - Route connection created to \(route.remoteName)\(slotText)")
        if let dialer = implicitDialers[peer.serverID], !peer.dialers.contains(where: { $0 === dialer }) {
            // Another connection reached the peer first; the implicit dial is no longer needed.
            dialer.stop()
            implicitDialers.removeValue(forKey: peer.serverID)
        }
        // Each connection may carry other gossip duties (an explicit dial, an override).
        forwardNewRouteInfo(route, of: peer)
        if !peer.isAnnounced {
            peer.isAnnounced = true
            server.clusterMembershipChanged()
            schedulePeerListBroadcast()
        }
        // A peer list in the handshake INFO is not read: on a route we dialled, the peer may not have
        // accepted our CONNECT yet. Lists arrive in the INFO that follows acceptance (Cluster+PeerList).
        if !route.didSolicit && !peer.connectAccepted {
            // We accepted the peer's CONNECT before its INFO got this far.
            peer.connectAccepted = true
            sendPeerList(to: peer)
        }
    }

    /// A registered pool connection answered the PING sent for it: the peer took our CONNECT, so dial
    /// the next slot (nats-server grows its pools the same way).
    func growPool(after route: RouteConnection) {
        guard let peer = route.peer, !peer.pool.isFull, let dialer = route.dialer else { return }
        dialer.dialPoolConnection()
    }

    /// Called once per route connection when it closes.
    func routeClosed(_ route: RouteConnection, wasRegistered: Bool) {
        routes.removeValue(forKey: route.id)
        let peer = route.peer
        route.peer = nil
        let reason = route.closeReason?.rawValue ?? ""
        guard wasRegistered, let peer, peer.remove(route) != nil else {
            server.logger.debug("\(route.label) - Router connection closed: \(reason)")
            if !wasRegistered { route.dialer?.attemptEnded() }
            return
        }
        server.logger.info("\(route.label) - Router connection closed: \(reason) - Remote: \(route.remoteName)")
        if peer.pool.isEmpty {
            if peers[peer.serverID] === peer { peers.removeValue(forKey: peer.serverID) }
            server.clusterMembershipChanged()
            for dialer in peer.dialers { dialer.peerLost() }
        } else {
            for dialer in peer.dialers { dialer.poolConnectionLost() }
        }
    }

    /// An INFO on an established route: gossip about another server, or the peer's own update.
    func processAsyncInfo(_ info: ServerInfo, on route: RouteConnection) {
        if info.serverID != route.remoteID {
            processGossip(info)
            return
        }
        guard let peer = route.peer else { return }
        if info.ldm {
            peer.remoteInfo.connectURLs = []
            server.clusterMembershipChanged()
        } else if info.importPermissions != peer.remoteInfo.importPermissions
                    || info.exportPermissions != peer.remoteInfo.exportPermissions {
            peerPermissionsChanged(peer, to: info)
        }
        if !peer.connectAccepted {
            // On a route we dialled: a server sends an INFO of its own after the handshake only once
            // it has registered us, so our CONNECT was accepted. Now it may hear whom we are routed to.
            peer.connectAccepted = true
            sendPeerList(to: peer)
        }
        if info.natsdMonitorPort > 0 { peer.remoteInfo.natsdMonitorPort = info.natsdMonitorPort }
        processPeerList(info.natsdPeers)
    }

    /// Where a peer accepts routes: its `ip` when it sent one, else the address we see + its port.
    func routeURL(of info: ServerInfo, reachedAt remoteHost: String) -> RouteURL? {
        if !info.ip.isEmpty, let url = RouteURL(parsing: info.ip) { return url }
        guard info.port > 0 else { return nil }
        return RouteURL(host: remoteHost, port: info.port)
    }
}
