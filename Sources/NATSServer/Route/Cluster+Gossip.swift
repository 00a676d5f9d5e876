import NATSConfig
import NATSJSON
import NATSProtocol

/// Gossip: how a chain of configured routes becomes a full mesh. When a server registers a new peer
/// it tells its other peers about it (INFO with the newcomer's `ip`); a server hearing of a peer it has
/// no route to dials it. nats-server's gossip modes keep the chatter down: 1 = "do not pass this on",
/// 2 = "pass it on even though you dialled because of gossip".
extension Cluster {
    static let gossipDefault = 0
    static let gossipDisabled = 1
    static let gossipOverride = 2

    func processGossip(_ info: ServerInfo) {
        // Gossip about a pinned-account route (nats-server's pinned `$SYS`): natsd pins no account and
        // never dials one; the server's pool is announced on its own.
        guard info.routeAccount.isEmpty else { return }
        guard !isConfiguredRoute(info), var url = RouteURL(parsing: info.ip) else { return }
        if info.authRequired {
            url.username = clusterOptions.username
            url.password = clusterOptions.password
        }
        discovered(serverID: info.serverID, url: url, peerIsNatsd: info.isNatsd, gossipMode: Int(info.gossipMode))
    }

    /// True when the announced server is one of our configured routes (its dialer handles it).
    private func isConfiguredRoute(_ info: ServerInfo) -> Bool {
        let port = info.port
        let ipHost = RouteURL(parsing: info.ip)?.host
        return explicitDialers.map(\.url).contains { route in
            route.port == port && (route.host == info.host || route.host == ipHost)
        }
    }

    /// Tells every other peer (on one connection each) about a newly registered one, by nats-server's
    /// forwarding rules. Every connection of a pool may carry other duties (an explicit dial, a gossip
    /// override, accepted or dialled); each distinct duty is done once per peer.
    func forwardNewRouteInfo(_ route: RouteConnection, of peer: RoutePeer) {
        let duty = GossipDuty(didSolicit: route.didSolicit, isExplicit: route.isExplicit, dialGossipMode: route.dialGossipMode)
        guard !peer.gossipDuties.contains(duty) else { return }
        peer.gossipDuties.append(duty)
        let fromGossip = route.didSolicit && !route.isExplicit
        if (fromGossip && route.dialGossipMode != Cluster.gossipOverride) || Int(route.remoteInfo.gossipMode) == Cluster.gossipDisabled {
            return
        }
        guard let url = route.remoteRouteURL else { return }
        var gossip = route.remoteInfo
        gossip.nonce = ""
        gossip.natsdPeers = []  // an older natsd may have listed its peers in its handshake INFO
        gossip.routePoolIndex = 0
        gossip.ip = "nats-route://\(server.hostPort(url.host, url.port))/"
        for other in peers.values where other !== peer {
            guard let target = other.primary else { continue }
            let mode: Int
            if (!route.didSolicit && target.isExplicit) || (route.didSolicit && route.isExplicit) {
                mode = Cluster.gossipOverride
            } else if !route.didSolicit {
                mode = Cluster.gossipDisabled
            } else {
                mode = Cluster.gossipDefault
            }
            gossip.gossipMode = UInt8(mode)
            target.sendFromMain(gossip.gossipLine())
        }
    }
}

/// What a connection obliges us to tell other peers about its peer (see `forwardNewRouteInfo`).
struct GossipDuty: Equatable {
    let didSolicit: Bool
    let isExplicit: Bool
    let dialGossipMode: Int
}
