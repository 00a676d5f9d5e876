import NATSConfig
import NATSJSON

/// Another server of the cluster and this server's route connections to it: one in the no-pool dialect,
/// else one per pool slot (nats-protocol.md §2.10). Membership, gossip and client URLs are per peer; each
/// connection keeps the interest that arrived on it, and the peer's interest is the union of them.
///
/// Which connection carries what:
/// - towards nats-server, everything of an account travels on the account's slot (FNV-1a of its name
///   modulo our pool size, as nats-server computes its own: `Account.slot`); a message goes back on the
///   connection the matching interest arrived on, which is nats-server's slot;
/// - towards a natsd peer with several slots, everything one local client causes (its messages and the
///   interest its subscriptions create) travels on that client's slot (`RouteSlots`, which also puts
///   each slot's connection on a loop of its own):
///   each publisher's messages stay in order, a SUB reaches the peer before the PUB that relies on it,
///   and different clients spread over the pool (review §1.4's caveat: all on one slot would add no
///   throughput). Every RS+/RS- of one subject stays on the slot of the client that created the
///   interest, so the peer sees them in order.
package final class RoutePeer {
    package let serverID: String
    /// The INFO of the peer's first registered connection.
    package var remoteInfo: ServerInfo
    /// Where the peer accepts routes (its `ip`, else the address we reached it on with its `port`).
    var remoteRouteURL: RouteURL?
    private(set) var pool: RoutePool<RouteConnection>
    /// The pair speaks the pooled dialect (false: one connection carrying every account).
    package let isPooled: Bool
    /// A natsd peer with several slots: local clients spread over them (see above).
    let spreadsByClient: Bool
    /// The pool size account slots are computed with towards a nats-server peer (our own, as nats-server
    /// uses its own).
    let accountPoolSize: Int
    /// Dialers that keep this peer connected: they refill a slot that drops and redial when the peer goes.
    var dialers: [RouteDialer] = []
    /// The peer has accepted our CONNECT, so it may hear whom we are routed to (Cluster+PeerList).
    var connectAccepted = false
    /// Gossip about this peer already sent, by duty (Cluster+Gossip), so another pool connection with the
    /// same duty does not repeat it.
    var gossipDuties: [GossipDuty] = []
    /// Client URLs and membership have been announced (on the first registered connection).
    var isAnnounced = false
    /// The id of the peer's first connection: peers in the order they joined.
    let joinOrder: UInt64
    init(serverID: String, remoteInfo: ServerInfo, poolSize: Int?, localPoolSize: Int?, joinOrder: UInt64) {
        self.serverID = serverID
        self.joinOrder = joinOrder
        self.remoteInfo = remoteInfo
        self.isPooled = poolSize != nil
        self.pool = RoutePool(size: poolSize ?? 1)
        self.spreadsByClient = remoteInfo.isNatsd && (poolSize ?? 1) > 1
        self.accountPoolSize = localPoolSize ?? 1
    }

    package var connections: [RouteConnection] { pool.members }
    var primary: RouteConnection? { pool.primary }

    func place(_ route: RouteConnection, at slot: Int) {
        pool.place(route, at: slot)
    }

    @discardableResult
    func remove(_ route: RouteConnection) -> Int? {
        pool.remove(route)
    }

    func grow(to size: Int) {
        pool.grow(to: size)
    }

    /// The slot that carries the interest a local client's subscriptions create (Cluster+Interest.swift).
    var interestRule: RouteInterestRule {
        if !isPooled { return .single }
        return spreadsByClient ? .byClient : .account(poolSize: accountPoolSize)
    }

    var hasExplicitDialer: Bool { dialers.contains { $0.isExplicit } }

    func attach(_ dialer: RouteDialer) {
        if !dialers.contains(where: { $0 === dialer }) { dialers.append(dialer) }
        if dialer.isExplicit {
            for route in pool.members { route.isExplicit = true }
        }
    }
}
