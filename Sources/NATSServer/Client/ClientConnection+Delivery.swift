import NATSProtocol

extension ClientConnection {
    /// Queues one MSG/HMSG frame for this client: the payload is copied once, straight into the
    /// outbound chunk, and the socket is written at the end of the loop turn.
    @inline(__always)
    func deliver(subject: ByteSlice, sid: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) {
        var headerSize = headerSize
        var payload = payload
        if headerSize >= 0 && !supportsHeaders {
            // A client without header support gets the message body only.
            payload = payload.slice(from: headerSize, length: payload.count - headerSize)
            headerSize = -1
        }
        if worker.isTracing { traceDelivery(subject: subject, sid: sid, reply: reply, headerSize: headerSize, size: payload.count) }
        let length = FrameEncoder.clientMessageLength(
            subject: subject, sid: sid, reply: reply, headerSize: headerSize, payloadCount: payload.count)
        let destination = connection.reserve(length)
        let written = FrameEncoder.writeClientMessage(
            to: destination, subject: subject, sid: sid, reply: reply, headerSize: headerSize, payload: payload)
        connection.commit(written)
        // A delivery is activity of the receiver (nats-server's flushClients); the time is the read's.
        lastActivity = worker.inputTime
        if permissionsReference != nil && !reply.isEmpty { noteReplyDelivered(reply) }
        counters.outMessages &+= 1
        counters.outBytes &+= payload.count
        checkPendingOutput()
    }

    /// nats-server closes a client whose pending output exceeds max_pending, without an -ERR.
    func slowConsumerDetected(pending: Int) {
        worker.statistics.slowConsumers += 1
        server.logger.info("\(label) - Slow Consumer Detected: MaxPending of \(maxPending) Exceeded")
        close(reason: .slowConsumerPendingBytes, flush: false)
    }

    /// Kept out of line so the per-message `deliver` stays small enough to inline.
    @inline(never)
    func traceDelivery(subject: ByteSlice, sid: ByteSlice, reply: ByteSlice, headerSize: Int, size: Int) {
        server.traceOut(label, (headerSize >= 0 ? "HMSG " : "MSG ") + "\(subject) \(sid) "
            + Server.messageArguments(ByteSlice.empty, reply, headerSize: headerSize, size: size).dropFirst())
    }
}
