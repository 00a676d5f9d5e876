/// The NATS protocol parser for client and route connections.
///
/// Stateless across calls: the connection layer hands it (unparsed tail of the previous read) + (new
/// bytes) in one contiguous buffer; it handles every complete op in order and reports how many bytes
/// it consumed. The remainder is an incomplete op that the caller hands back, extended, next time, so
/// a split at any byte works by construction.
///
/// Scanning: the verb is matched byte by byte (`VerbMatcher`), the control line is scanned in place
/// for its newline, arguments are split into slices of the buffer (`ArgumentTokens`), and payloads are
/// skipped by their declared length without being scanned.
public enum ProtocolParser {
    /// Parses every complete op in `bytes`, calling `handler` for each.
    @inlinable
    public static func parse<Handler: ProtocolHandler>(
        _ bytes: UnsafeRawBufferPointer, kind: ConnectionKind, limits: ParserLimits, handler: Handler
    ) -> ParseResult {
        guard let raw = bytes.baseAddress else { return ParseResult(consumed: 0) }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        let end = bytes.count
        var position = 0
        while position < end {
            let verb: ProtocolVerb
            var cursor: Int
            switch VerbMatcher.match(base, at: position, end: end, kind: kind) {
            case .matched(let matched, let verbEnd):
                verb = matched
                cursor = verbEnd
            case .incomplete:
                return ParseResult(consumed: position)
            case .unknown:
                return ParseResult(consumed: position, error: .unknownOperation)
            }

            if verb.argumentRule == .separatorRequired {
                if cursor >= end { return ParseResult(consumed: position) }
                let separator = base[cursor]
                if separator != 0x20 && separator != 0x09 {
                    return ParseResult(consumed: position, error: .unknownOperation)
                }
            }
            let afterVerb = cursor
            while cursor < end && (base[cursor] == 0x20 || base[cursor] == 0x09) { cursor += 1 }
            let argumentStart = cursor

            guard let newline = findNewline(base, from: argumentStart, end: end) else {
                // Incomplete line: enforce the limit on what has accumulated so a peer cannot make the
                // caller buffer an endless control line.
                var pending = argumentStart < end ? end - argumentStart : end - afterVerb
                if base[end - 1] == 0x0D { pending -= 1 }
                if pending > limits.maxControlLine {
                    return ParseResult(consumed: position, error: .maxControlLineExceeded)
                }
                return ParseResult(consumed: position)
            }
            var argumentEnd = newline
            if argumentEnd > argumentStart && base[argumentEnd - 1] == 0x0D { argumentEnd -= 1 }
            let argumentLength = argumentEnd - argumentStart
            if argumentLength > limits.maxControlLine {
                return ParseResult(consumed: position, error: .maxControlLineExceeded)
            }
            let line = ControlLine(
                base: base, opStart: position, argumentStart: argumentStart, argumentLength: argumentLength,
                lineEnd: newline + 1, bufferEnd: end)

            let outcome: OpOutcome
            switch verb {
            case .pub: outcome = publish(line, headers: false, limits: limits, handler: handler)
            case .headerPub: outcome = publish(line, headers: true, limits: limits, handler: handler)
            case .sub: outcome = subscribe(line, handler: handler)
            case .unsub: outcome = unsubscribe(line, handler: handler)
            case .ping: outcome = handler.handlePing() ? .next(line.lineEnd) : .stop(line.lineEnd)
            case .pong: outcome = handler.handlePong() ? .next(line.lineEnd) : .stop(line.lineEnd)
            case .ok: outcome = handler.handleOK() ? .next(line.lineEnd) : .stop(line.lineEnd)
            case .err: outcome = errorMessage(line, handler: handler)
            case .connect:
                if argumentLength == 0 { outcome = .failed(.malformed(.emptyJSON, line)) }
                else { outcome = handler.handleConnect(json: line.argument) ? .next(line.lineEnd) : .stop(line.lineEnd) }
            case .info:
                if argumentLength == 0 { outcome = .failed(.protocolViolation) }
                else { outcome = handler.handleInfo(json: line.argument) ? .next(line.lineEnd) : .stop(line.lineEnd) }
            case .routeSub: outcome = routeSubscribe(line, hasOrigin: false, limits: limits, handler: handler)
            case .leafSub: outcome = routeSubscribe(line, hasOrigin: true, limits: limits, handler: handler)
            case .routeUnsub, .leafUnsub: outcome = routeUnsubscribe(line, limits: limits, handler: handler)
            case .routedMessage: outcome = routedMessage(line, headers: false, hasOrigin: false, limits: limits, handler: handler)
            case .headerMessage: outcome = routedMessage(line, headers: true, hasOrigin: false, limits: limits, handler: handler)
            case .leafMessage: outcome = routedMessage(line, headers: true, hasOrigin: true, limits: limits, handler: handler)
            case .accountSub, .accountUnsub:
                // Gateway-only interest-mode ops: nats-server ignores them on routes.
                outcome = .next(line.lineEnd)
            }

            switch outcome {
            case .next(let next):
                position = next
            case .stop(let next):
                return ParseResult(consumed: next)
            case .incomplete(let needed):
                return ParseResult(consumed: position, needed: needed)
            case .failed(let error):
                return ParseResult(consumed: position, error: error)
            }
        }
        return ParseResult(consumed: position)
    }

