import NATSAuth
import NATSProtocol

/// A client's permissions at work: the PUB and SUB checks with nats-server's `-ERR` texts (the connection
/// stays open), the delivery-side deny filter and the reply grants of `allow_responses`. A client without
/// permissions pays one nil check per PUB and per delivery; the rest is kept out of line.
extension ClientConnection {
    /// Takes on the permissions of the user the client (re)logged in as: fresh caches and no reply grants,
    /// as nats-server's `RegisterUser` sets them up anew on every CONNECT.
    /// Subscriptions made before a re-login are kept (as nats-server keeps them); with a subscribe deny list
    /// their deliveries are filtered from now on, whatever their subjects.
    /// Takes on what the client's login gave it: its account (this loop's matcher of it), its user name and
    /// its permissions. A client that logs in again into another account keeps its earlier subscriptions in
    /// the account they were made in (each subscription knows its account).
    func adoptLogin() {
        if let bound = worker.accounts.account(named: handshake.account), bound !== account {
            account = bound
            matcher = bound.matcher(onLoop: worker.index)
        }
        authorizedUser = handshake.user
        adoptPermissions(handshake.rules)
    }

    func adoptPermissions(_ rules: PermissionRules?) {
        permissions = rules.map { ClientPermissions(rules: $0) }
        filtersDeliveries = rules?.hasSubscribeDeny == true && !subscriptions.isEmpty
    }

    /// Whether the client may not publish to `subject`; the violation is answered here (nats-server's
    /// `pubPermissionViolation`).
    @inline(never)
    func publishDenied(subject: ByteSlice) -> Bool {
        guard let reference = permissionsReference else { return false }
        let now = worker.inputTime
        if reference._withUnsafeGuaranteedRef({ $0.allowsPublish(subject.buffer, now: now) }) { return false }
        let quoted = GoQuote.quoted(subject.buffer)
        sendErr("Permissions Violation for Publish to \(quoted)")
        server.logger.error("\(label) - Publish Violation - Subject \(quoted)")
        return true
    }

    /// Whether `reply` is one the server hands out itself (service import responses `_R_.`, JetStream
    /// acks, gateway replies), which no client may publish with; the violation is answered here
    /// (nats-server's `replySubjectViolation`).
    @inline(never)
    func replyDenied(_ reply: ByteSlice) -> Bool {
        guard ReservedReply.isReserved(reply) else { return false }
        let quoted = GoQuote.quoted(reply.buffer)
        sendErr("Permissions Violation for Publish with Reply of \(quoted)")
        server.logger.error("\(label) - Publish Violation - Reply \(quoted)")
        return true
    }

    /// Whether the client may not subscribe to `subject` in `queue`; the violation is answered here
    /// (nats-server's `subPermissionViolation`). A queue named `_sys_` is refused to every client, as
    /// nats-server reserves it.
    @inline(never)
    func subscribeDenied(subject: ByteSlice, queue: ByteSlice, sid: ByteSlice) -> Bool {
        let reservedQueue = queue.elementsEqual(ClientConnection.systemQueueGroup)
        if !reservedQueue {
            guard let permissions else { return false }
            if permissions.allowsSubscribe(subject: subject.buffer, queue: queue.buffer) {
                if permissions.filtersDeliveries { filtersDeliveries = true }
                return false
            }
        }
        let quotedSubject = GoQuote.quoted(subject.buffer)
        if queue.isEmpty {
            sendErr("Permissions Violation for Subscription to \(quotedSubject)")
            server.logger.error("\(label) - Subscription Violation - Subject \(quotedSubject), SID \(sid)")
        } else {
            let quotedQueue = GoQuote.quoted(queue.buffer)
            sendErr("Permissions Violation for Subscription to \(quotedSubject) using queue \(quotedQueue)")
            server.logger.error("\(label) - Subscription Violation - Subject \(quotedSubject), Queue: \(quotedQueue), SID \(sid)")
        }
        return true
    }

    /// nats-server's `sysGroup`.
    static let systemQueueGroup: [UInt8] = Array("_sys_".utf8)

    /// Whether a message on `subject` must not reach `subscription` of this client: its subscribe deny list
    /// denies the subject (a wildcard or queue subscription may match more than the client may receive;
    /// nats-server's `checkDenySub` in `deliverMsg`). Asked only while `filtersDeliveries` is set.
    @inline(never)
    package func deniesDelivery(of subject: ByteSlice, to subscription: Subscription) -> Bool {
        guard let reference = permissionsReference else { return false }
        let queue = subscription.queueBytes?.slice.buffer ?? UnsafeRawBufferPointer(start: nil, count: 0)
        return reference._withUnsafeGuaranteedRef { $0.deniesDelivery(of: subject.buffer, queue: queue) }
    }

    /// A message with `reply` was queued for this client: `allow_responses` grants the reply.
    @inline(never)
    func noteReplyDelivered(_ reply: ByteSlice) {
        let now = worker.inputTime
        permissionsReference?._withUnsafeGuaranteedRef { $0.messageDelivered(reply: reply.buffer, now: now) }
    }
}

/// Go's `%q` of a byte string, as nats-server quotes subjects in its `-ERR` texts: `"` and `\` escaped,
/// control bytes and bytes that are not UTF-8 as escapes, printable UTF-8 as it is.
enum GoQuote {
    static func quoted(_ bytes: UnsafeRawBufferPointer) -> String {
        var text = "\""
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""): text += "\\\""
            case UInt8(ascii: "\\"): text += "\\\\"
            case 0x07: text += "\\a"
            case 0x08: text += "\\b"
            case 0x0C: text += "\\f"
            case 0x0A: text += "\\n"
            case 0x0D: text += "\\r"
            case 0x09: text += "\\t"
            case 0x0B: text += "\\v"
            case 0x20..<0x7F: text.unicodeScalars.append(Unicode.Scalar(byte))
            case 0x80...:
                // One UTF-8 sequence, kept when valid and printable, else each byte escaped.
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                if length > 1, index + length <= count,
                   let scalar = String(validating: bytes[index..<index + length], as: UTF8.self),
                   scalar.unicodeScalars.allSatisfy({ $0.properties.generalCategory != .control && $0.properties.generalCategory != .format }) {
                    text += scalar
                    index += length
                    continue
                }
                text += "\\x" + hex(byte)
            default:
                text += "\\x" + hex(byte)
            }
            index += 1
        }
        return text + "\""
    }

    /// The same for a string (a user name, an nkey).
    static func quoted(_ text: String) -> String {
        Array(text.utf8).withUnsafeBytes { quoted($0) }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
    }
}

/// Reply subjects reserved for the server's own use (nats-server's `isReservedReply`).
enum ReservedReply {
    /// Each prefix with the shortest reply it reserves: `_R_.` itself already, the others only with
    /// something after them (nats-server's length checks).
    static let prefixes: [(bytes: [UInt8], minimumLength: Int)] = [
        (Array("_R_.".utf8), 4), (Array("$JS.ACK.".utf8), 9), (Array("_GR_.".utf8), 6),
    ]

    /// One byte compared per message with a reply: only `_` and `$` can start a reserved one.
    @inline(__always)
    static func mayBeReserved(_ reply: ByteSlice) -> Bool {
        reply.start[0] == UInt8(ascii: "_") || reply.start[0] == UInt8(ascii: "$")
    }

    static func isReserved(_ reply: ByteSlice) -> Bool {
        prefixes.contains { prefix in
            reply.count >= prefix.minimumLength && prefix.bytes.indices.allSatisfy { reply.start[$0] == prefix.bytes[$0] }
        }
    }
}
