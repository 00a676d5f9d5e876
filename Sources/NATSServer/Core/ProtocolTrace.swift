import NATSConfig
import NATSProtocol

/// `-V` protocol tracing in nats-server's shape: `<<- [SUB foo 1]` for what a connection sent,
/// `->> [MSG foo 1 5]` for what it was sent, `<<- MSG_PAYLOAD: ["hello"]` for payloads.
/// Every call site checks `server.isTracing` first, so a server without -V pays one branch.
extension Server {
    func traceIn(_ label: String, _ op: String) {
        logger.trace("\(label) - <<- [\(op)]")
    }

    func traceOut(_ label: String, _ op: String) {
        logger.trace("\(label) - ->> [\(op)]")
    }

    /// `limit`: max_traced_msg_len from the calling loop's options (0: the whole payload).
    func tracePayload(_ label: String, _ payload: ByteSlice, limit: Int) {
        var text = payload.string
        if limit > 0 && payload.count > limit { text = String(text.prefix(limit)) + "..." }
        logger.trace("\(label) - <<- MSG_PAYLOAD: [\"\(text)\"]")
    }

    /// `subject [reply] size` / `subject [reply] hdr total` as the op's arguments.
    static func messageArguments(_ subject: ByteSlice, _ reply: ByteSlice, headerSize: Int, size: Int) -> String {
        var text = subject.string
        if !reply.isEmpty { text += " " + reply.string }
        if headerSize >= 0 { text += " \(headerSize)" }
        return text + " \(size)"
    }
}
