import NATSAuth
import NATSConfig
import NATSJSON
import NATSLogging
import NATSProtocol
import UVLoop

/// What each op means on a route.
extension RouteConnection: ProtocolHandler {
    package func handleConnect(json: ByteSlice) -> Bool {
        if worker.isTracing { cluster.server.traceIn(label, "CONNECT \(TraceRedaction.connect(json.string))") }
        guard state == .awaitingConnect else { return true }
        guard let options = ConnectOptions.decode(json) else {
            close(reason: .protocolViolation, flush: true)
            return false
        }
        offeredCredentials = (options.user, options.pass)
        // Kept for a reload that checks accepted routes again (`cluster { tls { verify_and_map } }`).
        offeredCertificate = connection.tlsPeerCertificate.map(CertificateIdentity.init)
        perform(handshake.connectReceived(options, cluster: cluster.handshakeName) { [offeredCertificate] user, pass in
            cluster.authorizeRoute(user: user, pass: pass) { offeredCertificate }
        })
        return !isClosed && state != .closed
    }

    package func handleInfo(json: ByteSlice) -> Bool {
        if worker.isTracing { cluster.server.traceIn(label, "INFO \(json)") }
        guard let info = ServerInfo.decode(json) else {
            close(reason: .protocolViolation, flush: true)
            return false
        }
        switch state {
        case .awaitingConnect, .awaitingInfo:
            if state == .awaitingInfo {
                remoteInfo = info
                remoteRouteURL = cluster.routeURL(of: info, reachedAt: connection.remoteHost)
            }
            perform(handshake.infoReceived(info, cluster: cluster.handshakeName))
            // A route that moves to another loop stops here: the rest of the read is handled there.
            return state == .registered && movingTo == nil
        case .registered:
            onMainLoop { $0.cluster.processAsyncInfo(info, on: $0) }
            return !isClosed
        case .awaitingPlacement, .closed:
            return false
        }
    }

    package func handlePing() -> Bool {
        if worker.isTracing { cluster.server.traceIn(label, "PING") }
        send(ControlLines.pong)
        return true
    }

    package func handlePong() -> Bool {
        if worker.isTracing { cluster.server.traceIn(label, "PONG") }
        if pingsOutstanding > 0 && rttStartNanoseconds != 0 {
            rttNanoseconds = max(EventLoop.monotonicNanoseconds &- rttStartNanoseconds, 1)
        }
        pingsOutstanding = 0
        perform(handshake.pongReceived())
        return !isClosed
    }

    package func handleOK() -> Bool { true }

    /// Any -ERR from a peer is logged and ends the route, as nats-server's `processErr`: "Route Error
    /// <argument as sent>" at error level (a refused CONNECT shows up so on the dialling side).
    package func handleErr(message: ByteSlice) -> Bool {
        logger.error("\(label) - Route Error \(message.string)")
        close(reason: .parseError, flush: false)
        return false
    }

    package func handleRouteSub(account: ByteSlice, subject: ByteSlice, queue: ByteSlice, weight: Int) -> Bool {
        if worker.isTracing {
            cluster.server.traceIn(label, "RS+ \(account) \(subject)" + (queue.isEmpty ? "" : " \(queue) \(weight)"))
        }
        guard state == .registered else { return true }
        guard let bound = resolveAccount(account) else {
            logger.debug("\(label) - Ignoring interest of unknown account '\(account.string)'")
            return true
        }
        let key = RouteConnection.interestKey(account: bound, subject: subject, queue: queue)
        if let existing = remoteSubscriptions[key] {
            if existing.queue != nil { existing.weight = max(weight, 1) }
            return true
        }
        var filtersExport = false
        if let permissions = worker.routePermissions {
            guard let verdict = acceptsExport(subject, permissions) else { return true }
            filtersExport = verdict
        }
        let subscription = Subscription(route: self, account: bound, subject: subject.array, queue: queue.isEmpty ? nil : queue.array,
                                        weight: weight, filtersExport: filtersExport)
        guard bound.interest.add(subscription) else {
            logger.debug("\(label) - Ignoring invalid remote subscription '\(subject.string)'")
            return true
        }
        remoteSubscriptions[key] = subscription
        return true
    }

