/// The two decisions a route handshake has to make without I/O, as pure functions so they are
/// tested on their own: which of two connections to the same peer survives, and how two cluster
/// names are reconciled.
enum RouteArbitration {
    /// Whether a newly completed connection to a peer replaces the one already registered in the same
    /// pool slot (the only slot in the no-pool dialect).
    ///
    /// Between natsd servers the connection dialled by the server with the smaller id wins on both
    /// sides, so a simultaneous dial never closes both. A nats-server peer keeps its first registered
    /// connection, so against it natsd does the same.
    static func newConnectionWins(localID: String, remoteID: String, peerIsNatsd: Bool,
                                  newDidSolicit: Bool, existingDidSolicit: Bool) -> Bool {
        guard peerIsNatsd else { return false }
        let localIsSmaller = localID < remoteID
        let newIsCanonical = localIsSmaller ? newDidSolicit : !newDidSolicit
        let existingIsCanonical = localIsSmaller ? existingDidSolicit : !existingDidSolicit
        return newIsCanonical && !existingIsCanonical
    }

    enum DiscoveryAction: Equatable {
        /// Already routed (or dialling), or it is us.
        case ignore
        case dialNow
        /// A natsd peer with a smaller id dials us; dial it ourselves only if it has not after a while.
        case dialIfAbsentLater
    }

    /// What to do about a server learned from gossip or a natsd peer list. Between two natsd servers
    /// only the smaller id dials, so the two never dial each other at once; nats-server peers are
    /// dialled by whoever hears of them, as nats-server does.
    static func discoveryAction(localID: String, peerID: String, peerIsNatsd: Bool, alreadyKnown: Bool) -> DiscoveryAction {
        if peerID == localID || alreadyKnown { return .ignore }
        return peerIsNatsd && peerID < localID ? .dialIfAbsentLater : .dialNow
    }

    enum NameDecision: Equatable {
        case agree
        /// Take the peer's name (and whether it is itself a generated one).
        case adopt(name: String, dynamic: Bool)
        /// Refuse the peer with this -ERR text.
        case reject(String)
    }

    /// nats-server's rule: a generated (dynamic) name gives way to a configured one, and of two
    /// generated names the greater wins; two different configured names never route.
    static func reconcileClusterNames(local: String, localDynamic: Bool, remote: String, remoteDynamic: Bool) -> NameDecision {
        guard !remote.isEmpty, remote != local else { return .agree }
        if localDynamic && (!remoteDynamic || local < remote) { return .adopt(name: remote, dynamic: remoteDynamic) }
        if remoteDynamic { return .agree }  // the peer adopts ours
        return .reject("Rejecting connection, cluster name \"\(remote)\" does not match \"\(local)\"")
    }
}
