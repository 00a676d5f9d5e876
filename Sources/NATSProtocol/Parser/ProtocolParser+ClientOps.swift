/// Argument handling of the client verbs (PUB, HPUB, SUB, UNSUB, -ERR), following nats-server's
/// processPub / processHeaderPub / parseSub / processUnsub.
extension ProtocolParser {
    /// `PUB <subject> [reply] <size>` / `HPUB <subject> [reply] <header size> <total size>`.
    @inlinable
    static func publish<Handler: ProtocolHandler>(
        _ line: ControlLine, headers: Bool, limits: ParserLimits, handler: Handler
    ) -> OpOutcome {
        let tokens = line.tokens(splitOnReturn: false)
        let fixed = headers ? 3 : 2
        let reply: ByteSlice
        switch tokens.count {
        case fixed: reply = .empty
        case fixed + 1: reply = tokens.first1
        default: return .failed(.malformed(headers ? .headerPubArguments : .pubArguments, line))
        }
        let subject = tokens.first0
        let sizes = messageSizes(tokens, headers: headers, limits: limits)
        if let complaint = sizes.error?.complaint, complaint != .none { return .failed(.malformed(complaint, line)) }
        if let error = sizes.error { return .failed(error) }
        switch line.payload(size: sizes.size) {
        case .complete(let payload, let next):
            return handler.handlePub(subject: subject, reply: reply, headerSize: sizes.headerSize, payload: payload)
                ? .next(next) : .stop(next)
        case .incomplete(let needed):
            return .incomplete(needed: needed)
        case .malformed:
            return .failed(.unknownOperation)
        }
    }

    /// The sizes at the end of a message control line (`[<header size>] <size>`), checked as
    /// nats-server checks them; `error` is set when they are unusable.
    @inlinable @inline(__always)
    static func messageSizes(_ tokens: ArgumentTokens, headers: Bool, limits: ParserLimits)
        -> (headerSize: Int, size: Int, error: ProtocolError?)
    {
        var headerSize = -1
        if headers {
            headerSize = parseSize(tokens.last1)
            if headerSize < 0 { return (0, 0, violation(.headerPubHeaderSize)) }
        }
        let size = parseSize(tokens.last0)
        // parseSize rejects more than 9 digits, which also rules out overflow (CVE-2019-13126).
        if size < 0 { return (0, 0, violation(headers ? .headerPubTotalSize : .pubSize)) }
        if headerSize > size { return (0, 0, violation(.headerPubHeaderOverTotal)) }
        if size > limits.maxPayload { return (0, 0, .maxPayloadExceeded(size: size)) }
        return (headerSize, size, nil)
    }

    /// A size error with the log line it gets; the caller, which has the line, fills in what it quotes.
    @inlinable
    static func violation(_ complaint: ProtocolError.Complaint) -> ProtocolError {
        ProtocolError(errorText: nil, reason: .protocolViolation, complaint: complaint)
    }

    /// `SUB <subject> [queue] <sid>`.
    @inlinable
    static func subscribe<Handler: ProtocolHandler>(_ line: ControlLine, handler: Handler) -> OpOutcome {
        let tokens = line.tokens(splitOnReturn: true)
        let accepted: Bool
        switch tokens.count {
        case 2: accepted = handler.handleSub(subject: tokens.first0, queue: .empty, sid: tokens.first1)
        case 3: accepted = handler.handleSub(subject: tokens.first0, queue: tokens.first1, sid: tokens.first2)
        default: return .failed(.malformed(.subArguments, line))
        }
        return accepted ? .next(line.lineEnd) : .stop(line.lineEnd)
    }

    /// `UNSUB <sid> [max]`; a max that is not a number counts as absent, as in nats-server.
    @inlinable
    static func unsubscribe<Handler: ProtocolHandler>(_ line: ControlLine, handler: Handler) -> OpOutcome {
        let tokens = line.tokens(splitOnReturn: true)
        let accepted: Bool
        switch tokens.count {
        case 1: accepted = handler.handleUnsub(sid: tokens.first0, max: -1)
        case 2: accepted = handler.handleUnsub(sid: tokens.first0, max: parseSize(tokens.first1))
        default: return .failed(.malformed(.unsubArguments, line))
        }
        return accepted ? .next(line.lineEnd) : .stop(line.lineEnd)
    }

    /// `-ERR '<text>'`: hands over the argument as sent, quotes included (nats-server logs it so).
    @inlinable
    static func errorMessage<Handler: ProtocolHandler>(_ line: ControlLine, handler: Handler) -> OpOutcome {
        handler.handleErr(message: line.argument) ? .next(line.lineEnd) : .stop(line.lineEnd)
    }
}
