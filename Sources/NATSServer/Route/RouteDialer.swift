import NATSConfig
import NATSProtocol
import UVLoop

/// Dials one route URL and keeps the peer behind it connected:
/// - the first connection, then the rest of the peer's pool, one more each time the PING a new pool
///   connection sends is answered (nats-server grows its pools the same way, so a peer refusing our
///   credentials never sees more than one connection at a time);
/// - a pool slot that drops, after a random 0–99 ms (the jitter keeps two servers from colliding on
///   every attempt);
/// - the whole peer when its last connection goes: configured (explicit) routes forever, backing off
///   from 1 s to 8 s while the peer stays unreachable; routes learned by gossip (implicit) only
///   `connect_retries` more times.
final class RouteDialer {
    unowned let cluster: Cluster
    let url: RouteURL
    let isExplicit: Bool
    let gossipMode: Int
    /// The server id gossip told us is behind this URL (implicit routes).
    let expectedID: String?
    private var attemptsLeft: Int
    /// Dials in a row that did not end in a registered connection (drives the back-off).
    private var failuresInARow = 0
    static let maximumBackoffMilliseconds: UInt64 = 8000
    private var timer: LoopTimer?
    private var isTimerPending = false
    /// The TCP dial under way, cancelled by `stop()` so that shutdown need not wait for it.
    private var attempt: ConnectAttempt?
    /// Connections from this dialer still in their handshake.
    private var handshakes = 0
    private(set) var isStopped = false
    /// The peer this dialer keeps connected: the one its connections joined, or, for a configured route
    /// the peer dialled first, the peer found listening at `url`. The peer lists this dialer among its
    /// `dialers` and calls `peerLost()` when the cluster drops it, which ends the reference. Not weak: a
    /// weak reference would give the peer a refcount side table, and every retain of the peer on the
    /// forwarding path would take Swift's slow path.
    private var peer: RoutePeer?

    init(cluster: Cluster, url: RouteURL, isExplicit: Bool, gossipMode: Int = 0, expectedID: String? = nil) {
        self.cluster = cluster
        self.url = url
        self.isExplicit = isExplicit
        self.gossipMode = gossipMode
        self.expectedID = expectedID
        self.attemptsLeft = 1 + max(cluster.clusterOptions.connectRetries, 0)
    }

    func start() { dial() }

    func stop() {
        isStopped = true
        timer?.close()
        timer = nil
        isTimerPending = false
        attempt?.cancel()
        attempt = nil
    }

    /// The peer we look after, while the cluster still has it.
    private var livePeer: RoutePeer? {
        guard let peer, cluster.peers[peer.serverID] === peer else { return nil }
        return peer
    }

    private func dial() {
        isTimerPending = false
        guard !isStopped, !cluster.isShuttingDown, attempt == nil else { return }
        if let peer = livePeer {
            // Filling the pool: nothing to do once it is full.
            guard !peer.pool.isFull else { return }
        } else {
            peer = nil
            if !isExplicit {
                guard attemptsLeft > 0 else { return giveUp() }
                attemptsLeft -= 1
            }
            if isExplicit, let existing = cluster.registeredPeer(listeningAt: url) {
                // The peer already has routes with us (it dialled first): look after those instead of
                // dialling duplicates that would have to be closed again.
                existing.attach(self)
                peer = existing
                return
            }
        }
        cluster.server.logger.debug("Trying to connect to route on \(url.host):\(url.port)")
        attempt = TCPConnection.connect(loop: cluster.server.loop, host: url.host, port: url.port, timeoutMilliseconds: 2000) {
            [weak self] result in
            guard let self else { return }
            self.attempt = nil
            switch result {
            case .success(let connection):
                if self.isStopped || self.cluster.isShuttingDown {
                    connection.close()
                    return
                }
                self.handshakes += 1
                self.cluster.solicitedRouteConnected(connection, dialer: self)
            case .failure(let error):
                if error == .cancelled { return }
                self.cluster.server.logger.debug("Error trying to connect to route (\(self.url.host):\(self.url.port)): \(error)")
                self.retry()
            }
        }
    }

    /// One of this dialer's connections joined `peer`'s pool.
    func connectionRegistered(to peer: RoutePeer) {
        handshakes = max(handshakes - 1, 0)
        self.peer = peer
        failuresInARow = 0
    }

    /// One of this dialer's connections ended before joining a pool (refused, a duplicate, an extra one
    /// for a full pool, a failed handshake).
    func attemptEnded() {
        handshakes = max(handshakes - 1, 0)
        retry()
    }

    /// A pool connection registered by this dialer had its PING answered: dial the next slot now.
    func dialPoolConnection() {
        dial()
    }

    /// A connection of the peer's pool dropped while others remain: refill its slot.
    func poolConnectionLost() {
        guard attempt == nil, handshakes == 0, !isTimerPending else { return }
        schedule(afterMilliseconds: jitter())
    }

    /// The peer's last connection closed.
    func peerLost() {
        peer = nil
        retry()
    }

    private func retry() {
        guard !isStopped, !cluster.isShuttingDown else { return }
        failuresInARow += 1
        if let peer = livePeer {
            // An extra connection the full pool did not take needs no retry.
            if !peer.pool.isFull && attempt == nil && !isTimerPending { schedule(afterMilliseconds: backoff() + jitter()) }
            return
        }
        peer = nil
        if !isExplicit && attemptsLeft <= 0 { return giveUp() }
        if let expectedID, cluster.hasRoute(to: expectedID) { return giveUp() }
        if !isTimerPending { schedule(afterMilliseconds: backoff() + jitter()) }
    }

    /// Explicit routes wait 1 s, 2 s, 4 s… up to 8 s; implicit ones retry at once (with the jitter).
    private func backoff() -> UInt64 {
        guard isExplicit else { return 0 }
        return min(1000 << UInt64(min(max(failuresInARow - 1, 0), 4)), RouteDialer.maximumBackoffMilliseconds)
    }

    private func jitter() -> UInt64 {
        var random = SystemRandomNumberGenerator()
        return UInt64(random.next() % 100)
    }

    private func schedule(afterMilliseconds delay: UInt64) {
        let timer = self.timer ?? LoopTimer(loop: cluster.server.loop) { [weak self] in self?.dial() }
        self.timer = timer
        isTimerPending = true
        timer.start(afterMilliseconds: delay)
    }

    private func giveUp() {
        if !isExplicit {
            stop()
            cluster.implicitDialerFinished(self)
        }
    }
}
