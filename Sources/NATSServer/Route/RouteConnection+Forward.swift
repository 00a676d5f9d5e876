import NATSProtocol

extension RouteConnection {
    /// Queues one RMSG/HMSG for the peer: payload copied once into the outbound chunk.
    @inline(__always)
    func forward(subject: ByteSlice, reply: ByteSlice, queues: UnsafeBufferPointer<ByteSlice>, headerSize: Int, payload: ByteSlice) {
        let account = cluster.globalAccountSlice
        let length = FrameEncoder.routedMessageLength(
            account: account, subject: subject, reply: reply, queues: queues, headerSize: headerSize, payloadCount: payload.count)
        let destination = connection.reserve(length)
        let written = FrameEncoder.writeRoutedMessage(
            to: destination, account: account, subject: subject, reply: reply, queues: queues, headerSize: headerSize, payload: payload)
        connection.commit(written)
        outMessages &+= 1
        outBytes &+= payload.count
        // A route is never cut off for being slow, but the producers feeding it are paused.
        let pending = connection.pendingBytes
        if pending > cluster.server.stallThreshold {
            cluster.server.receiverBackedUp(connection, pending: pending, maxPending: cluster.options.maxPending)
        }
    }
}
