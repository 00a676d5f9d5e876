import NATSProtocol
import UVLoop

/// Lame duck mode (SIGUSR2, `natsd --signal ldm`), as nats-server's `lameDuckMode` (server/server.go):
/// the client listener closes, peers and clients are told with an INFO carrying `"ldm":true`, and after
/// `lame_duck_grace_period` the clients are closed one by one, spread over the rest of
/// `lame_duck_duration` (`LameDuckSchedule`), so they reconnect to the other servers without a storm. Then
/// the server shuts down and the process exits 0. Routes, the route listener and monitoring stay up until
/// that shutdown, as in nats-server.
///
/// Signals meanwhile, as nats-server: another SIGUSR2 does nothing, SIGTERM does nothing (the graceful
/// shutdown is already under way), SIGINT shuts down at once (`handleSignal`).
final class LameDuckMode {
    /// Every client to close, as (loop index, client id), oldest first; `next` is the next to close.
    let clients: [(loop: Int, clientID: UInt64)]
    var next = 0
    let schedule: LameDuckSchedule
    /// Fires at the end of the grace period, then after each pause between closes (main loop).
    let timer: LoopTimer

    init(clients: [(loop: Int, clientID: UInt64)], schedule: LameDuckSchedule, timer: LoopTimer) {
        self.clients = clients
        self.schedule = schedule
        self.timer = timer
    }
}

extension Server {
    /// Whether lame duck mode has begun (it ends with the process).
    var isInLameDuckMode: Bool { lameDuck != nil }

    /// Enters lame duck mode (main loop); does nothing while shutting down, when already in it, or
    /// without a client listener.
    func enterLameDuckMode() {
        guard !isShuttingDown, lameDuck == nil, let listener = clientListener else { return }
        logger.info("Entering lame duck mode, stop accepting new clients")
        listener.close()
        clientListener = nil
        // The listener is closed, and a client accepted before was posted to its loop before this task:
        // every answer lists all the clients that loop will ever have.
        let clientsPerLoop = onEveryLoop { worker in (worker.index, Array(worker.clients.keys)) }
        let clients = clientsPerLoop.flatMap { loopIndex, ids in ids.map { (loop: loopIndex, clientID: $0) } }
            .sorted { $0.clientID < $1.clientID }
        let schedule = LameDuckSchedule(durationSeconds: options.lameDuckDurationSeconds,
                                        gracePeriodSeconds: options.lameDuckGracePeriodSeconds,
                                        clients: clients.count)
        let state = LameDuckMode(clients: clients, schedule: schedule,
                                 timer: LoopTimer(loop: loop) { [unowned self] in self.closeNextLameDuckClients() })
        lameDuck = state
        // No one to wait for: nats-server shuts down at once, telling no one.
        guard !clients.isEmpty else { return shutdown() }
        cluster.announceLameDuckMode()
        // From now on the INFO clients get lists only the other servers (`clientConnectURLs`).
        refreshClientInfo()
        for worker in workers {
            worker.post { worker.sendLameDuckInfo() }
        }
        state.timer.start(afterMilliseconds: Server.milliseconds(options.lameDuckGracePeriodSeconds))
    }

    /// The grace period or a pause is over: closes the next client (or batch), then waits the next pause;
    /// shuts down once the last client is closed.
    private func closeNextLameDuckClients() {
        guard let state = lameDuck, !isShuttingDown else { return }
        if state.next == 0 { logger.info("Closing existing clients") }
        while state.next < state.clients.count {
            let index = state.next
            let (loopIndex, clientID) = state.clients[index]
            state.next += 1
            let worker = workers[loopIndex]
            guard state.next < state.clients.count else {
                // The shutdown follows the last close, as in nats-server, whose log shows that client
                // closed before "Initiating Shutdown...": back on this loop once its own loop closed it.
                let main = mainWorker
                return worker.post { [unowned self] in
                    worker.clients[clientID]?.close(reason: .serverShutdown, flush: true)
                    main.post { self.shutdown() }
                }
            }
            // A client that left meanwhile is simply not there any more.
            worker.post { worker.clients[clientID]?.close(reason: .serverShutdown, flush: true) }
            if let pause = state.schedule.pause(afterClose: index, random: mainWorker.random.next()) {
                return state.timer.start(afterMilliseconds: pause)
            }
        }
        shutdown()
    }

    /// Stops lame duck mode's timer for good (shutdown, whatever started it).
    func stopLameDuckTimer() {
        lameDuck?.timer.close()
    }

    private static func milliseconds(_ seconds: Double) -> UInt64 {
        UInt64(max(0, (seconds * 1000).rounded()))
    }
}

extension LoopWorker {
    /// Sends this loop's clients the lame duck INFO (`"ldm":true`), to those that take async INFOs, as
    /// nats-server's `sendLDMToClients`.
    func sendLameDuckInfo() {
        assertOnLoop()
        for client in clients.values where client.takesAsyncInfo {
            client.send(server.clientInfoLine(for: client, lameDuck: true))
        }
    }
}

extension Cluster {
    /// Tells every peer, on one connection each, that this server is in lame duck mode (nats-server's
    /// `sendLDMToRoutes`): the route INFO with `"ldm":true`. A peer then stops advertising this server's
    /// client URLs to its clients.
    func announceLameDuckMode() {
        var info = routeInfo()
        info.nonce = ""
        info.ldm = true
        let line = info.gossipLine()
        for peer in peers.values {
            peer.primary?.sendFromMain(line)
        }
    }
}
