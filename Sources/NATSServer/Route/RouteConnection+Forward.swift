import NATSConfig
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
        cluster.server.statistics.outMessages &+= 1
        cluster.server.statistics.outBytes &+= payload.count
        // Producers feeding a backed-up route are paused first; only a peer that stopped reading
        // altogether is cut off (its dialer reconnects it), so memory stays bounded.
        let pending = connection.pendingBytes
        if pending > cluster.server.stallThreshold {
            if pending > cluster.routeMaxPending {
                logger.info("\(label) - Slow Consumer Detected: route pending \(pending) bytes")
                cluster.server.statistics.slowConsumers += 1
                close(reason: .slowConsumerPendingBytes, flush: false)
            } else {
                cluster.server.receiverBackedUp(connection, pending: pending, maxPending: cluster.options.maxPending)
            }
        }
    }
}
