/// Argument handling of the route verbs (RS+/RS-/LS+/LS-, RMSG/HMSG/LMSG), following nats-server's
/// processRemoteSub / parseUnsubProto / processRoutedMsgArgs / processRoutedHeaderMsgArgs.
///
/// On a pinned-account route (`routeAccountInProtocol == false`) the account token is absent and
/// every position shifts down by one; the handler then sees an empty account.
extension ProtocolParser {
    /// `RS+ [acc] <subject> [<queue> <weight>]`; `LS+ <origin> ...` with the origin dropped.
    @inlinable
    static func routeSubscribe<Handler: ProtocolHandler>(
        _ line: ControlLine, hasOrigin: Bool, limits: ParserLimits, handler: Handler
    ) -> OpOutcome {
        let tokens = line.tokens(splitOnReturn: true)
        let skip = hasOrigin ? 1 : 0
        let accountTokens = limits.routeAccountInProtocol ? 1 : 0
        let subjectIndex = skip + accountTokens
        let account = accountTokens == 1 ? tokens.fromStart(skip) : ByteSlice.empty
        let accepted: Bool
        switch tokens.count {
        case subjectIndex + 1:
            accepted = handler.handleRouteSub(account: account, subject: tokens.fromStart(subjectIndex), queue: .empty, weight: 0)
        case subjectIndex + 3:
            // nats-server tolerates a missing or zero weight and counts it as one member.
            let weight = Swift.max(parseSize(tokens.fromStart(subjectIndex + 2)), 1)
            accepted = handler.handleRouteSub(
                account: account, subject: tokens.fromStart(subjectIndex), queue: tokens.fromStart(subjectIndex + 1), weight: weight)
        default:
            return .failed(.protocolViolation)
        }
        return accepted ? .next(line.lineEnd) : .stop(line.lineEnd)
    }

    /// `RS- [acc] <subject> [queue]` and `LS-` (natsd never advertises `lnocu`, so peers send LS-
    /// without an origin).
    @inlinable
    static func routeUnsubscribe<Handler: ProtocolHandler>(
        _ line: ControlLine, limits: ParserLimits, handler: Handler
    ) -> OpOutcome {
        let tokens = line.tokens(splitOnReturn: true)
        let subjectIndex = limits.routeAccountInProtocol ? 1 : 0
        let account = subjectIndex == 1 ? tokens.first0 : ByteSlice.empty
        let accepted: Bool
        switch tokens.count {
        case subjectIndex + 1:
            accepted = handler.handleRouteUnsub(account: account, subject: tokens.fromStart(subjectIndex), queue: .empty)
        case subjectIndex + 2:
            accepted = handler.handleRouteUnsub(
                account: account, subject: tokens.fromStart(subjectIndex), queue: tokens.fromStart(subjectIndex + 1))
        default:
            return .failed(.protocolViolation)
        }
        return accepted ? .next(line.lineEnd) : .stop(line.lineEnd)
    }

    /// `RMSG [acc] <subject> [reply] <size>`, `... + <reply> <q...> <size>`, `... | <q...> <size>`;
    /// HMSG/LMSG add a header size before the size. LMSG starts with an origin cluster (dropped).
    @inlinable
    static func routedMessage<Handler: ProtocolHandler>(
        _ line: ControlLine, headers: Bool, hasOrigin: Bool, limits: ParserLimits, handler: Handler
    ) -> OpOutcome {
        let tokens = line.tokens(splitOnReturn: true)
        let skip = hasOrigin ? 1 : 0
        // Work in nats-server's numbering, where the account is always token 0.
        let missingAccount = limits.routeAccountInProtocol ? 0 : 1
        let logicalCount = tokens.count - skip + missingAccount
        // Physical index of logical token `i`.
        let shift = skip - missingAccount
        let sizeFields = headers ? 2 : 1
        if hasOrigin && tokens.count < 1 { return .failed(.protocolViolation) }

        var reply = ByteSlice.empty
        var queues = QueueNames.none
        switch logicalCount - sizeFields {
        case ..<2:
            return .failed(.protocolViolation)
        case 2:
            break
        case 3:
            reply = tokens.fromStart(2 + shift)
        default:
            let indicator = tokens.fromStart(2 + shift)
            guard indicator.count == 1 else { return .failed(.protocolViolation) }
            let firstQueue: Int
            switch indicator.start[0] {
            case UInt8(ascii: "+"):
                reply = tokens.fromStart(3 + shift)
                firstQueue = 4 + shift
            case UInt8(ascii: "|"):
                firstQueue = 3 + shift
            default:
                return .failed(.protocolViolation)
            }
            let lastQueue = tokens.count - 1 - sizeFields
            if lastQueue >= firstQueue {
                queues = QueueNames(span: tokens.span(from: firstQueue, through: lastQueue), count: lastQueue - firstQueue + 1)
            }
        }
        let account = missingAccount == 0 ? tokens.fromStart(skip) : ByteSlice.empty
        let subject = tokens.fromStart(1 + shift)
        let sizes = messageSizes(tokens, headers: headers, limits: limits)
        if let fault = sizes.fault { return .failed(fault.error(size: sizes.size)) }
        switch line.payload(size: sizes.size) {
        case .complete(let payload, let next):
            let message = RoutedMessage(
                account: account, subject: subject, reply: reply, queues: queues, headerSize: sizes.headerSize, payload: payload)
            return handler.handleRoutedMessage(message) ? .next(next) : .stop(next)
        case .incomplete(let needed):
            return .incomplete(needed: needed)
        case .malformed:
            return .failed(.unknownOperation)
        }
    }
}
