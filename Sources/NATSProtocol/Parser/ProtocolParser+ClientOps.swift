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
        if let fault = sizes.fault {
            // A malformed size is logged quoting the arguments, as nats-server's processPub does.
            guard case .malformed(let complaint) = fault else { return .failed(fault.error(size: sizes.size)) }
            return .failed(.malformed(complaint, line))
        }
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

    /// Why the sizes of a message control line are unusable. Kept to a byte or two, not a `ProtocolError`,
    /// because every PUB, HPUB, RMSG and HMSG returns one: the error is built on the failure path only.
    @usableFromInline
    enum SizeFault {
        /// A size that does not parse, or a header size over the total: closed silently, logged as this.
        case malformed(ProtocolError.Complaint)
        /// More than max_payload (the announced size is the tuple's `size`).
        case overMaxPayload

        /// The error that ends the connection; `size`: the announced size.
        @inlinable
        func error(size: Int) -> ProtocolError {
            switch self {
            case .malformed(let complaint): ProtocolError(errorText: nil, reason: .protocolViolation, complaint: complaint)
            case .overMaxPayload: .maxPayloadExceeded(size: size)
            }
        }
    }

    /// The sizes at the end of a message control line (`[<header size>] <size>`), checked as
    /// nats-server checks them; `fault` is set when they are unusable (`size` is then the announced size
    /// for `overMaxPayload`, 0 otherwise).
    @inlinable @inline(__always)
    static func messageSizes(_ tokens: ArgumentTokens, headers: Bool, limits: ParserLimits)
        -> (headerSize: Int, size: Int, fault: SizeFault?)
    {
        var headerSize = -1
        if headers {
            headerSize = parseSize(tokens.last1)
            if headerSize < 0 { return (0, 0, .malformed(.headerPubHeaderSize)) }
        }
        let size = parseSize(tokens.last0)
        // parseSize rejects more than 9 digits, which also rules out overflow (CVE-2019-13126).
        if size < 0 { return (0, 0, .malformed(headers ? .headerPubTotalSize : .pubSize)) }
        if headerSize > size { return (0, 0, .malformed(.headerPubHeaderOverTotal)) }
        if size > limits.maxPayload { return (0, size, .overMaxPayload) }
        return (headerSize, size, nil)
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
