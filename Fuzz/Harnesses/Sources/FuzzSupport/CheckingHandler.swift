import NATSProtocol

/// A `ProtocolHandler` that checks every op against the parser's documented contract, reads every byte
/// of every slice it is given, and records the ops so that two parses of one stream can be compared.
///
/// Reading each byte is what lets AddressSanitizer see a slice that points outside the parse buffer; the
/// explicit bounds check names the fault even when the stray bytes happen to be addressable.
final class CheckingHandler: ProtocolHandler {
    let kind: ConnectionKind
    let limits: ParserLimits
    /// The buffer of the parse call in progress; every non-empty slice must lie inside it.
    var window = UnsafeRawBufferPointer(start: nil, count: 0)
    /// One entry per op, fields length-prefixed: equal lists mean the same ops with the same bytes.
    private(set) var events: [[UInt8]] = []
    /// Sum of every byte read, kept so that the reads have an observable result.
    private(set) var checksum: UInt64 = 0

    init(kind: ConnectionKind, limits: ParserLimits) {
        self.kind = kind
        self.limits = limits
    }

    // MARK: - Client ops

    func handlePub(subject: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) -> Bool {
        precondition(kind == .client, "PUB/HPUB parsed on a route")
        var event = Event(tag: headerSize < 0 ? "P" : "H")
        // PUB/HPUB split arguments on blanks only: a `\r` inside a subject is the subject's (nats-server).
        event.token(subject, in: self, splitOnReturn: false)
        event.optionalToken(reply, in: self, splitOnReturn: false)
        precondition(headerSize == -1 || (0...payload.count).contains(headerSize), "header size outside the payload")
        precondition(payload.count <= limits.maxPayload, "payload above max_payload accepted")
        event.number(headerSize)
        event.bytes(payload, in: self)
        return record(event)
    }

    func handleSub(subject: ByteSlice, queue: ByteSlice, sid: ByteSlice) -> Bool {
        precondition(kind == .client, "SUB parsed on a route")
        var event = Event(tag: "S")
        event.token(subject, in: self)
        event.optionalToken(queue, in: self)
        event.token(sid, in: self)
        return record(event)
    }

    func handleUnsub(sid: ByteSlice, max: Int) -> Bool {
        precondition(kind == .client, "UNSUB parsed on a route")
        precondition(max >= -1, "UNSUB max below -1")
        var event = Event(tag: "U")
        event.token(sid, in: self)
        event.number(max)
        return record(event)
    }

    // MARK: - Ops of both sides

    func handleConnect(json: ByteSlice) -> Bool {
        record(argument(json, tag: "C"))
    }

    func handleInfo(json: ByteSlice) -> Bool {
        record(argument(json, tag: "I"))
    }

    func handlePing() -> Bool { record(Event(tag: "p")) }
    func handlePong() -> Bool { record(Event(tag: "o")) }
    func handleOK() -> Bool { record(Event(tag: "k")) }

    func handleErr(message: ByteSlice) -> Bool {
        var event = Event(tag: "E")
        event.bytes(message, in: self)
        return record(event)
    }

    // MARK: - Route ops

    func handleRouteSub(account: ByteSlice, subject: ByteSlice, queue: ByteSlice, weight: Int) -> Bool {
        precondition(kind == .route, "RS+ parsed on a client connection")
        var event = Event(tag: "+")
        self.account(account, into: &event)
        event.token(subject, in: self)
        if weight == 0 {
            precondition(queue.isEmpty, "plain RS+ with a queue")
        } else {
            precondition(weight >= 1, "queue RS+ with a weight below 1")
            event.token(queue, in: self)
        }
        event.number(weight)
        return record(event)
    }

    func handleRouteUnsub(account: ByteSlice, subject: ByteSlice, queue: ByteSlice) -> Bool {
        precondition(kind == .route, "RS- parsed on a client connection")
        var event = Event(tag: "-")
        self.account(account, into: &event)
        event.token(subject, in: self)
        event.optionalToken(queue, in: self)
        return record(event)
    }

