import NATSConfig
import NATSJSON
import Logging
import NATSProtocol
import UVLoop

/// A connection to another server of the cluster, in the no-pool route dialect (one connection per
/// peer, every account named on the wire). It shares the event loop, parser and outbound queue with
/// client connections; only the ops it accepts and what they mean differ.
package final class RouteConnection {
    enum State {
        /// Accepted: waiting for the peer's CONNECT (it must be the first op).
        case awaitingConnect
        /// CONNECT done (or sent, when soliciting): waiting for the peer's INFO.
        case awaitingInfo
        /// Handshake complete and registered as the route to `remoteID`.
        case registered
        case closed
    }

    /// The cluster outlives every route; unowned(unsafe) keeps refcounting off the per-message path.
    unowned(unsafe) let cluster: Cluster
    /// The loop serving this route (the main loop's worker); it outlives the connection.
    unowned(unsafe) let worker: LoopWorker
    package let id: UInt64
    package let connection: TCPConnection
    package let didSolicit: Bool
    /// Configured route (retried forever) rather than learned by gossip.
    package var isExplicit: Bool
    /// Redial the peer when this route drops (its own dialer, plus any inherited from a closed duplicate).
    var dialers: [RouteDialer] = []
    /// The gossip mode this route was dialled with (implicit routes learned from gossip).
    var dialGossipMode: Int
    var state: State
    var closeReason: CloseReason?

    var remoteInfo = ServerInfo()
    package var remoteID: String { remoteInfo.serverID }
    package var remoteName: String { remoteInfo.serverName }
    /// Where the peer accepts routes: its advertised `ip`, else the address we reached it on + its port.
    var remoteRouteURL: RouteURL?
    /// The route's CONNECT has been accepted: on an accepted route, by us (set at registration); on a
    /// route we dialled, by the peer (set when it sends an INFO of its own after the handshake). Only
    /// then are other members named on it (natsd peer lists, issue 6 point 5).
    var connectAccepted = false

    /// Interest the peer announced, keyed by `subject` or `subject queue`.
    package var remoteSubscriptions: [[UInt8]: Subscription] = [:]

    // Keep-alive.
    var pingTimer: LoopTimer?
    var pingsOutstanding = 0
    var handshakeDeadline: LoopTimer?

    // Per-publish forwarding scratch: set while one message is being routed, cleared after it is sent.
    var isForwardTarget = false
    var forwardQueues = ContiguousArray<ByteSlice>()

    // Statistics for /routez.
    package var inMessages = 0
    package var inBytes = 0
    package var outMessages = 0
    package var outBytes = 0
    package let startedAt: UInt64

    init(cluster: Cluster, id: UInt64, connection: TCPConnection, didSolicit: Bool, isExplicit: Bool, gossipMode: Int) {
        self.cluster = cluster
        self.worker = cluster.server.mainWorker
        self.id = id
        self.connection = connection
        self.didSolicit = didSolicit
        self.isExplicit = isExplicit
        self.dialGossipMode = gossipMode
        self.state = didSolicit ? .awaitingInfo : .awaitingConnect
        self.startedAt = connection.loop.now
        forwardQueues.reserveCapacity(8)
    }

    var logger: Logger { cluster.server.logger }
    var label: String { "\(connection.remoteHost):\(connection.remotePort) - rid:\(id)" }

    /// Starts the handshake: an acceptor sends its INFO at once; a solicitor sends CONNECT then INFO.
    func start() {
        connection.delegate = self
        connection.setNoDelay(true)
        if didSolicit {
            connection.write(cluster.routeConnectLine(for: self))
        }
        connection.write(cluster.routeInfoLine(for: self))
        connection.startReading()
        // The whole handshake gets the cluster's auth timeout (2 s by default), as nats-server's auth
        // timer gives an accepted route: a peer that stays silent is closed right when it expires.
        // The route's timers hold it unowned, never weak: a weak reference gives an object a side table,
        // which sends every retain and release of it (each forward) down the slow path. close() closes
        // every timer before the route can go away.
        let deadline = LoopTimer(loop: connection.loop) { [unowned self] in self.handshakeTimedOut() }
        deadline.start(afterMilliseconds: UInt64(max(cluster.options.cluster.authTimeoutSeconds, 0) * 1000))
        handshakeDeadline = deadline
        logger.debug("\(label) - Route connection created")
    }

    private func handshakeTimedOut() {
        guard state != .registered, state != .closed else { return }
        if state == .awaitingConnect {
            fail("Authentication Timeout", reason: .authenticationTimeout)
        } else {
            close(reason: .protocolViolation, flush: false)
        }
    }

    func send(_ bytes: [UInt8]) {
        guard state != .closed else { return }
        connection.write(bytes)
    }

    func fail(_ errorText: String?, reason: CloseReason) {
        if let errorText {
            logger.error("\(label) - Route Error '\(errorText)'")
            send(FrameEncoder.errLine(errorText))
        }
        close(reason: reason, flush: true)
    }

    /// Refuses a peer after a short pause. nats-server registers a route as soon as it has our INFO and
    /// redials at once when a registered route is closed, so refusing bad credentials immediately makes
    /// it dial thousands of times a second; the pause bounds that to a few a second while keeping the
    /// refused route's life on the dialling side too short to be mistaken for a working one.
    func failAfterPause(_ errorText: String, reason: CloseReason) {
        connection.stopReading()
        handshakeDeadline?.close()
        let timer = LoopTimer(loop: connection.loop) { [unowned self] in self.fail(errorText, reason: reason) }
        timer.start(afterMilliseconds: RouteConnection.refusalPauseMilliseconds)
        handshakeDeadline = timer
    }

    static let refusalPauseMilliseconds: UInt64 = 150

    /// Ends the route: drops the peer's interest at once and tells the cluster.
    func close(reason: CloseReason, flush: Bool) {
        guard state != .closed else { return }
        let wasRegistered = state == .registered
        state = .closed
        closeReason = reason
        pingTimer?.close()
        pingTimer = nil
        handshakeDeadline?.close()
        handshakeDeadline = nil
        removeAllRemoteInterest()
        if flush {
            // A connection closing after its last output gets at most the write deadline to deliver it.
            connection.closeAfterFlush(deadlineMilliseconds: worker.writeDeadlineMilliseconds)
        } else {
            connection.close()
        }
        cluster.routeClosed(self, wasRegistered: wasRegistered)
    }

    // MARK: - Keep-alive

    /// Routes always ping (no activity suppression): first after ~1 s, then every cluster ping interval.
    func startPinging() {
        let interval = UInt64(max(cluster.options.cluster.pingIntervalSeconds, 0.01) * 1000)
        let timer = LoopTimer(loop: connection.loop) { [unowned self] in self.pingTick() }
        timer.start(afterMilliseconds: min(1000, interval), repeatMilliseconds: interval)
        pingTimer = timer
    }

    private func pingTick() {
        guard state == .registered else { return }
        if pingsOutstanding + 1 > cluster.options.cluster.pingMax {
            logger.debug("\(label) - Stale Route Connection - Closing")
            fail("Stale Connection", reason: .staleConnection)
            return
        }
        pingsOutstanding += 1
        send(ControlLines.ping)
    }

    // MARK: - Remote interest

    func removeAllRemoteInterest() {
        let all = remoteSubscriptions.values
        remoteSubscriptions.removeAll()
        for subscription in all {
            subscription.isRemoved = true
            cluster.server.sublist.remove(subscription)
        }
    }
}

extension RouteConnection: TCPConnectionDelegate {
    package func connectionDidRead(_ connection: TCPConnection, bytes: UnsafeRawBufferPointer) -> ReadDisposition {
        guard state != .closed else { return ReadDisposition(consumed: bytes.count, needed: 0) }
        if state == .awaitingConnect, let first = bytes.first, first != UInt8(ascii: "C"), first != UInt8(ascii: "c") {
            fail("Authorization Violation", reason: .authenticationViolation)
            return ReadDisposition(consumed: bytes.count, needed: 0)
        }
        let result = worker.processingInput(from: connection) {
            ProtocolParser.parse(bytes, kind: .route, limits: cluster.routeParserLimits, handler: self)
        }
        if let error = result.error {
            if state != .closed { fail(error.errorText, reason: error.reason) }
            return ReadDisposition(consumed: bytes.count, needed: 0)
        }
        if state == .closed { return ReadDisposition(consumed: bytes.count, needed: 0) }
        return ReadDisposition(consumed: result.consumed, needed: result.needed)
    }

    package func connectionDidClose(_ connection: TCPConnection, error: UVError?) {
        if state != .closed { close(reason: error == nil ? .clientClosed : .readError, flush: false) }
        connection.delegate = nil
    }
}
