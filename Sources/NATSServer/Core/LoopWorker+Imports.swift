import NATSProtocol

/// A request or response a service import carries into another account, copied out of the read buffer:
/// it is published once the message that triggered it has been delivered (a publish inside a publish would
/// reuse the forwarding scratch space).
struct PendingServiceCall {
    let role: ImportRole
    /// The service imports the message already went through: none of them takes it again (an import of
    /// an account's own service, or imports that lead back, would otherwise multiply it every round).
    let chain: [ObjectIdentifier]
    let subject: [UInt8]
    let reply: [UInt8]
    let headerSize: Int
    let payload: [UInt8]
    let publisherID: UInt64
}

/// Messages crossing accounts (nats-server's stream and service imports). Off the per-message path of
/// accounts that share nothing: an ordinary delivery pays one nil check (`Subscription.importRole`).
extension LoopWorker {
    /// Rounds of imports one message may trigger (an import of an import…); a cycle of service imports
    /// between accounts stops there.
    static let maximumImportRounds = 8

    /// Delivers to a stream import's shadow: under the importing account's subject (the import's
    /// `prefix`/`to`), if that matches the client's own subscription, counted against its limit.
    @inline(never)
    func deliverImported(to shadow: Subscription, receiver: ClientConnection, subject: ByteSlice, reply: ByteSlice,
                         headerSize: Int, payload: ByteSlice) -> Bool {
        guard let role = shadow.importRole, let primary = role.primary, let streamImport = role.streamImport else { return false }
        let transform = streamImport.transform
        importedSubject.reserve(transform.maximumLength(subject))
        let mapped = ByteSlice(start: importedSubject.base, count: transform.apply(subject, into: importedSubject.base))
        guard SubjectTokens.matches(role.primaryPattern, mapped) else { return false }
        return deliverCounted(to: primary, receiver: receiver, subject: mapped, reply: reply, headerSize: headerSize,
                              payload: payload)
    }

    /// An internal subscription matched: queue the request (service import) or response (an exporting
    /// account's `_R_` wildcard) for `runServiceCalls`. Returns the deliveries it counts for now (none).
    @inline(never)
    func queueServiceCall(_ subscription: Subscription, publisherID: UInt64, subject: ByteSlice, reply: ByteSlice,
                          headerSize: Int, payload: ByteSlice) -> Int {
        guard let role = subscription.importRole, role.serviceImport != nil || role.responses != nil else { return 0 }
        if let serviceImport = role.serviceImport, serviceChain.contains(ObjectIdentifier(serviceImport)) { return 0 }
        serviceCalls.append(PendingServiceCall(role: role, chain: serviceChain, subject: subject.array, reply: reply.array,
                                               headerSize: headerSize, payload: payload.array, publisherID: publisherID))
        pendingServiceCalls = serviceCalls.count
        return 0
    }

    /// Publishes every queued request and response into its account, and what those trigger in turn (at
    /// most `maximumImportRounds` rounds); returns the deliveries made.
    @inline(never)
    func runServiceCalls() -> Int {
        var deliveries = 0
        var rounds = 0
        while !serviceCalls.isEmpty && rounds < LoopWorker.maximumImportRounds {
            rounds += 1
            let calls = serviceCalls
            serviceCalls = []
            for call in calls { deliveries &+= perform(call) }
        }
        serviceCalls.removeAll()
        pendingServiceCalls = 0
        serviceChain = []
        return deliveries
    }

    private func perform(_ call: PendingServiceCall) -> Int {
        serviceChain = call.chain
        if let serviceImport = call.role.serviceImport { serviceChain.append(ObjectIdentifier(serviceImport)) }
        return call.subject.withUnsafeBytes { subjectBytes in
            call.payload.withUnsafeBytes { payloadBytes in
                let subject = ByteSlice(subjectBytes)
                let payload = ByteSlice(payloadBytes)
                if let serviceImport = call.role.serviceImport {
                    return request(serviceImport, call, subject: subject, payload: payload)
                }
                guard let responses = call.role.responses, let route = responses.route(for: subject, now: loop.now) else { return 0 }
                return route.reply.withUnsafeBytes { replyTo in
                    call.reply.withUnsafeBytes { reply in
                        publishImported(in: route.importer, publisherID: call.publisherID, subject: ByteSlice(replyTo),
                                        reply: ByteSlice(reply), headerSize: call.headerSize, payload: payload)
                    }
                }
            }
        }
    }

    /// A request published on a service import's subject: into the exporting account on the exported
    /// subject, with a reply subject there that brings the responses back to the requester.
    private func request(_ serviceImport: ServiceImport, _ call: PendingServiceCall, subject: ByteSlice, payload: ByteSlice) -> Int {
        let transform = serviceImport.transform
        var mapped = [UInt8](repeating: 0, count: transform.maximumLength(subject))
        let length = mapped.withUnsafeMutableBufferPointer { transform.apply(subject, into: $0.baseAddress!) }
        mapped.removeLast(mapped.count - length)
        var reply: [UInt8] = []
        if !call.reply.isEmpty {
            reply = serviceImport.responses.newReply(for: serviceImport, reply: call.reply, now: loop.now)
        }
        let deliveries = mapped.withUnsafeBytes { subjectBytes in
            reply.withUnsafeBytes { replyBytes in
                publishImported(in: serviceImport.exporter, publisherID: call.publisherID, subject: ByteSlice(subjectBytes),
                                reply: ByteSlice(replyBytes), headerSize: call.headerSize, payload: payload)
            }
        }
        // Nobody took the request: no response can come, so the mapping would only wait for its threshold.
        if deliveries == 0 && !reply.isEmpty { serviceImport.responses.discard(reply) }
        return deliveries
    }

    /// Whether a stream import's shadow would deliver `subject` (its client's subscription matches the
    /// imported subject): a queue member that would not is never picked.
    func shadowAccepts(_ shadow: Subscription, subject: ByteSlice) -> Bool {
        guard let role = shadow.importRole, let streamImport = role.streamImport else { return true }
        let transform = streamImport.transform
        importedSubject.reserve(transform.maximumLength(subject))
        let mapped = ByteSlice(start: importedSubject.base, count: transform.apply(subject, into: importedSubject.base))
        return SubjectTokens.matches(role.primaryPattern, mapped)
    }
}