    package func handleRouteUnsub(account: ByteSlice, subject: ByteSlice, queue: ByteSlice) -> Bool {
        if worker.isTracing { cluster.server.traceIn(label, "RS- \(account) \(subject)" + (queue.isEmpty ? "" : " \(queue)")) }
        guard state == .registered, let bound = resolveAccount(account) else { return true }
        if let subscription = remoteSubscriptions.removeValue(forKey: RouteConnection.interestKey(account: bound, subject: subject, queue: queue)) {
            bound.interest.remove(subscription)
        }
        return true
    }

    package func handleRoutedMessage(_ message: RoutedMessage) -> Bool {
        if worker.isTracing { traceRoutedMessage(message) }
        guard state == .registered else { return true }
        counters.inMessages &+= 1
        counters.inBytes &+= message.payload.count
        worker.statistics.inMessages &+= 1
        worker.statistics.inBytes &+= message.payload.count
        guard bindAccount(message.account) else { return true }
        lastMatcher._withUnsafeGuaranteedRef { worker.deliverRouted(message, matcher: $0) }
        return !isClosed
    }

    /// Kept out of line so the per-message `handleRoutedMessage` stays small.
    @inline(never)
    private func traceRoutedMessage(_ message: RoutedMessage) {
        let queues = message.queues.map(\.string).joined(separator: " ")
        cluster.server.traceIn(label, (message.headerSize >= 0 ? "HMSG " : "RMSG ") + "\(message.account) "
            + Server.messageArguments(message.subject, message.reply, headerSize: message.headerSize, size: message.payload.count)
            + (queues.isEmpty ? "" : " [\(queues)]"))
        cluster.server.tracePayload(label, message.payload, limit: worker.options.maxTracedMessageLength)
    }

    // Client ops never reach a route handler: the parser rejects them for kind .route.
    package func handlePub(subject: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) -> Bool { false }
    package func handleSub(subject: ByteSlice, queue: ByteSlice, sid: ByteSlice) -> Bool { false }
    package func handleUnsub(sid: ByteSlice, max: Int) -> Bool { false }
}

extension RouteConnection {
    /// The account a route line names: the last one again (one comparison), else looked up; nil for an
    /// account this server does not have (its interest is ignored and its messages dropped, as nats-server
    /// does). An empty name is `$G` (lines of the no-account form).
    @inline(__always)
    func resolveAccount(_ name: ByteSlice) -> Account? {
        bindAccount(name) ? lastAccount.takeUnretainedValue() : nil
    }

    /// Makes the account `name` names the last one (`lastAccount`, `lastMatcher`); false when unknown.
    /// Per routed message: one byte comparison with the last account, no reference counting.
    @inline(__always)
    func bindAccount(_ name: ByteSlice) -> Bool {
        if lastAccount._withUnsafeGuaranteedRef({ $0.isNamed(name) }) { return true }
        return rebindAccount(name)
    }

    @inline(never)
    private func rebindAccount(_ name: ByteSlice) -> Bool {
        guard let found = worker.accounts.account(named: name) else { return false }
        bind(found)
        return true
    }

    /// Makes `account` the last one, with its matcher on the route's current loop (again after a move).
    func bind(_ account: Account) {
        lastAccount = .passUnretained(account)
        lastMatcher = .passUnretained(account.matcher(onLoop: worker.index))
    }

    /// How `remoteSubscriptions` is keyed: `account subject` or `account subject queue` (no space occurs
    /// in a subject or queue name; an account name with one would only make keys longer, never collide
    /// with another account's, as the subject starts after the first space of the account's own spelling).
    static func interestKey(account: Account, subject: ByteSlice, queue: ByteSlice) -> [UInt8] {
        account.interest.account + [0] + InterestIndex.key(subject: subject, queue: queue)
    }
}
