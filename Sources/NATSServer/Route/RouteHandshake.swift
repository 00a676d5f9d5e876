import NATSJSON
import NATSProtocol

/// A route connection's handshake (nats-protocol.md §2.3, §2.4, §2.7 and §2.10) as a state machine without
/// I/O: the connection feeds it what arrives (CONNECT, INFO, PONG, the handshake deadline) and performs the
/// actions it returns, in order.
///
/// - Accepting: our INFO goes out at once; the peer's CONNECT must be its first op, its INFO follows.
/// - Dialling: CONNECT at once. In the no-pool dialect our INFO follows right away; a pooled dialler holds
///   it back until the acceptor's INFO has been read and the connection has a slot in the peer's pool, so
///   that INFO can name the slot (`route_pool_idx`), as nats-server's `routeShouldDelayInfo` does.
/// - Registered: a pooled dialler whose peer still has free slots sends a PING; the PONG (the peer has
///   accepted our CONNECT, so its credentials check passed) is the cue to dial the next slot.
///
/// The cluster decides where the connection goes (`Action.place`) and answers with `placed(_:)`.
struct RouteHandshake {
    enum State: Equatable {
        /// Accepted: waiting for the peer's CONNECT (it must be the first op).
        case awaitingConnect
        /// CONNECT done (or sent, when dialling): waiting for the peer's INFO.
        case awaitingInfo
        /// INFO accepted; the cluster is placing the connection in the peer's pool.
        case awaitingPlacement
        /// In the peer's pool: carries interest and messages.
        case registered
        case closed
    }

    /// The cluster's name as the handshake compares it with the peer's.
    struct ClusterName: Equatable {
        var name: String
        var isDynamic: Bool
    }

    /// How the connection joins its peer.
    struct Placement: Equatable {
        /// The pool size both sides use; nil in the no-pool dialect (one connection, slot 0).
        var poolSize: Int?
        /// The slot an accepted pooled connection's INFO named; nil for a connection we dialled, which
        /// takes the first free slot.
        var requestedSlot: Int?
    }

    enum PlacementResult: Equatable {
        case placed(slot: Int, poolFull: Bool)
        /// The peer keeps another connection in that slot, or its pool is full: this one is a duplicate.
        case duplicate
    }

    enum Action: Equatable {
        case sendConnect
        /// Our route INFO, naming `poolSlot` (`route_pool_idx`, omitted when 0).
        case sendInfo(poolSlot: Int)
        /// `-ERR '<error>'`, then close once it is written.
        case refuse(error: String, reason: CloseReason)
        /// The same after a short pause (refused credentials; see `RouteConnection.failAfterPause`); `log` is
        /// the error to log at once.
        case refuseAfterPause(error: String, reason: CloseReason, log: String)
        /// Close without a word; `log` is the error to log first, if any.
        case close(CloseReason, log: String?)
        /// The peer is this server (a route URL pointing at ourselves): stop dialling it and close.
        case closeRouteToSelf
        /// Our generated cluster name gives way to the peer's.
        case adoptClusterName(String, isDynamic: Bool)
        /// Ask the cluster for a slot; it answers with `placed(_:)`.
        case place(Placement)
        /// Now a member of the peer's pool: announce local interest, tell the cluster.
        case registered
        case startPinging
        /// A PING whose PONG starts the next pool connection.
        case sendPing
        case dialNextPoolConnection
    }

    let didSolicit: Bool
    /// This server's pool size; nil for the no-pool dialect (`pool_size: -1`).
    let localPoolSize: Int?
    let localServerID: String
    let localServerName: String
    private(set) var state: State
    /// The placement asked for, once the peer's INFO was accepted.
    private(set) var placement: Placement?
    /// The slot the connection holds once registered.
    private(set) var slot: Int?
    private var dialsNextOnPong = false

    init(didSolicit: Bool, localPoolSize: Int?, localServerID: String, localServerName: String) {
        self.didSolicit = didSolicit
        self.localPoolSize = localPoolSize
        self.localServerID = localServerID
        self.localServerName = localServerName
        self.state = didSolicit ? .awaitingInfo : .awaitingConnect
    }

    /// A pooled dialler sends its INFO only once it knows its slot.
    var delaysInfo: Bool { didSolicit && localPoolSize != nil }

    /// The first bytes: an acceptor's INFO, a dialler's CONNECT (and INFO, unless held back).
    func start() -> [Action] {
        guard didSolicit else { return [.sendInfo(poolSlot: 0)] }
        return delaysInfo ? [.sendConnect] : [.sendConnect, .sendInfo(poolSlot: 0)]
    }

