/// The operations the parser recognises, and the byte-wise verb matcher that finds them.
///
/// Matching is a small state machine over the first bytes of an op: it fails on the first byte that
/// cannot continue any verb (so `Px` is rejected before a newline arrives, as nats-server does) and
/// reports "incomplete" when the buffer ends inside a verb.
@usableFromInline
enum ProtocolVerb: UInt8 {
    case pub, headerPub, sub, unsub, ping, pong, ok, err, connect, info
    case routeSub, routeUnsub, leafSub, leafUnsub, routedMessage, headerMessage, leafMessage
    case accountSub, accountUnsub

    /// How the bytes right after the verb are treated.
    @usableFromInline
    enum ArgumentRule {
        /// One space or tab must follow (`PUB foo 1`); anything else is an unknown op.
        case separatorRequired
        /// Optional blanks then the argument (`CONNECT{...}` parses).
        case separatorOptional
        /// Everything up to the newline is ignored (`PING   `, `PINGx`).
        case ignored
    }

    @inlinable
    var argumentRule: ArgumentRule {
        switch self {
        case .ping, .pong, .ok: return .ignored
        case .connect, .info: return .separatorOptional
        default: return .separatorRequired
        }
    }
}

/// Result of matching a verb at some offset.
@usableFromInline
enum VerbMatch {
    case matched(ProtocolVerb, end: Int)
    case incomplete
    case unknown
}

@usableFromInline
enum VerbMatcher {
    /// Matches the verb starting at `position`. Letters compare case-insensitively.
    @inlinable
    static func match(_ base: UnsafePointer<UInt8>, at position: Int, end: Int, kind: ConnectionKind) -> VerbMatch {
        let raw = base[position]
        let isRoute = kind == .route
        // '+' and '-' must be compared unfolded: folding would also map 0x0B and 0x0D onto them.
        if raw == UInt8(ascii: "+") { return rest(base, position + 1, end, "ok", .ok) }
        if raw == UInt8(ascii: "-") { return rest(base, position + 1, end, "err", .err) }
        switch raw | 0x20 {
        case UInt8(ascii: "p"):
            guard position + 1 < end else { return .incomplete }
            switch base[position + 1] | 0x20 {
            case UInt8(ascii: "u") where !isRoute: return rest(base, position + 2, end, "b", .pub)
            case UInt8(ascii: "i"): return rest(base, position + 2, end, "ng", .ping)
            case UInt8(ascii: "o"): return rest(base, position + 2, end, "ng", .pong)
            default: return .unknown
            }
        case UInt8(ascii: "s"):
            return isRoute ? .unknown : rest(base, position + 1, end, "ub", .sub)
        case UInt8(ascii: "u"):
            return isRoute ? .unknown : rest(base, position + 1, end, "nsub", .unsub)
        case UInt8(ascii: "h"):
            guard position + 1 < end else { return .incomplete }
            switch base[position + 1] | 0x20 {
            case UInt8(ascii: "p") where !isRoute: return rest(base, position + 2, end, "ub", .headerPub)
            case UInt8(ascii: "m") where isRoute: return rest(base, position + 2, end, "sg", .headerMessage)
            default: return .unknown
            }
        case UInt8(ascii: "c"):
            return rest(base, position + 1, end, "onnect", .connect)
        case UInt8(ascii: "i"):
            return rest(base, position + 1, end, "nfo", .info)
        case UInt8(ascii: "r") where isRoute:
            return routeFamily(base, position + 1, end, sub: .routeSub, unsub: .routeUnsub, message: .routedMessage)
        case UInt8(ascii: "l") where isRoute:
            return routeFamily(base, position + 1, end, sub: .leafSub, unsub: .leafUnsub, message: .leafMessage)
        case UInt8(ascii: "a") where isRoute:
            guard position + 1 < end else { return .incomplete }
            switch base[position + 1] {
            case UInt8(ascii: "+"): return .matched(.accountSub, end: position + 2)
            case UInt8(ascii: "-"), UInt8(ascii: "u"): return .matched(.accountUnsub, end: position + 2)
            default: return .unknown
            }
        default:
            return .unknown
        }
    }

    /// `RS+` / `RS-` / `RMSG` and the `L` equivalents.
    @inlinable
    static func routeFamily(_ base: UnsafePointer<UInt8>, _ position: Int, _ end: Int, sub: ProtocolVerb, unsub: ProtocolVerb, message: ProtocolVerb) -> VerbMatch {
        guard position < end else { return .incomplete }
        switch base[position] | 0x20 {
        case UInt8(ascii: "s"):
            guard position + 1 < end else { return .incomplete }
            switch base[position + 1] {
            case UInt8(ascii: "+"): return .matched(sub, end: position + 2)
            case UInt8(ascii: "-"): return .matched(unsub, end: position + 2)
            default: return .unknown
            }
        case UInt8(ascii: "m"):
            return rest(base, position + 1, end, "sg", message)
        default:
            return .unknown
        }
    }

    /// Matches the remaining lowercase `letters` of a verb.
    @inlinable
    static func rest(_ base: UnsafePointer<UInt8>, _ position: Int, _ end: Int, _ letters: StaticString, _ verb: ProtocolVerb) -> VerbMatch {
        let expected = letters.utf8Start
        var index = 0
        while index < letters.utf8CodeUnitCount {
            let at = position + index
            if at >= end { return .incomplete }
            if base[at] | 0x20 != expected[index] { return .unknown }
            index += 1
        }
        return .matched(verb, end: position + index)
    }
}
