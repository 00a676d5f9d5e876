import NATSConfig
import UVLoop

/// nats-server's write deadline: a connection whose queued output makes no progress for
/// `write_deadline` (10 s) has a peer that stopped reading. A client is closed as a slow consumer; a
/// connection that is only waiting to flush a final -ERR is simply closed. Checked by housekeeping.
extension LoopWorker {
    /// This loop's write_deadline (its copy of the options, changed by a reload).
    var writeDeadlineMilliseconds: UInt64 { UInt64(max(options.writeDeadlineSeconds, 0.001) * 1000) }

    /// True when the client's output has been stuck for longer than the write deadline.
    func writeDeadlinePassed(_ client: ClientConnection, now: UInt64) -> Bool {
        let connection = client.connection
        guard connection.pendingBytes > 0 else {
            client.writeStalledSince = 0
            return false
        }
        if connection.bytesWritten != client.bytesWrittenAtLastCheck || client.writeStalledSince == 0 {
            client.bytesWrittenAtLastCheck = connection.bytesWritten
            client.writeStalledSince = now
            return false
        }
        return now - client.writeStalledSince > writeDeadlineMilliseconds
    }

}