    /// The peer's CONNECT on a connection we accepted: nats-server's checks in its order (a client on the
    /// route port, a gateway, credentials, cluster name). On a connection we dialled it means nothing.
    mutating func connectReceived(_ connect: ConnectOptions, cluster: ClusterName,
                                  authorize: (_ user: String, _ password: String) -> Bool) -> [Action] {
        guard state == .awaitingConnect else { return [] }
        if !connect.lang.isEmpty {
            return refuse("attempted to connect to route port", .incorrectPort)
        }
        if !connect.gateway.isEmpty {
            return refuse("Rejecting connection from gateway \"\(connect.gateway)\" on the Route port", .protocolViolation)
        }
        if !authorize(connect.user, connect.pass) {
            state = .closed
            return [.refuseAfterPause(error: "Authorization Violation", reason: .authenticationViolation,
                                      log: Self.authenticationErrorLog(user: connect.user))]
        }
        var actions: [Action] = []
        switch RouteArbitration.reconcileClusterNames(local: cluster.name, localDynamic: cluster.isDynamic,
                                                      remote: connect.cluster, remoteDynamic: connect.clusterDynamic) {
        case .agree: break
        case .adopt(let name, let dynamic): actions.append(.adoptClusterName(name, isDynamic: dynamic))
        case .reject(let text): return refuse(text, .clusterNameConflict)
        }
        state = .awaitingInfo
        return actions
    }

    /// The peer's handshake INFO. Only for `awaitingConnect` (an INFO before CONNECT is refused) and
    /// `awaitingInfo`; an INFO on a registered route is the cluster's business (gossip, updates).
    mutating func infoReceived(_ info: ServerInfo, cluster: ClusterName) -> [Action] {
        switch state {
        case .awaitingConnect:
            return refuse("Authorization Violation", .authenticationViolation)
        case .awaitingInfo:
            break
        case .awaitingPlacement, .registered, .closed:
            return []
        }
        if info.serverID == localServerID {
            state = .closed
            return [.closeRouteToSelf]
        }
        var actions: [Action] = []
        if didSolicit {
            // The acceptor checked our CONNECT's name; a dialler checks the acceptor's INFO.
            switch RouteArbitration.reconcileClusterNames(local: cluster.name, localDynamic: cluster.isDynamic,
                                                          remote: info.cluster, remoteDynamic: info.clusterDynamic) {
            case .agree: break
            case .adopt(let name, let dynamic): actions.append(.adoptClusterName(name, isDynamic: dynamic))
            case .reject(let text):
                state = .closed
                return [.close(.clusterNameConflict, log: text)]
            }
        }
        if !info.serverName.isEmpty && info.serverName == localServerName {
            state = .closed
            return [.close(.duplicateServerName, log: "Remote server has a duplicate name: \"\(localServerName)\"")]
        }
        if !info.routeAccount.isEmpty {
            // A pooled nats-server dials one more connection pinned to its system account. natsd has no
            // system account and answers as nats-server run with `no_sys_acc: true` does.
            return actions + refuse(RoutePooling.missingAccountError(info.routeAccount), .missingAccount)
        }
        let placement: Placement
        switch RoutePooling.negotiate(localPoolSize: localPoolSize, remotePoolSize: info.routePoolSize,
                                      remoteSlot: info.routePoolIndex, didSolicit: didSolicit) {
        case .noPool: placement = Placement(poolSize: nil, requestedSlot: nil)
        case .pooled(let size, let slot): placement = Placement(poolSize: size, requestedSlot: slot)
        case .refuse(let text): return actions + refuse(text, .protocolViolation)
        }
        state = .awaitingPlacement
        self.placement = placement
        return actions + [.place(placement)]
    }

    /// The cluster's answer to `Action.place`.
    mutating func placed(_ result: PlacementResult) -> [Action] {
        guard state == .awaitingPlacement, let placement else { return [] }
        switch result {
        case .duplicate:
            state = .closed
            return [.close(.duplicateRoute, log: nil)]
        case .placed(let slot, let poolFull):
            state = .registered
            self.slot = slot
            var actions: [Action] = []
            if delaysInfo { actions.append(.sendInfo(poolSlot: placement.poolSize == nil ? 0 : slot)) }
            actions += [.registered, .startPinging]
            if didSolicit && placement.poolSize != nil && !poolFull {
                dialsNextOnPong = true
                actions.append(.sendPing)
            }
            return actions
        }
    }

    mutating func pongReceived() -> [Action] {
        guard dialsNextOnPong, state == .registered else { return [] }
        dialsNextOnPong = false
        return [.dialNextPoolConnection]
    }

    /// The handshake took longer than the cluster's auth timeout.
    mutating func deadlinePassed() -> [Action] {
        switch state {
        case .awaitingConnect:
            return refuse("Authentication Timeout", .authenticationTimeout)
        case .awaitingInfo, .awaitingPlacement:
            state = .closed
            return [.close(.protocolViolation, log: nil)]
        case .registered, .closed:
            return []
        }
    }

    mutating func closed() { state = .closed }

    /// nats-server's `authViolation` line for a refused route: it names the user the peer offered, if any.
    static func authenticationErrorLog(user: String) -> String {
        user.isEmpty ? "authentication error" : "authentication error - User \"\(user)\""
    }

    private mutating func refuse(_ error: String, _ reason: CloseReason) -> [Action] {
        state = .closed
        return [.refuse(error: error, reason: reason)]
    }
}
