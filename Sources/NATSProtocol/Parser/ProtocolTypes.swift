/// Which side of the protocol a connection speaks; decides which verbs the parser accepts.
public enum ConnectionKind: Sendable {
    case client, route
}

/// Per-connection limits the parser enforces while scanning.
public struct ParserLimits: Sendable {
    /// Longest accepted argument part of a control line (bytes after the verb, before CRLF).
    public var maxControlLine: Int
    /// Largest PUB/HPUB total size accepted (checked on the control line).
    public var maxPayload: Int
    /// True when RS+/RS-/RMSG/HMSG carry an account token (every route except pinned-account routes).
    public var routeAccountInProtocol: Bool

    public init(maxControlLine: Int = 4096, maxPayload: Int = 1_048_576, routeAccountInProtocol: Bool = true) {
        self.maxControlLine = maxControlLine
        self.maxPayload = maxPayload
        self.routeAccountInProtocol = routeAccountInProtocol
    }

    /// Limits for a route connection: 16× the configured control line (as nats-server) and no payload limit.
    /// Routes get 16× the control line. nats-server puts no payload limit on routes; natsd bounds it
    /// (default 64 MiB, nats-server's largest sensible max_payload) so a broken peer cannot make it
    /// allocate a gigabyte for one frame.
    public static func route(maxControlLine: Int = 4096, maxPayload: Int = 64 * 1024 * 1024,
                             routeAccountInProtocol: Bool = true) -> ParserLimits {
        ParserLimits(maxControlLine: maxControlLine &* 16, maxPayload: maxPayload, routeAccountInProtocol: routeAccountInProtocol)
    }
}

/// What one call of `ProtocolParser.parse` achieved.
public struct ParseResult: Sendable, Equatable {
    /// Bytes of complete ops handled; the caller keeps the rest and hands it back with more bytes.
    public var consumed: Int
    /// Total bytes the incomplete op at `consumed` needs (control line + payload + CRLF) when its
    /// control line is complete, else 0. Lets the caller grow its buffer once for a large payload.
    public var needed: Int
    /// Set ⇒ stop; the caller sends `-ERR '<errorText>'` when `errorText` is not nil, then closes.
    public var error: ProtocolError?

    @inlinable
    public init(consumed: Int, needed: Int = 0, error: ProtocolError? = nil) {
        self.consumed = consumed
        self.needed = needed
        self.error = error
    }
}

/// A protocol error that ends the connection.
public struct ProtocolError: Error, Sendable {
    /// The `-ERR` text without quotes, e.g. "Unknown Protocol Operation"; nil ⇒ close silently.
    public var errorText: String?
    /// The close reason to report in /connz.
    public var reason: CloseReason
    /// The size a refused PUB/HPUB announced (bytes, headers included): nats-server logs it with the limit.
    /// 0 for the other errors.
    public var announcedSize: Int

    /// What nats-server writes to its log about this error (see `Complaint`); `.none` for errors logged
    /// elsewhere or not at all.
    public var complaint: Complaint
    /// Where the bytes the log line quotes start and how many there are: offsets into the buffer handed to
    /// `ProtocolParser.parse` (the control line's arguments, or for `.parserError` the op's start).
    public var quotedStart: Int
    public var quotedCount: Int

    @inlinable
    public init(errorText: String?, reason: CloseReason, announcedSize: Int = 0,
                complaint: Complaint = .none, quotedStart: Int = 0, quotedCount: Int = 0) {
        self.errorText = errorText
        self.reason = reason
        self.announcedSize = announcedSize
        self.complaint = complaint
        self.quotedStart = quotedStart
        self.quotedCount = quotedCount
    }

