import NATSProtocol
import UVLoop

/// Messages and bytes one connection received and was sent (/connz, /routez).
package struct MessageCounters: Sendable {
    package var inMessages = 0
    package var inBytes = 0
    package var outMessages = 0
    package var outBytes = 0

    package init() {}

    /// Adds `other`'s counts to these.
    package mutating func add(_ other: MessageCounters) {
        inMessages += other.inMessages
        inBytes += other.inBytes
        outMessages += other.outMessages
        outBytes += other.outBytes
    }
}

/// The core clients and routes share, as nats-server's one `client` type with a `kind` does: the read
/// dispatch (parse under the loop's flow control, a parse error ends the connection), the close policy
/// (after a last flush bounded by the write deadline, or at once) and the back-pressure check after
/// queueing output (pause the producer, or cut off a receiver past its limit).
///
/// Each conforming type keeps what differs: its handshake, the ops it accepts (`ProtocolHandler`) and what
/// closing means for it.
protocol ProtocolConnection: ProtocolHandler {
    var connection: TCPConnection { get }
    var worker: LoopWorker { get }
    /// Set once a close was decided: stop parsing and delivering.
    var isClosed: Bool { get }
    /// Whether the parser reads client or route ops.
    static var parserKind: ConnectionKind { get }
    var parserLimits: ParserLimits { get }
    /// Sends `-ERR 'errorText'` (when given) and closes after flushing it.
    func fail(_ errorText: String?, reason: CloseReason)
    /// Ends the connection for a protocol error of its input: by default `fail` with the error's text and
    /// reason; a kind that logs some of them first implements it. `complaint` is nats-server's log line
    /// for the error (`ProtocolComplaint`), nil when it has none.
    func parseFailed(_ error: ProtocolError, complaint: @autoclosure () -> String?)
    /// Pending output past which this receiver is cut off as a slow consumer.
    var pendingLimit: Int { get }
    /// Closes a receiver whose pending output passed `pendingLimit` (statistics, log line, close).
    func slowConsumerDetected(pending: Int)
}

extension ProtocolConnection {
    /// Everything a read consumed: the connection is closing, nothing more is parsed.
    static func consumedAll(_ bytes: UnsafeRawBufferPointer) -> ReadDisposition {
        ReadDisposition(consumed: bytes.count, needed: 0)
    }

    /// Parses one read's bytes with this connection as the handler, under the loop's flow control;
    /// a protocol error sends its -ERR and closes.
    @inline(__always)
    func dispatchRead(_ bytes: UnsafeRawBufferPointer) -> ReadDisposition {
        let result = worker.processingInput(from: connection) {
            ProtocolParser.parse(bytes, kind: Self.parserKind, limits: parserLimits, handler: self)
        }
        if let error = result.error {
            if !isClosed {
                parseFailed(error, complaint: ProtocolComplaint.text(for: error, input: bytes, failedAt: result.consumed,
                                                                     kind: Self.parserKind == .client ? "Client" : "Router"))
            }
            return Self.consumedAll(bytes)
        }
        if isClosed { return Self.consumedAll(bytes) }
        return ReadDisposition(consumed: result.consumed, needed: result.needed)
    }

    func parseFailed(_ error: ProtocolError, complaint: @autoclosure () -> String?) {
        fail(error.errorText, reason: error.reason)
    }

    /// Closes the socket: after its queued output (a final -ERR), bounded by the write deadline, or at once.
    func closeTransport(flush: Bool) {
        if flush {
            connection.closeAfterFlush(deadlineMilliseconds: worker.writeDeadlineMilliseconds)
        } else {
            connection.close()
        }
    }

    /// After output was queued: above the stall mark the producer is paused; past `pendingLimit` this
    /// receiver is cut off.
    @inline(__always)
    func checkPendingOutput() {
        let pending = connection.pendingBytes
        guard pending > worker.stallThreshold else { return }
        if pending > pendingLimit {
            slowConsumerDetected(pending: pending)
        } else {
            worker.receiverBackedUp(connection, pending: pending, maxPending: pendingLimit)
        }
    }
}
