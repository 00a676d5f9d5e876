import Logging
import NATSAuth
import NATSConfig
import NATSJSON
import NATSProtocol
import NATSSublist
import UVLoop

/// A connection to another server of the cluster: a peer's only connection in the no-pool dialect, or
/// one slot of its pool (see RoutePeer). It shares the event loop, parser and outbound queue with client
/// connections; only the ops it accepts and what they mean differ. The handshake is a `RouteHandshake`.
package final class RouteConnection {
    typealias State = RouteHandshake.State

    /// The cluster outlives every route; unowned(unsafe) keeps refcounting off the per-message path.
    unowned(unsafe) let cluster: Cluster
    /// The loop serving this route: the main loop during the handshake, then the loop of its pool slot
    /// (`RouteSlots`), where it moves once registered (RouteConnection+HandOver.swift). Workers outlive
    /// connections. Changed only by that move, before the new loop touches the route.
    unowned(unsafe) var worker: LoopWorker
    package let id: UInt64
    /// The socket, on `worker`'s loop (replaced by the move).
    package var connection: TCPConnection
    /// The peer's address, kept for logs and /routez (read on the main loop whichever loop serves it).
    package let remoteHost: String
    package let remotePort: Int
    package let label: String
    /// The account the last RS+/RMSG named (most connections carry one account, or a few in turn):
    /// resolving a name is then one byte comparison, with no lookup or allocation per message. Held
    /// unretained with its matcher on `worker`'s loop (accounts live as long as the server), so a
    /// routed message reaches the sublist without reference counting (`RouteConnection+Protocol`).
    var lastAccount: Unmanaged<Account>
    var lastMatcher: Unmanaged<SublistMatcher<Subscription>>
    package let didSolicit: Bool
    /// Configured route (retried forever) rather than learned by gossip.
    package var isExplicit: Bool
    /// The dialer that made this connection (nil when accepted): told how the handshake ended, and asked
    /// for the next pool connection when this one's PING is answered.
    var dialer: RouteDialer?
    /// The gossip mode this route was dialled with (implicit routes learned from gossip).
    let dialGossipMode: Int
    var handshake: RouteHandshake
    /// Read on the per-message path (forwarding only to registered routes).
    var state: State { handshake.state }
    private(set) var isClosed = false
    var closeReason: CloseReason?

    var remoteInfo = ServerInfo()
    /// What an accepted peer's CONNECT offered (main loop), checked again when a reload changes the
    /// cluster's authorization (Cluster+Reload.swift).
    var offeredCredentials: (user: String, password: String)?
    /// The identity of the certificate an accepted TLS peer presented (main loop, set with
    /// `offeredCredentials`), for `cluster { tls { verify_and_map } }`.
    var offeredCertificate: CertificateIdentity?
    package var remoteID: String { remoteInfo.serverID }
    package var remoteName: String { remoteInfo.serverName }
    /// Where the peer accepts routes: its advertised `ip`, else the address we reached it on + its port.
    var remoteRouteURL: RouteURL?
    /// The peer this connection belongs to while registered. The cluster holds the peer until its last
    /// connection is gone, and a connection clears this when it closes.
    /// Held as `Unmanaged` so the forward path reads it without reference counting; `peer` is the
    /// plain view.
    var peerReference: Unmanaged<RoutePeer>?
    package var peer: RoutePeer? {
        get { peerReference?.takeUnretainedValue() }
        set { peerReference = newValue.map { Unmanaged.passUnretained($0) } }
    }
    /// The slot in the peer's pool (`route_pool_idx`), nil in the no-pool dialect; for /routez.
    package var poolSlot: Int?
    /// Local publishers' messages for interest learned here go out on their own slot (a natsd peer with
    /// several slots); otherwise on this connection, where the peer announced the interest.
    var spreadsByClient = false
    /// The peer's `joinOrder`, its pool's size and loop offset (`RouteSlots`): set when the connection is
    /// placed, read by the serving loop (remote subscriptions copy them).
    var peerKey: UInt64 = 0
    var poolSize = 1
    var peerOffset = 0
    /// The loop serving the route as the main loop knows it: 0 until the main loop hands it over. Main
    /// loop only; it sends and closes through it (`sendFromMain`, `closeFromMain`).
    var servingLoop = 0
    /// Registered, waiting for its output to drain before moving to this loop (main loop).
    var movingTo: Int?
    var handOverTimer: LoopTimer?
    /// Registered and on its serving loop: listed for forwarding and interest (serving loop).
    var isLive = false
    /// The slot its peer hears a local client's interest on (set when placed).
    var interestRule = RouteInterestRule.single

    /// Interest the peer announced on this connection, keyed by `RouteConnection.interestKey`.
    package var remoteSubscriptions: [[UInt8]: Subscription] = [:]

    // Keep-alive. The route's timers capture it unowned, not weak: a weak reference would give the route a
    // refcount side table, and every retain on the forwarding path would take Swift's slow path (review
    // §2 row 9: most of a forwarding node's CPU). `close()` closes every timer (a closed libuv timer
    // never fires) and the cluster holds the route until then; a call through the capture holds a strong
    // reference, so a timer that closes the route finishes safely.
    var pingTimer: LoopTimer?
    var pingsOutstanding = 0
    /// Round-trip time of the last answered PING (nanoseconds, monotonic clock) for /routez `rtt` and
    /// /metrics; 0 until the first PONG.
    package var rttNanoseconds: UInt64 = 0
    /// When the last PING went out (monotonic nanoseconds).
    var rttStartNanoseconds: UInt64 = 0
    var handshakeDeadline: LoopTimer?

    // Statistics for /routez.
    package var counters = MessageCounters()
    package let startedAt: UInt64
    /// Loop milliseconds of the last read (/routez `last_activity` and `idle`): one store per read, as
    /// nats-server's read loop updates a route's `last`.
    package var lastActivity: UInt64

    init(cluster: Cluster, id: UInt64, connection: TCPConnection, dialer: RouteDialer?) {
        self.cluster = cluster
        self.worker = cluster.server.mainWorker
        self.id = id
        self.connection = connection
        self.didSolicit = dialer != nil
        self.isExplicit = dialer?.isExplicit ?? false
        self.dialer = dialer
        self.dialGossipMode = dialer?.gossipMode ?? 0
        self.handshake = RouteHandshake(didSolicit: dialer != nil, localPoolSize: cluster.localPoolSize,
                                        localServerID: cluster.server.serverID, localServerName: cluster.server.serverName)
        self.startedAt = connection.loop.now
        lastActivity = startedAt
        self.remoteHost = connection.remoteHost
        self.remotePort = connection.remotePort
        self.label = "\(connection.remoteHost):\(connection.remotePort) - rid:\(id)"
        let global = cluster.server.accounts.global
        self.lastAccount = .passUnretained(global)
        self.lastMatcher = .passUnretained(global.matcher(onLoop: cluster.server.mainWorker.index))
    }

    var logger: Logger { cluster.server.logger }

    /// Starts the handshake (see RouteHandshake) under the cluster's auth timeout (2 s by default), as
    /// nats-server's auth timer gives an accepted route: a peer that stays silent is closed when it expires.
    func start() {
        connection.delegate = self
        connection.setNoDelay(true)
        if let tls = cluster.server.routeTLS {
            // Routes speak TLS from their first byte (nats-server's createRoute): INFO and CONNECT are
            // encrypted once the handshake completed; the dialing side checks the name it dialled.
            connection.startTLS(context: didSolicit ? tls.dialing : tls.accepting,
                                handshakeTimeoutMilliseconds: tls.timeoutMilliseconds)
            if let dialer, !connection.setTLSPeerName(dialer.url.host) {
                logger.error("\(label) - Route TLS: cannot check the certificate for \(dialer.url.host)")
            }
        }
        perform(handshake.start())
        connection.startReading()
        let deadline = LoopTimer(loop: connection.loop) { [unowned self] in self.handshakeTimedOut() }
        deadline.start(afterMilliseconds: UInt64(max(cluster.clusterOptions.authTimeoutSeconds, 0) * 1000))
        handshakeDeadline = deadline
        logger.debug("\(label) - Route connection created")
    }

    private func handshakeTimedOut() {
        perform(handshake.deadlinePassed())
    }

    /// Carries out what the handshake decided, in order; stops once the connection is closed.
    func perform(_ actions: [RouteHandshake.Action]) {
        for action in actions {
            if isClosed { return }
            switch action {
            case .sendConnect:
                connection.write(cluster.routeConnectLine(for: self))
            case .sendInfo(let slot):
                connection.write(cluster.routeInfoLine(for: self, poolSlot: slot))
            case .refuse(let error, let reason):
                fail(error, reason: reason)
            case .refuseAfterPause(let error, let reason, let log):
                logger.error("\(label) - \(log)")
                failAfterPause(error, reason: reason)
            case .close(let reason, let log):
                if let log { logger.error("\(label) - \(log)") }
                close(reason: reason, flush: false)
            case .closeRouteToSelf:
                logger.debug("\(label) - Detected route to self, ignoring \(connection.remoteHost):\(connection.remotePort)")
                dialer?.stop()
                close(reason: .duplicateRoute, flush: false)
            case .adoptClusterName(let name, let isDynamic):
                cluster.adoptClusterName(name, dynamic: isDynamic)
            case .place(let placement):
                perform(handshake.placed(cluster.place(self, placement)))
            case .registered:
                handshakeDeadline?.close()
                handshakeDeadline = nil
                cluster.routeRegistered(self)
                let home = RouteSlots.loop(ofSlot: poolSlot ?? 0, offset: peerOffset, loops: worker.loopCount)
                if home != worker.index { movingTo = home } else { goLive() }
            case .startPinging:
                // A route that moves starts pinging on its new loop.
                if movingTo == nil { startPinging() }
            case .sendPing:
                send(ControlLines.ping)
            case .dialNextPoolConnection:
                onMainLoop { $0.cluster.growPool(after: $0) }
            }
        }
    }

    func send(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        connection.write(bytes)
    }

    func fail(_ errorText: String?, reason: CloseReason) {
        fail(errorText, reason: reason, logged: errorText.flatMap { Self.sentErrorLog($0, reason: reason) })
    }

    /// Sends `-ERR '<errorText>'` (when given) and closes, logging `logged` first.
    func fail(_ errorText: String?, reason: CloseReason, logged: ClientHandshake.LogLine?) {
        switch logged {
        case .error(let text): logger.error("\(label) - \(text)")
        case .debug(let text): logger.debug("\(label) - \(text)")
        case nil: break
        }
        if let errorText { send(FrameEncoder.errLine(errorText)) }
        close(reason: reason, flush: true)
    }

    /// What nats-server logs for an -ERR it sends a route (its "Route Error" prefix is only for errors it
    /// receives): the text itself at error level (`sendErrAndErr`), except an authorization violation,
    /// logged as `authViolation` does ("authentication error"; a refusal that knows the user names it), an
    /// authentication timeout, at debug level (`sendErrAndDebug`), and a stale connection, whose debug line
    /// is written where it is detected.
    static func sentErrorLog(_ errorText: String, reason: CloseReason) -> ClientHandshake.LogLine? {
        switch reason {
        case .authenticationViolation: .error(RouteHandshake.authenticationErrorLog(user: ""))
        case .authenticationTimeout: .debug(errorText)
        case .staleConnection: nil
        default: .error(errorText)
        }
    }

    /// Refuses a peer after a short pause. nats-server registers a route as soon as it has our INFO and
    /// redials at once when a registered route is closed, so refusing bad credentials immediately makes
    /// it dial thousands of times a second; the pause bounds that to a few a second while keeping the
    /// refused route's life on the dialling side too short to be mistaken for a working one. The refusal was
    /// logged when it was decided.
    func failAfterPause(_ errorText: String, reason: CloseReason) {
        connection.stopReading()
        handshakeDeadline?.close()
        let timer = LoopTimer(loop: connection.loop) { [unowned self] in self.fail(errorText, reason: reason, logged: nil) }
        timer.start(afterMilliseconds: RouteConnection.refusalPauseMilliseconds)
        handshakeDeadline = timer
    }

    static let refusalPauseMilliseconds: UInt64 = 150

    /// Ends the route: drops the peer's interest at once and tells the cluster.
    func close(reason: CloseReason, flush: Bool) {
        guard !isClosed else { return }
        isClosed = true
        let wasRegistered = state == .registered
        handshake.closed()
        closeReason = reason
        pingTimer?.close()
        pingTimer = nil
        handshakeDeadline?.close()
        handshakeDeadline = nil
        handOverTimer?.close()
        handOverTimer = nil
        removeAllRemoteInterest()
        if isLive { goneDown() }
        closeTransport(flush: flush)
        onMainLoop { $0.cluster.routeClosed($0, wasRegistered: wasRegistered) }
    }

    // MARK: - Keep-alive

    /// Routes always ping (no activity suppression): first after ~1 s, then every cluster ping interval.
    func startPinging() {
        let interval = UInt64(max(worker.options.cluster.pingIntervalSeconds, 0.01) * 1000)
        let timer = LoopTimer(loop: connection.loop) { [unowned self] in self.pingTick() }
        timer.start(afterMilliseconds: min(1000, interval), repeatMilliseconds: interval)
        pingTimer = timer
    }

    private func pingTick() {
        guard state == .registered else { return }
        if pingsOutstanding + 1 > worker.options.cluster.pingMax {
            // nats-server counts stale routes in /varz `stale_connections` as well as stale clients.
            worker.statistics.staleConnections += 1
            worker.statistics.staleRoutes += 1
            logger.debug("\(label) - Stale Route Connection - Closing")
            fail("Stale Connection", reason: .staleConnection)
            return
        }
        pingsOutstanding += 1
        rttStartNanoseconds = EventLoop.monotonicNanoseconds
        send(ControlLines.ping)
    }

    // MARK: - Remote interest

    func removeAllRemoteInterest() {
        let all = remoteSubscriptions.values
        remoteSubscriptions.removeAll()
        for subscription in all { subscription.account.interest.remove(subscription) }
    }
}

