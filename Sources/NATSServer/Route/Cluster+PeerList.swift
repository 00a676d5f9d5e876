import NATSConfig
import NATSProtocol
import UVLoop

/// natsd's anti-entropy on top of nats-server's gossip. Gossip passes each new server on once, when a
/// route to it forms; if that INFO is lost to a race (a duplicate connection closed, a dial refused
/// while the peer was still starting), some servers never hear of the newcomer and the mesh stays
/// partial. So every natsd server also tells its natsd peers whom it is routed to — once a route's
/// CONNECT has been accepted, and again whenever it gains a peer — and a natsd server dials every listed
/// server it is missing. nats-server ignores the extra INFO field.
///
/// The list never travels in the first INFO of a route, which an unauthenticated dialler reads: a
/// server refused for wrong credentials must not learn the other members and join through them
/// (issue 6 point 5). The acceptor sends its list right after registering the route (the dialler's
/// CONNECT was accepted by then); the dialler takes that INFO as the sign that its CONNECT was accepted
/// and answers with its own list. Lists are only read from such later INFOs of a registered route.
///
/// Between two natsd servers only the one with the smaller id dials such a discovered route, so the two
/// never dial each other at once and no duplicate has to be closed after the mesh formed. The larger
/// one dials only if the smaller has not shown up after `deferredDialMilliseconds` (a failed dial).
extension Cluster {
    /// Coalesces bursts of new routes into one announcement.
    static let peerListDelayMilliseconds: UInt64 = 50
    static let deferredDialMilliseconds: UInt64 = 3000

    /// `"<server_id> <route URL>[ natsd]"` for every registered peer whose route URL we know.
    func peerList() -> [String] {
        peers.values.sorted { $0.serverID < $1.serverID }.compactMap { peer in
            guard let url = peer.remoteRouteURL else { return nil }
            let suffix = peer.remoteInfo.isNatsd ? " natsd" : ""
            return "\(peer.serverID) nats-route://\(server.hostPort(url.host, url.port))/\(suffix)"
        }
    }

    func schedulePeerListBroadcast() {
        guard !isShuttingDown else { return }
        if peerListTimer == nil {
            peerListTimer = LoopTimer(loop: server.loop) { [unowned(unsafe) self] in self.broadcastPeerList() }
        }
        if !peerListPending {
            peerListPending = true
            peerListTimer?.start(afterMilliseconds: Cluster.peerListDelayMilliseconds)
        }
    }

    private func broadcastPeerList() {
        peerListPending = false
        let line = peerListInfoLine()
        for peer in peers.values where peer.remoteInfo.isNatsd && peer.connectAccepted {
            peer.primary?.sendFromMain(line)
        }
    }

    /// Sends our peer list to a peer that just accepted our CONNECT (natsd peers only).
    func sendPeerList(to peer: RoutePeer) {
        guard peer.remoteInfo.isNatsd, peer.connectAccepted, let route = peer.primary else { return }
        route.sendFromMain(peerListInfoLine())
    }

    /// Dials every listed server we have no route to and are not already dialling.
    func processPeerList(_ entries: [String]) {
        for entry in entries {
            let parts = entry.split(separator: " ")
            guard parts.count >= 2, var url = RouteURL(parsing: String(parts[1])) else { continue }
            url.username = clusterOptions.username
            url.password = clusterOptions.password
            discovered(serverID: String(parts[0]), url: url, peerIsNatsd: parts.count > 2 && parts[2] == "natsd",
                       gossipMode: Cluster.gossipDisabled)
        }
    }

    /// A server we may have to dial: now, later (natsd peer with a smaller id: it dials us), or not at all.
    func discovered(serverID id: String, url: RouteURL, peerIsNatsd: Bool, gossipMode: Int) {
        let known = peers[id] != nil || implicitDialers[id] != nil
        switch RouteArbitration.discoveryAction(localID: server.serverID, peerID: id, peerIsNatsd: peerIsNatsd, alreadyKnown: known) {
        case .ignore:
            return
        case .dialIfAbsentLater:
            if deferredDials[id] == nil {
                deferredDials[id] = (url, server.loop.now + Cluster.deferredDialMilliseconds)
                startMaintenance()
            }
        case .dialNow:
            dialImplicit(id: id, url: url, gossipMode: gossipMode)
        }
    }

    func dialImplicit(id: String, url: RouteURL, gossipMode: Int) {
        deferredDials.removeValue(forKey: id)
        let dialer = RouteDialer(cluster: self, url: url, isExplicit: false, gossipMode: gossipMode, expectedID: id)
        implicitDialers[id] = dialer
        dialer.start()
    }

    private func startMaintenance() {
        if maintenanceTimer == nil {
            maintenanceTimer = LoopTimer(loop: server.loop) { [unowned(unsafe) self] in self.runDeferredDials() }
            maintenanceTimer?.start(afterMilliseconds: 500, repeatMilliseconds: 500)
        }
    }

    /// Dials the natsd peers that should have dialled us by now but have not.
    private func runDeferredDials() {
        let now = server.loop.now
        for (id, entry) in deferredDials {
            if peers[id] != nil || implicitDialers[id] != nil {
                deferredDials.removeValue(forKey: id)
            } else if now >= entry.due {
                server.logger.debug("Route to \(id) did not arrive, dialling it")
                dialImplicit(id: id, url: entry.url, gossipMode: Cluster.gossipDisabled)
            }
        }
    }
}
