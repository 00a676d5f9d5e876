import NATSConfig
import NATSProtocol
import UVLoop

/// Dials one route URL and dials it again when the route it produced goes away: configured (explicit)
/// routes forever, backing off from 1 s to 8 s while the peer stays unreachable; routes learned by
/// gossip (implicit) only `connect_retries` more times. A random 0–99 ms jitter keeps two servers from
/// colliding on every attempt.
final class RouteDialer {
    unowned let cluster: Cluster
    let url: RouteURL
    let isExplicit: Bool
    let gossipMode: Int
    /// The server id gossip told us is behind this URL (implicit routes).
    let expectedID: String?
    private var attemptsLeft: Int
    /// Dials in a row that did not end in a registered route (drives the explicit back-off).
    private var failuresInARow = 0
    static let maximumBackoffMilliseconds: UInt64 = 8000
    private var timer: LoopTimer?
    /// The TCP dial under way, cancelled by `stop()` so that shutdown need not wait for it.
    private var attempt: ConnectAttempt?
    private(set) var isStopped = false
    /// True while a TCP dial or a handshake from this dialer is under way, or its route is up.
    private(set) var isBusy = false

    init(cluster: Cluster, url: RouteURL, isExplicit: Bool, gossipMode: Int = 0, expectedID: String? = nil) {
        self.cluster = cluster
        self.url = url
        self.isExplicit = isExplicit
        self.gossipMode = gossipMode
        self.expectedID = expectedID
        self.attemptsLeft = 1 + max(cluster.options.cluster.connectRetries, 0)
    }

    func start() { dial() }

    func stop() {
        isStopped = true
        timer?.close()
        timer = nil
        attempt?.cancel()
        attempt = nil
    }

    private func dial() {
        guard !isStopped, !cluster.isShuttingDown else { return }
        if !isExplicit {
            guard attemptsLeft > 0 else { return giveUp() }
            attemptsLeft -= 1
        }
        if isExplicit, let route = cluster.registeredRoute(listeningAt: url) {
            // The peer already has a route with us (it dialled first): watch that one instead of
            // dialling a duplicate that would have to be closed again.
            route.isExplicit = true
            route.dialers.append(self)
            isBusy = true
            return
        }
        isBusy = true
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
                self.cluster.solicitedRouteConnected(connection, dialer: self)
            case .failure(let error):
                if error == .cancelled { return }
                self.cluster.server.logger.debug("Error trying to connect to route (\(self.url.host):\(self.url.port)): \(error)")
                self.routeEnded()
            }
        }
    }

    /// The handshake completed: the next outage starts backing off from 1 s again.
    func routeRegistered() { failuresInARow = 0 }

    /// The connection from this dialer (or the route it was handed to) is gone.
    func routeEnded() {
        isBusy = false
        guard !isStopped, !cluster.isShuttingDown else { return }
        if !isExplicit && attemptsLeft <= 0 { return giveUp() }
        if let expectedID, cluster.hasRoute(to: expectedID) { return giveUp() }
        var random = SystemRandomNumberGenerator()
        let jitter = UInt64(random.next() % 100)
        failuresInARow += 1
        let backoff = isExplicit ? min(1000 << UInt64(min(failuresInARow - 1, 4)), RouteDialer.maximumBackoffMilliseconds) : 0
        let delay = backoff + jitter
        let timer = self.timer ?? LoopTimer(loop: cluster.server.loop) { [weak self] in self?.dial() }
        self.timer = timer
        timer.start(afterMilliseconds: delay)
    }

    private func giveUp() {
        isBusy = false
        if !isExplicit {
            stop()
            cluster.implicitDialerFinished(self)
        }
    }
}
