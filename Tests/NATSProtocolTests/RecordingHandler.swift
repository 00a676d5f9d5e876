import NATSProtocol

/// Records every parsed op as a readable line, copying the slices while they are valid.
final class RecordingHandler: ProtocolHandler {
    var events: [String] = []
    /// Stop (return false) after this many events; nil never stops.
    var stopAfter: Int?

    private func record(_ event: String) -> Bool {
        events.append(event)
        if let stopAfter { return events.count < stopAfter }
        return true
    }

    func handlePub(subject: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) -> Bool {
        record("PUB \(subject) reply=\(reply) hdr=\(headerSize) [\(payload)]")
    }
    func handleSub(subject: ByteSlice, queue: ByteSlice, sid: ByteSlice) -> Bool {
        record("SUB \(subject) queue=\(queue) sid=\(sid)")
    }
    func handleUnsub(sid: ByteSlice, max: Int) -> Bool { record("UNSUB \(sid) max=\(max)") }
    func handleConnect(json: ByteSlice) -> Bool { record("CONNECT \(json)") }
    func handleInfo(json: ByteSlice) -> Bool { record("INFO \(json)") }
    func handlePing() -> Bool { record("PING") }
    func handlePong() -> Bool { record("PONG") }
    func handleOK() -> Bool { record("OK") }
    func handleErr(message: ByteSlice) -> Bool { record("ERR \(message)") }
    func handleRouteSub(account: ByteSlice, subject: ByteSlice, queue: ByteSlice, weight: Int) -> Bool {
        record("RS+ acc=\(account) \(subject) queue=\(queue) w=\(weight)")
    }
    func handleRouteUnsub(account: ByteSlice, subject: ByteSlice, queue: ByteSlice) -> Bool {
        record("RS- acc=\(account) \(subject) queue=\(queue)")
    }
    func handleRoutedMessage(_ message: RoutedMessage) -> Bool {
        let queues = message.queues.map(\.string).joined(separator: ",")
        return record("RMSG acc=\(message.account) \(message.subject) reply=\(message.reply) queues=\(queues)/\(message.queues.count) hdr=\(message.headerSize) [\(message.payload)]")
    }
}

/// What feeding a byte stream in chunks produced.
struct FeedOutcome {
    var events: [String]
    var error: ProtocolError?
    /// Bytes left unconsumed at the end.
    var leftover: Int
    /// Every `needed` value reported.
    var needed: [Int]
}

/// Feeds `chunks` exactly as the connection layer does: append each chunk to the unconsumed tail,
/// parse, drop the consumed prefix.
func feed(_ chunks: [[UInt8]], kind: ConnectionKind = .client, limits: ParserLimits = ParserLimits(), handler: RecordingHandler = RecordingHandler()) -> FeedOutcome {
    var pending: [UInt8] = []
    var needed: [Int] = []
    for chunk in chunks {
        pending += chunk
        let result = pending.withUnsafeBytes { ProtocolParser.parse($0, kind: kind, limits: limits, handler: handler) }
        precondition(result.consumed <= pending.count)
        pending.removeFirst(result.consumed)
        if result.needed > 0 { needed.append(result.needed) }
        if let error = result.error {
            return FeedOutcome(events: handler.events, error: error, leftover: pending.count, needed: needed)
        }
    }
    return FeedOutcome(events: handler.events, error: nil, leftover: pending.count, needed: needed)
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A small deterministic generator so random-split tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
