import NATSAuth
import NATSConfig
import NATSJSON
import NATSLogging
import NATSProtocol

/// The client side of the protocol: what each parsed op does. Every method returns false once the
/// connection is closing so the parser stops at once.
extension ClientConnection: ProtocolHandler {
    package func handlePub(subject: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) -> Bool {
        if headerSize >= 0 && !supportsHeaders {
            // nats-server closes a client that sends HPUB without having negotiated headers, without -ERR,
            // logging ErrMsgHeadersNotSupported's text.
            server.logger.error("\(label) - message headers not supported")
            close(reason: .protocolViolation, flush: true)
            return false
        }
        if worker.isTracing { tracePublish(subject: subject, reply: reply, headerSize: headerSize, payload: payload) }
        counters.inMessages &+= 1
        counters.inBytes &+= payload.count
        worker.statistics.inMessages &+= 1
        worker.statistics.inBytes &+= payload.count
        if connectOptions.pedantic && !SubjectValidator.isValidLiteral(subject) {
            sendErr("Invalid Publish Subject")
        }
        // A refused PUB is counted as received, gets no +OK and reaches nobody (nats-server's order).
        if let permissions = permissionsReference,
           !permissions._withUnsafeGuaranteedRef({ $0.quicklyAllows(subject.buffer) }), publishDenied(subject: subject) {
            return !isClosed
        }
        if !reply.isEmpty && ReservedReply.mayBeReserved(reply) && replyDenied(reply) { return !isClosed }
        if connectOptions.verbose { sendOK() }
        // An empty header block (`HPUB s 0 n`) is delivered as a plain MSG, as nats-server does.
        worker.publish(from: self, subject: subject, reply: reply, headerSize: headerSize == 0 ? -1 : headerSize, payload: payload)
        return !isClosed
    }

    package func handleSub(subject: ByteSlice, queue: ByteSlice, sid: ByteSlice) -> Bool {
        if worker.isTracing { server.traceIn(label, "SUB \(subject)\(queue.isEmpty ? "" : " \(queue)") \(sid)") }
        noteActivity()
        // Permissions first, as nats-server checks them before it parses the subject into its index.
        if subscribeDenied(subject: subject, queue: queue, sid: sid) { return true }
        if !SubjectValidator.isValidSubscription(subject) || (!queue.isEmpty && !SubjectValidator.isValidQueueName(queue)) {
            sendErr("Invalid Subject")
            return true
        }
        let key = sid.array
        if subscriptions[key] == nil {
            let limit = worker.options.maxSubscriptions
            if limit > 0 && subscriptions.count >= limit {
                sendErr("maximum subscriptions exceeded")
                return true
            }
            let subscription = Subscription(client: self, subject: subject, queue: queue, sid: sid)
            guard account.interest.add(subscription) else {
                sendErr("Invalid Subject")
                return true
            }
            subscriptions[key] = subscription
            server.cluster.localInterestAdded(subscription, on: worker)
            let streamImports = account.sharing(onLoop: worker.index).streamImports
            if !streamImports.isEmpty { addShadows(of: subscription, through: streamImports) }
        }
        if connectOptions.verbose { sendOK() }
        return true
    }

    package func handleUnsub(sid: ByteSlice, max: Int) -> Bool {
        if worker.isTracing { server.traceIn(label, "UNSUB \(sid)\(max >= 0 ? " \(max)" : "")") }
        noteActivity()
        if let subscription = subscriptions[sid.array] {
            if max > 0 && max > subscription.delivered {
                subscription.maxMessages = max
            } else {
                removeSubscription(subscription)
            }
        }
        if connectOptions.verbose { sendOK() }
        return true
    }

    package func handleConnect(json: ByteSlice) -> Bool {
        if worker.isTracing { server.traceIn(label, "CONNECT \(TraceRedaction.connect(json.string))") }
        lastActivity = worker.inputTime
        // Every CONNECT restarts the ping timer with the short first delay (nats-server's processConnect).
        nextPingAt = worker.inputTime + worker.firstPingDelayMilliseconds()
        let authenticator = worker.authenticator
        // Read only when it can decide the login (`tls { verify_and_map }`).
        let certificate = authenticator.mapsCertificates ? connection.tlsPeerCertificate.map(CertificateIdentity.init) : nil
        let action = handshake.connectArrived(json: json, current: connectOptions, authenticator: authenticator,
                                              headersSupported: !worker.options.noHeaderSupport, nonce: nonce,
                                              certificate: certificate)
        switch action {
        case .accept(let options):
            connectOptions = options
            measureRoundTrip()
            adoptLogin()
            if options.verbose { sendOK() }
            return true
        case .reject(let rejection):
            reject(rejection)
            return false
        }
    }