    /// The log line nats-server writes (at error level) for a malformed op, named by the function of its
    /// parser that finds it. The server layer formats the line, so the parser stays free of strings.
    public enum Complaint: Sendable, Equatable {
        case none
        /// `<kind> parser ERROR, state=…, i=…: proto='<bytes>...'`: an op nats-server's state machine rejects.
        case parserError
        case pubArguments, pubSize
        case headerPubArguments, headerPubHeaderSize, headerPubTotalSize, headerPubHeaderOverTotal
        case subArguments, unsubArguments
        /// CONNECT without its JSON: Go's decoder says "unexpected end of JSON input".
        case emptyJSON
    }

    /// A malformed control line: closed silently (`protocolViolation`), logged as `complaint` quoting `line`'s arguments.
    @inlinable
    static func malformed(_ complaint: Complaint, _ line: ControlLine) -> ProtocolError {
        ProtocolError(errorText: nil, reason: .protocolViolation, complaint: complaint,
                      quotedStart: line.argumentStart, quotedCount: line.argumentLength)
    }

    /// Unknown or malformed verb, or a payload not followed by CRLF. nats-server sends the -ERR and
    /// then closes from its read loop with "Protocol Violation".
    public static let unknownOperation = ProtocolError(errorText: "Unknown Protocol Operation", reason: .protocolViolation,
                                                       complaint: .parserError)
    /// Control line longer than the limit.
    public static let maxControlLineExceeded = ProtocolError(errorText: "maximum control line exceeded", reason: .maxControlLineExceeded)
    /// A PUB/HPUB (or routed message) announcing `size` bytes, above max_payload.
    @inlinable
    public static func maxPayloadExceeded(size: Int) -> ProtocolError {
        ProtocolError(errorText: "Maximum Payload Violation", reason: .maxPayloadExceeded, announcedSize: size)
    }
    /// Wrong argument count, bad sizes, bad CONNECT/INFO argument: closed without any -ERR.
    public static let protocolViolation = ProtocolError(errorText: nil, reason: .protocolViolation)
}

extension ProtocolError: Equatable {
    /// The same error for the peer (its -ERR, the close reason, the size refused), whatever the log says.
    @inlinable
    public static func == (left: ProtocolError, right: ProtocolError) -> Bool {
        left.errorText == right.errorText && left.reason == right.reason && left.announcedSize == right.announcedSize
    }
}

/// Why a connection was closed, spelled as nats-server reports it in /connz (`reason`).
public enum CloseReason: String, Sendable {
    case clientClosed = "Client Closed"
    case authenticationTimeout = "Authentication Timeout"
    case authenticationViolation = "Authentication Failure"
    case tlsHandshakeError = "TLS Handshake Failure"
    case slowConsumerPendingBytes = "Slow Consumer (Pending Bytes)"
    case slowConsumerWriteDeadline = "Slow Consumer (Write Deadline)"
    case writeError = "Write Error"
    case readError = "Read Error"
    case parseError = "Parse Error"
    case staleConnection = "Stale Connection"
    case protocolViolation = "Protocol Violation"
    case badClientProtocolVersion = "Bad Client Protocol Version"
    case incorrectPort = "Incorrect Port"
    case maxConnectionsExceeded = "Maximum Connections Exceeded"
    case maxAccountConnectionsExceeded = "Maximum Account Connections Exceeded"
    case maxPayloadExceeded = "Maximum Message Payload Exceeded"
    case maxControlLineExceeded = "Maximum Control Line Exceeded"
    case maxSubscriptionsExceeded = "Maximum Subscriptions Exceeded"
    case duplicateRoute = "Duplicate Route"
    case routeRemoved = "Route Removed"
    case serverShutdown = "Server Shutdown"
    case authenticationExpired = "Authentication Expired"
    case missingAccount = "Missing Account"
    case noRespondersRequiresHeaders = "No Responders Requires Headers"
    case clusterNameConflict = "Cluster Name Conflict"
    case duplicateServerName = "Duplicate Server Name"
    case clusterNamesIdentical = "Cluster Names Identical"
    case messageHeaderViolation = "Message Header Violation"
    case kicked = "Kicked"
}
