/// Receives parsed ops. Every method returns false to stop parsing at once (the connection is closing);
/// the parser then returns with `consumed` just past that op.
///
/// All slices point into the buffer handed to `ProtocolParser.parse` and are valid only during the call.
public protocol ProtocolHandler: AnyObject {
    /// PUB (headerSize == -1) or HPUB (headerSize = header bytes, payload = headers + body). reply is empty when absent.
    func handlePub(subject: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) -> Bool
    /// SUB; queue is empty when absent.
    func handleSub(subject: ByteSlice, queue: ByteSlice, sid: ByteSlice) -> Bool
    /// UNSUB; max is -1 when absent (also when not a valid number, as nats-server).
    func handleUnsub(sid: ByteSlice, max: Int) -> Bool
    /// CONNECT with a non-empty argument (the JSON text, not yet validated).
    func handleConnect(json: ByteSlice) -> Bool
    /// INFO with a non-empty argument. nats-server validates the JSON even from clients (bad JSON ⇒
    /// silent close, "Protocol Violation") and otherwise ignores a client's INFO.
    func handleInfo(json: ByteSlice) -> Bool
    func handlePing() -> Bool
    func handlePong() -> Bool
    func handleOK() -> Bool
    /// `-ERR`; its argument as sent, usually `'<text>'` with the quotes. nats-server closes the sender ("Parse Error").
    func handleErr(message: ByteSlice) -> Bool
    /// RS+ (and LS+ with the origin dropped). account is empty on pinned routes.
    /// weight is 0 for a plain subscription, ≥ 1 for a queue subscription.
    func handleRouteSub(account: ByteSlice, subject: ByteSlice, queue: ByteSlice, weight: Int) -> Bool
    /// RS- (and LS-). account is empty on pinned routes.
    func handleRouteUnsub(account: ByteSlice, subject: ByteSlice, queue: ByteSlice) -> Bool
    /// RMSG, HMSG from a route, and LMSG (origin dropped).
    func handleRoutedMessage(_ message: RoutedMessage) -> Bool
}

/// One message received on a route connection.
public struct RoutedMessage {
    /// Empty on a pinned-account route (the account is implied by the connection).
    public var account: ByteSlice
    public var subject: ByteSlice
    /// Empty when absent.
    public var reply: ByteSlice
    /// Queue groups the sender chose this server for; empty when the message carries no queue list.
    public var queues: QueueNames
    /// Header bytes at the start of `payload`; -1 for RMSG.
    public var headerSize: Int
    /// Headers + body.
    public var payload: ByteSlice

    @inlinable
    public init(account: ByteSlice, subject: ByteSlice, reply: ByteSlice, queues: QueueNames, headerSize: Int, payload: ByteSlice) {
        self.account = account
        self.subject = subject
        self.reply = reply
        self.queues = queues
        self.headerSize = headerSize
        self.payload = payload
    }
}

/// The queue names of an RMSG (`+ reply q1 q2` / `| q1 q2`), iterated without allocating.
///
/// Stored as the span of the control line from the first to the last queue name; iteration splits it
/// on spaces, tabs and `\r`, the separators the parser counted the names with (route ops split on
/// `\r` as nats-server does), so `count` and the names iterated always agree.
public struct QueueNames: Sequence {
    /// The bytes from the first queue name to the end of the last one.
    public let span: ByteSlice
    /// Number of queue names.
    public let count: Int

    @inlinable
    public init(span: ByteSlice, count: Int) {
        self.span = span
        self.count = count
    }

    /// No queue names.
    @inlinable public static var none: QueueNames { QueueNames(span: .empty, count: 0) }

    @inlinable public var isEmpty: Bool { count == 0 }

    @inlinable
    public func makeIterator() -> Iterator { Iterator(span: span) }

    /// Yields each queue name as a slice of the control line.
    public struct Iterator: IteratorProtocol {
        @usableFromInline var cursor: UnsafePointer<UInt8>
        @usableFromInline let end: UnsafePointer<UInt8>

        @inlinable
        init(span: ByteSlice) {
            cursor = span.start
            end = span.start + span.count
        }

        @inlinable
        public mutating func next() -> ByteSlice? {
            while cursor < end && Iterator.isSeparator(cursor.pointee) { cursor += 1 }
            if cursor >= end { return nil }
            let tokenStart = cursor
            while cursor < end && !Iterator.isSeparator(cursor.pointee) { cursor += 1 }
            return ByteSlice(start: tokenStart, count: cursor - tokenStart)
        }

        /// Space, tab or `\r`: what `ArgumentTokens` splits route-op arguments on.
        @inlinable
        static func isSeparator(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }
    }
}
