import NATSProtocol
import UVLoop

/// Routes spread over loops (issue 7 point 5). A route's handshake runs on the main loop, which owns the
/// cluster (peers, pools, dialers, gossip). Once registered, a connection whose pool slot belongs to
/// another loop (`RouteSlots`) moves there: reading stops right after the INFO that registered it, the
/// main loop waits until everything queued for it is written, then hands the socket and the unread bytes
/// to that loop, which serves the route from then on (RS+/RS-, RMSG, PING). So every byte after the
/// handshake, remote interest included, is read on the serving loop: remote subscriptions name it.
///
/// From then on the two loops talk only through inboxes: the serving loop posts what concerns the cluster
/// to the main loop (`onMainLoop`: a close, gossip INFO, growing the pool); the main loop posts what it
/// sends or closes (`sendFromMain`, `closeFromMain`). Posts keep their order, and a post made after the
/// hand-over runs after the route was adopted.
extension RouteConnection {
    /// Longest wait for a registered route's queued output to drain before it moves (milliseconds); a
    /// peer that reads nothing for that long is dropped, its dialer redials.
    static let handOverTimeoutMilliseconds: UInt64 = 10_000

    /// Runs `body` with this route on the main loop: at once when this loop is the main loop, else
    /// through its inbox (the closure holds the route until it ran). Called on the serving loop.
    func onMainLoop(_ body: @escaping (RouteConnection) -> Void) {
        if worker.index == 0 {
            body(self)
        } else {
            cluster.server.mainWorker.post { [self] in body(self) }
        }
    }

    /// Queues `bytes` for the peer from the main loop, wherever the route is served.
    func sendFromMain(_ bytes: [UInt8]) {
        if servingLoop == 0 {
            send(bytes)
        } else {
            cluster.server.workers[servingLoop].post { [self] in send(bytes) }
        }
    }

    /// Refuses the route with `-ERR '<errorText>'` from the main loop, wherever it is served, logging `logged`.
    func failFromMain(_ errorText: String, reason: CloseReason, logged: ClientHandshake.LogLine?) {
        if servingLoop == 0 {
            fail(errorText, reason: reason, logged: logged)
        } else {
            cluster.server.workers[servingLoop].post { [self] in fail(errorText, reason: reason, logged: logged) }
        }
    }

    /// Closes the route from the main loop, wherever it is served.
    func closeFromMain(reason: CloseReason, flush: Bool) {
        if servingLoop == 0 {
            close(reason: reason, flush: flush)
        } else {
            cluster.server.workers[servingLoop].post { [self] in close(reason: reason, flush: flush) }
        }
    }

    /// Called after the read that registered the route (main loop): stops reading and waits, a
    /// millisecond at a time, for the queued output (INFO, PING, gossip) to be written.
    func beginHandOver() {
        connection.stopReading()
        let startedAt = connection.loop.now
        let timer = LoopTimer(loop: connection.loop) { [unowned self] in self.handOverWhenIdle(startedAt: startedAt) }
        timer.start(afterMilliseconds: 0, repeatMilliseconds: 1)
        handOverTimer = timer
    }

    private func handOverWhenIdle(startedAt: UInt64) {
        guard !isClosed, let destination = movingTo else { return }
        guard connection.isOutputIdle else {
            if connection.loop.now &- startedAt > RouteConnection.handOverTimeoutMilliseconds {
                logger.debug("\(label) - Route output did not drain, closing")
                close(reason: .slowConsumerWriteDeadline, flush: false)
            }
            return
        }
        handOverTimer?.close()
        handOverTimer = nil
        // A TLS session moves with its socket; a route that cannot take it along must not go on in the clear.
        let hadTLS = connection.isTLS
        let session = connection.takeTLSSession()
        guard !hadTLS || session != nil, let (descriptor, input) = connection.detachSocketKeepingInput() else {
            close(reason: .readError, flush: false)
            return
        }
        let target = cluster.server.workers[destination]
        movingTo = nil
        servingLoop = destination
        let moved = target.inbox.post(.task(LoopTask { [self] in
            adopt(socket: descriptor, input: input, tls: session, on: target)
        }))
        if !moved {
            // That loop is shutting down.
            TCPConnection.closeDetachedSocket(descriptor)
            servingLoop = 0
            close(reason: .serverShutdown, flush: false)
        }
    }

    /// Serves the route on `target` (its loop): a handle for the socket, then the bytes that followed
    /// the registering INFO.
    private func adopt(socket descriptor: Int32, input: [UInt8], tls: TLSSession?, on target: LoopWorker) {
        worker = target
        bind(lastAccount.takeUnretainedValue())  // the account's matcher of the new loop
        guard !isClosed else { return TCPConnection.closeDetachedSocket(descriptor) }
        let moved: TCPConnection
        do {
            moved = try TCPConnection(loop: target.loop, socket: descriptor)
        } catch {
            logger.error("\(label) - Route could not move to loop \(target.index): \(error)")
            close(reason: .readError, flush: false)
            return
        }
        connection = moved
        if let tls { moved.adoptTLSSession(tls) }
        moved.delegate = self
        moved.setNoDelay(true)
        logger.trace("\(label) - Route served by loop \(target.index)")
        goLive()
        startPinging()
        moved.startReading(replaying: input)
    }

    /// The route is registered and on its serving loop: messages may be forwarded on it, and it gets the
    /// local interest its slot carries.
    func goLive() {
        isLive = true
        worker.hostRoute(self)
        cluster.routeWentLive(self, on: worker)
    }

    /// The live route closed (on its serving loop).
    func goneDown() {
        isLive = false
        worker.unhostRoute(self)
        cluster.routeWentDown(self)
    }
}