extension RouteConnection: ProtocolConnection {
    /// A protocol error in the peer's input: an unknown op is logged as nats-server's parser logs it
    /// ("Router parser ERROR, …", `ProtocolComplaint`), the others by their -ERR text (`fail`).
    func parseFailed(_ error: ProtocolError, complaint: @autoclosure () -> String?) {
        if error.complaint == .parserError, let complaint = complaint() {
            fail(error.errorText, reason: error.reason, logged: .error(complaint))
        } else {
            fail(error.errorText, reason: error.reason)
        }
    }

    static var parserKind: ConnectionKind { .route }
    var parserLimits: ParserLimits { cluster.routeParserLimits }
    /// Pending output at which a peer that stopped reading is dropped (its dialer reconnects it).
    var pendingLimit: Int { cluster.routeMaxPending }

    func slowConsumerDetected(pending: Int) {
        logger.info("\(label) - Slow Consumer Detected: route pending \(pending) bytes")
        worker.statistics.slowConsumers += 1
        worker.statistics.slowConsumerRoutes += 1
        close(reason: .slowConsumerPendingBytes, flush: false)
    }
}

extension RouteConnection: TCPConnectionDelegate {
    package func connectionDidRead(_ connection: TCPConnection, bytes: UnsafeRawBufferPointer) -> ReadDisposition {
        guard !isClosed else { return ReadDisposition(consumed: bytes.count, needed: 0) }
        if state == .awaitingConnect, let first = bytes.first, first != UInt8(ascii: "C"), first != UInt8(ascii: "c") {
            fail("Authorization Violation", reason: .authenticationViolation)
            return ReadDisposition(consumed: bytes.count, needed: 0)
        }
        lastActivity = connection.loop.now
        let disposition = dispatchRead(bytes)
        // Registered, and served by another loop from now on: what follows the handshake is read there.
        if movingTo != nil && !isClosed && handOverTimer == nil { beginHandOver() }
        return disposition
    }

    package func connectionDidClose(_ connection: TCPConnection, error: UVError?) {
        if !isClosed && connection.isAwaitingTLSHandshake {
            // Always an error for routes, as nats-server: its cluster port is not for probes.
            logger.error("\(label) - \(TLSHandshakeFailure(connection, closeError: error, isRoute: true).text)")
        }
        if !isClosed { close(reason: error == nil ? .clientClosed : .readError, flush: false) }
        connection.delegate = nil
    }
}
