import NATSConfig
import NATSProtocol
import UVLoop

extension LoopWorker {
    /// One timer for every connection's deadlines instead of a libuv timer per connection, so an idle
    /// connection costs no handle. 100 ms resolution is far finer than any NATS deadline.
    static let housekeepingIntervalMilliseconds: UInt64 = 100

    func startHousekeeping() {
        let timer = LoopTimer(loop: loop) { [unowned self] in self.housekeeping() }
        timer.start(afterMilliseconds: LoopWorker.housekeepingIntervalMilliseconds,
                    repeatMilliseconds: LoopWorker.housekeepingIntervalMilliseconds)
        housekeepingTimer = timer
    }

    func housekeeping() {
        let logger = server.logger
        let now = loop.now
        var expired: [(ClientConnection, Deadline)] = []
        for client in clients.values where !client.isClosed {
            if let rejection = client.handshake.deadlinePassed(now: now) {
                expired.append((client, .authentication(rejection)))
            } else if writeDeadlinePassed(client, now: now) {
                expired.append((client, .write))
            } else if now >= client.nextPingAt {
                expired.append((client, .ping))
            }
        }
        if index == 0 && now >= nextResponseSweep {
            nextResponseSweep = now + 1000
            for account in accounts.all { account.sharing(onLoop: index).responses?.sweep(now: now) }
        }
        // Acting may close clients, which changes `clients`: collect first, act after.
        for (client, deadline) in expired where !client.isClosed {
            switch deadline {
            case .authentication(let rejection):
                client.reject(rejection)
            case .write:
                statistics.slowConsumers += 1
                logger.info("\(client.label) - Slow Consumer Detected: WriteDeadline of \(options.writeDeadlineSeconds)s Exceeded")
                client.close(reason: .slowConsumerWriteDeadline, flush: false)
            case .ping:
                pingTick(client, now: now)
            }
        }
    }

    enum Deadline {
        case authentication(ClientHandshake.Rejection)
        case write, ping
    }

    /// nats-server's ping timer: a PING is skipped while the client sent messages, (un)subscriptions or
    /// a PING within the interval (`lastInput`; unless its round-trip time is still unknown); sending one
    /// more than ping_max unanswered PINGs means the connection is stale.
    private func pingTick(_ client: ClientConnection, now: UInt64) {
        let interval = pingIntervalMilliseconds
        client.nextPingAt = now + interval
        if now - client.lastInput < interval && client.hasAnsweredPing { return }
        if client.pingsOutstanding + 1 > options.pingMax {
            statistics.staleConnections += 1
            server.logger.debug("\(client.label) - Stale Client Connection - Closing")
            client.fail("Stale Connection", reason: .staleConnection)
            return
        }
        client.pingsOutstanding += 1
        client.rttStartNanoseconds = EventLoop.monotonicNanoseconds
        client.send(ControlLines.ping)
    }
}

extension LoopWorker {
    /// This loop's ping_interval (its copy of the options, changed by a reload).
    var pingIntervalMilliseconds: UInt64 { UInt64(max(options.pingIntervalSeconds, 0.001) * 1000) }

    /// The first PING goes out min(ping_interval, 2 s) after the client's CONNECT, as nats-server's
    /// (`setFirstPingTimer` from `processConnect`); before CONNECT the whole ping_interval applies.
    func firstPingDelayMilliseconds() -> UInt64 {
        let interval = pingIntervalMilliseconds
        return min(interval, 2000)
    }
}
