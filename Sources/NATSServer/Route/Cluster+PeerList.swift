import NATSProtocol
import UVLoop

/// natsd's anti-entropy on top of nats-server's gossip. Gossip passes each new server on once, when a
/// route to it forms; if that INFO is lost to a race (a duplicate connection closed, a dial refused
/// while the peer was still starting), some servers never hear of the newcomer and the mesh stays
/// partial. So every natsd server also tells its natsd peers whom it is routed to — in its route INFO
/// and again whenever it gains a peer — and a natsd server dials every listed server it is missing.
/// nats-server ignores the extra INFO field.
extension Cluster {
    /// Coalesces bursts of new routes into one announcement.
    static let peerListDelayMilliseconds: UInt64 = 50

    /// `"<server_id> <route URL>"` for every registered peer whose route URL we know.
    func peerList() -> [String] {
        routesByServerID.values.sorted { $0.id < $1.id }.compactMap { route in
            guard let url = route.remoteRouteURL else { return nil }
            return "\(route.remoteID) nats-route://\(server.hostPort(url.host, url.port))/"
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
        let line = routeInfo().gossipLine()
        for route in routesByServerID.values where route.remoteInfo.isNatsd {
            route.send(line)
        }
    }

    /// Dials every listed server we have no route to and are not already dialling.
    func processPeerList(_ entries: [String]) {
        for entry in entries {
            guard let space = entry.firstIndex(of: " ") else { continue }
            let id = String(entry[..<space])
            guard id != server.serverID, routesByServerID[id] == nil, implicitDialers[id] == nil,
                  var url = RouteURL(parsing: String(entry[entry.index(after: space)...]))
            else { continue }
            url.username = options.cluster.username
            url.password = options.cluster.password
            // Gossip mode "disabled": the peer need not pass us on, the peer lists already do.
            let dialer = RouteDialer(cluster: self, url: url, isExplicit: false, gossipMode: Cluster.gossipDisabled, expectedID: id)
            implicitDialers[id] = dialer
            dialer.start()
        }
    }
}