    /// Index of the first `\n` at or after `from`, or nil.
    @inlinable
    static func findNewline(_ base: UnsafePointer<UInt8>, from: Int, end: Int) -> Int? {
        var index = from
        while index < end {
            if base[index] == 0x0A { return index }
            index &+= 1
        }
        return nil
    }
}

/// What handling one op decided.
@usableFromInline
enum OpOutcome {
    /// Done; continue at this offset.
    case next(Int)
    /// The handler asked to stop; consumed up to this offset.
    case stop(Int)
    /// The control line is complete but the payload is not; total bytes the op needs.
    case incomplete(needed: Int)
    /// Close the connection. Indirect: the error (its text and what its log line quotes) is boxed on this
    /// rare path, so the outcome every op returns stays two words.
    indirect case failed(ProtocolError)
}

/// A complete control line inside the parse buffer.
@usableFromInline
struct ControlLine {
    @usableFromInline let base: UnsafePointer<UInt8>
    @usableFromInline let opStart: Int
    @usableFromInline let argumentStart: Int
    @usableFromInline let argumentLength: Int
    /// Offset just past the `\n`.
    @usableFromInline let lineEnd: Int
    @usableFromInline let bufferEnd: Int

    @inlinable
    init(base: UnsafePointer<UInt8>, opStart: Int, argumentStart: Int, argumentLength: Int, lineEnd: Int, bufferEnd: Int) {
        self.base = base
        self.opStart = opStart
        self.argumentStart = argumentStart
        self.argumentLength = argumentLength
        self.lineEnd = lineEnd
        self.bufferEnd = bufferEnd
    }

    @inlinable
    var argument: ByteSlice { ByteSlice(start: base + argumentStart, count: argumentLength) }

    @inlinable
    func tokens(splitOnReturn: Bool) -> ArgumentTokens {
        ArgumentTokens(base + argumentStart, length: argumentLength, splitOnReturn: splitOnReturn)
    }

    /// Checks the `size` payload bytes after the line and their CRLF. The trailer is checked byte by
    /// byte as it arrives (an early wrong byte fails at once); the payload itself is never scanned.
    @inlinable
    func payload(size: Int) -> PayloadStatus {
        let trailer = lineEnd + size
        if trailer < bufferEnd && base[trailer] != 0x0D { return .malformed }
        if trailer + 1 < bufferEnd && base[trailer + 1] != 0x0A { return .malformed }
        if trailer + 2 > bufferEnd { return .incomplete(needed: trailer + 2 - opStart) }
        return .complete(ByteSlice(start: base + lineEnd, count: size), next: trailer + 2)
    }
}

@usableFromInline
enum PayloadStatus {
    case complete(ByteSlice, next: Int)
    case incomplete(needed: Int)
    case malformed
}