    package func handleInfo(json: ByteSlice) -> Bool { true }

    package func handlePing() -> Bool {
        if worker.isTracing {
            server.traceIn(label, "PING")
            server.traceOut(label, "PONG")
        }
        send(ControlLines.pong)
        // A PING is input that makes the server's own PING unnecessary, but not /connz activity.
        lastInput = worker.inputTime
        if !sentFirstPong {
            sentFirstPong = true
            if handshake.isConnected && connectOptions.protocolVersion >= 1 {
                send(server.clientInfoLine(for: self, connectInfo: true))
            }
        }
        return true
    }

    package func handlePong() -> Bool {
        if worker.isTracing { server.traceIn(label, "PONG") }
        if pingsOutstanding > 0 { measureRoundTrip() }
        pingsOutstanding = 0
        hasAnsweredPing = true
        return true
    }

    package func handleOK() -> Bool { true }

    /// A client sending -ERR is logged and closed without a reply, as nats-server's `processErr`: "Client
    /// Error <argument as sent>" at error level, closed for "Parse Error".
    package func handleErr(message: ByteSlice) -> Bool {
        server.logger.error("\(label) - Client Error \(message.string)")
        close(reason: .parseError, flush: true)
        return false
    }

    // Route ops never reach a client handler: the parser rejects them for kind .client.
    package func handleRouteSub(account: ByteSlice, subject: ByteSlice, queue: ByteSlice, weight: Int) -> Bool { false }
    package func handleRouteUnsub(account: ByteSlice, subject: ByteSlice, queue: ByteSlice) -> Bool { false }
    package func handleRoutedMessage(_ message: RoutedMessage) -> Bool { false }
}

extension ClientConnection {
    /// Drops one subscription from the index and tells the cluster when it was the last interest.
    func removeSubscription(_ subscription: Subscription) {
        guard subscriptions.removeValue(forKey: subscription.sid.array) != nil else { return }
        subscription.account.interest.remove(subscription)
        server.cluster.localInterestRemoved(subscription, on: worker)
        removeShadows(of: subscription)
    }

    func removeAllSubscriptions() {
        let all = subscriptions.values
        subscriptions.removeAll()
        for subscription in all {
            subscription.account.interest.remove(subscription)
            server.cluster.localInterestRemoved(subscription, on: worker)
            removeShadows(of: subscription)
        }
    }
}

extension ClientConnection {
    /// Kept out of line so `handlePub` stays small on the per-message path.
    @inline(never)
    func tracePublish(subject: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) {
        server.traceIn(label, (headerSize >= 0 ? "HPUB " : "PUB ") + Server.messageArguments(subject, reply, headerSize: headerSize, size: payload.count))
        server.tracePayload(label, payload, limit: worker.options.maxTracedMessageLength)
    }
}

extension ClientConnection {
    /// A new subscription in an account with stream imports: one shadow in each exporting account whose
    /// imported subjects it can match (nats-server's `addShadowSubscriptions`), counted there as local
    /// interest so routes bring that account's messages here too.
    func addShadows(of subscription: Subscription, through streamImports: [StreamImport]) {
        for streamImport in streamImports {
            guard let subject = streamImport.shadowSubject(for: subscription.subject) else { continue }
            let shadow = Subscription(shadowOf: subscription, client: self, streamImport: streamImport, subject: subject)
            guard streamImport.exporter.interest.add(shadow) else { continue }
            subscription.shadows.append(shadow)
            server.cluster.localInterestAdded(shadow, on: worker)
        }
    }

    func removeShadows(of subscription: Subscription) {
        guard !subscription.shadows.isEmpty else { return }
        for shadow in subscription.shadows {
            shadow.account.interest.remove(shadow)
            server.cluster.localInterestRemoved(shadow, on: worker)
        }
        subscription.shadows.removeAll()
    }
}
