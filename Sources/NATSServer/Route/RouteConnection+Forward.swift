import NATSConfig
import NATSProtocol

extension RouteConnection {
    /// Queues one RMSG/HMSG for the peer: payload copied once into the outbound chunk (space reserved by
    /// an upper bound, then the bytes written committed). `account` is the name the message travels under
    /// (the account of the interest it matched).
    @inline(__always)
    func forward(account: ByteSlice, subject: ByteSlice, reply: ByteSlice, queues: UnsafeBufferPointer<ByteSlice>, headerSize: Int,
                 payload: ByteSlice) {
        let space = FrameEncoder.routedMessageSpace(
            account: account, subject: subject, reply: reply, queues: queues, headerSize: headerSize, payloadCount: payload.count)
        let destination = connection.reserve(space)
        let written = FrameEncoder.writeRoutedMessage(
            to: destination, account: account, subject: subject, reply: reply, queues: queues, headerSize: headerSize, payload: payload)
        connection.commit(written)
        counters.outMessages &+= 1
        counters.outBytes &+= payload.count
        worker.statistics.outMessages &+= 1
        worker.statistics.outBytes &+= payload.count
        // Producers feeding a backed-up route are paused first; only a peer that stopped reading
        // altogether is cut off (its dialer reconnects it), so memory stays bounded.
        checkPendingOutput()
    }
}