    func handleRoutedMessage(_ message: RoutedMessage) -> Bool {
        precondition(kind == .route, "RMSG parsed on a client connection")
        var event = Event(tag: "M")
        account(message.account, into: &event)
        event.token(message.subject, in: self)
        event.optionalToken(message.reply, in: self)
        // The queue list: as many names as announced, each a token inside the announced span.
        var names = 0
        if message.queues.count > 0 { checkInside(message.queues.span) }
        for name in message.queues {
            precondition(name.start >= message.queues.span.start
                && name.start + name.count <= message.queues.span.start + message.queues.span.count,
                "queue name outside the queue span")
            event.token(name, in: self)
            names += 1
        }
        precondition(names == message.queues.count, "queue count differs from the names iterated")
        let headerSize = message.headerSize
        precondition(headerSize == -1 || (0...message.payload.count).contains(headerSize), "header size outside the payload")
        precondition(message.payload.count <= limits.maxPayload, "routed payload above the route limit accepted")
        event.number(headerSize)
        event.bytes(message.payload, in: self)
        return record(event)
    }

    // MARK: - Checks

    /// The account token of a route op: present on ordinary routes, empty on pinned-account routes.
    private func account(_ account: ByteSlice, into event: inout Event) {
        if limits.routeAccountInProtocol {
            event.token(account, in: self)
        } else {
            precondition(account.isEmpty, "account token on a pinned-account route")
        }
    }

    /// CONNECT/INFO argument: never empty, never starting with the blanks that separate it from the verb.
    private func argument(_ json: ByteSlice, tag: Character) -> Event {
        precondition(!json.isEmpty, "empty CONNECT/INFO argument handed over")
        precondition(json[0] != 0x20 && json[0] != 0x09, "CONNECT/INFO argument starts with a blank")
        var event = Event(tag: tag)
        event.bytes(json, in: self)
        return event
    }

    /// Fails unless a non-empty slice lies within the current parse buffer; reads all of its bytes.
    func checkInside(_ slice: ByteSlice) {
        precondition(slice.count >= 0, "negative slice length")
        guard slice.count > 0 else { return }
        let base = UnsafeRawPointer(slice.start)
        guard let windowStart = window.baseAddress else { preconditionFailure("slice handed over for an empty buffer") }
        precondition(base >= windowStart && base + slice.count <= windowStart + window.count, "slice outside the parse buffer")
        var sum: UInt64 = 0
        for index in 0..<slice.count { sum &+= UInt64(slice.start[index]) }
        checksum &+= sum
    }

    private func record(_ event: Event) -> Bool {
        events.append(event.bytes)
        return true
    }
}

/// One op's record: a tag, then each field length-prefixed.
struct Event {
    private(set) var bytes: [UInt8]

    init(tag: Character) {
        bytes = [tag.asciiValue!]
    }

    /// An argument token: non-empty and free of the bytes that separate tokens (and of `\n`, which ends the line).
    mutating func token(_ slice: ByteSlice, in handler: CheckingHandler, splitOnReturn: Bool = true) {
        precondition(!slice.isEmpty, "empty token")
        handler.checkInside(slice)
        for index in 0..<slice.count {
            let byte = slice[index]
            precondition(byte != 0x20 && byte != 0x09 && byte != 0x0A, "token contains a blank or a newline")
            precondition(!splitOnReturn || byte != 0x0D, "token contains a carriage return")
        }
        append(slice)
    }

    /// A token that may be absent (empty).
    mutating func optionalToken(_ slice: ByteSlice, in handler: CheckingHandler, splitOnReturn: Bool = true) {
        if slice.isEmpty { append(slice) } else { token(slice, in: handler, splitOnReturn: splitOnReturn) }
    }

    /// Opaque bytes (payloads, JSON, error text).
    mutating func bytes(_ slice: ByteSlice, in handler: CheckingHandler) {
        handler.checkInside(slice)
        append(slice)
    }

    mutating func number(_ value: Int) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func append(_ slice: ByteSlice) {
        number(slice.count)
        if slice.count > 0 { bytes.append(contentsOf: UnsafeBufferPointer(start: slice.start, count: slice.count)) }
    }
}
