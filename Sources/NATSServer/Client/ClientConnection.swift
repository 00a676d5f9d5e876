import NATSAuth
import NATSConfig
import NATSJSON
import Logging
import NATSProtocol
import NATSSublist
import UVLoop

/// One client connection: the protocol state of a NATS client on top of a `TCPConnection`.
package final class ClientConnection {
    /// The server outlives every connection; unowned(unsafe) keeps refcounting off the per-message path.
    unowned(unsafe) let server: Server
    /// The loop serving this client (its state is this worker's); it outlives the connection.
    unowned(unsafe) let worker: LoopWorker
    package let id: UInt64
    package let connection: TCPConnection
    let maxPending: Int
    package let startedAt: UInt64

    /// CONNECT options; server-side defaults until the client sends CONNECT.
    package var connectOptions = ConnectOptions()
    /// Where the client stands in its CONNECT and authentication (and its auth deadline).
    var handshake: ClientHandshake
    /// Set once `-ERR`/close has been decided: stop parsing and delivering.
    var isClosed = false
    var closeReason: CloseReason?

    /// What the user the client logged in as may publish and subscribe to; nil: anything (a PUB then costs
    /// one nil check). See ClientConnection+Permissions.swift.
    var permissions: ClientPermissions? {
        didSet { permissionsReference = permissions.map { Unmanaged.passUnretained($0) } }
    }
    /// `permissions` unretained, for the per-message checks (no reference counting; `permissions` keeps it).
    var permissionsReference: Unmanaged<ClientPermissions>?
    /// Set while deliveries must be checked against the subscribe deny list (`deniesDelivery`): one flag
    /// read per delivery.
    package var filtersDeliveries = false
    /// The `nonce` of this client's INFO, which an nkey user signs in CONNECT; empty without nkey users.
    let nonce: [UInt8]

    /// The account the client is bound to (`$G` until a login names another), and this loop's matcher of
    /// it, read per PUB. Accounts live as long as the server.
    package unowned(unsafe) var account: Account
    unowned(unsafe) var matcher: SublistMatcher<Subscription>
    /// The user the client logged in as (`/connz?auth=1`'s `authorized_user`); empty without a users list.
    package var authorizedUser = ""

    /// Subscriptions by sid. SUB/UNSUB are not on the per-message path, so a plain dictionary is fine.
    package var subscriptions: [[UInt8]: Subscription] = [:]

    /// When the client last did what /connz shows as activity (`last_activity`, `idle`; loop milliseconds):
    /// its CONNECT, a read carrying messages or (un)subscriptions, a message delivered to it. A read of
    /// PINGs or PONGs alone is not activity. These are nats-server's updates of `c.last` (client.go
    /// `processConnect`, `readLoop`, `flushClients`).
    package var lastActivity: UInt64

    // Keep-alive and authentication deadlines (loop milliseconds); checked by the server's housekeeping.
    /// When the client last sent messages, (un)subscriptions or a PING (nats-server's `c.lastIn`): the
    /// server skips its own PING while this is recent.
    var lastInput: UInt64
    var nextPingAt: UInt64
    var pingsOutstanding = 0
    /// Set by the first PONG: until then every ping tick sends a PING (nats-server measures RTT).
    var hasAnsweredPing = false
    /// Write deadline bookkeeping: output progress seen at the last check, and since when it stalled.
    var bytesWrittenAtLastCheck = 0
    var writeStalledSince: UInt64 = 0
    /// Round-trip time (nanoseconds, monotonic clock) for /connz `rtt`, as nats-server measures it: first the
    /// time from accept to CONNECT, then from each server PING to the PONG that answers it. 0: unknown.
    package var rttNanoseconds: UInt64 = 0
    /// When the connection was accepted, then when the last server PING went out (monotonic nanoseconds).
    var rttStartNanoseconds = EventLoop.monotonicNanoseconds
    /// Clients speaking protocol 1 get an INFO with `connect_info` after their first PONG.
    var sentFirstPong = false

    /// Statistics for /connz and /varz.
    package var counters = MessageCounters()

    init(worker: LoopWorker, id: UInt64, connection: TCPConnection) {
        let server = worker.server
        self.server = server
        self.worker = worker
        self.id = id
        self.connection = connection
        self.maxPending = worker.options.maxPending
        self.account = worker.accounts.global
        self.matcher = worker.accounts.global.matcher(onLoop: worker.index)
        let now = connection.loop.now
        self.startedAt = now
        self.lastActivity = now
        self.lastInput = now
        // Until CONNECT the full interval: a client still in its TLS handshake gets no PING
        // (nats-server's setPingTimer at accept; `handleConnect` starts the short first one).
        self.nextPingAt = now + worker.pingIntervalMilliseconds
        let authenticator = worker.authenticator
        self.handshake = ClientHandshake(authenticationRequired: authenticator.isRequired, now: now,
                                         authTimeoutMilliseconds: UInt64(worker.options.authTimeoutSeconds * 1000))
        self.nonce = authenticator.requiresNonce ? Array(ServerIdentity.newNonce(length: 15).utf8) : []
        // Without authentication every client is held to the authorization block's permissions, if any.
        if !authenticator.isRequired, let rules = authenticator.defaultRules {
            let permissions = ClientPermissions(rules: rules)
            self.permissions = permissions
            self.permissionsReference = Unmanaged.passUnretained(permissions)
        }
    }

    var echo: Bool { connectOptions.echo }
    var supportsHeaders: Bool { connectOptions.headers && !worker.options.noHeaderSupport }
    var label: String { "\(connection.remoteHost):\(connection.remotePort) - cid:\(id)" }

    /// Sends INFO and starts reading; with TLS, the handshake follows INFO (or, with `handshake_first`,
    /// comes first and INFO is the first encrypted line), as nats-server's `createClient` orders them.
    func start() {
        connection.delegate = self
        connection.setNoDelay(true)
        server.logger.debug("\(label) - Client connection created")
        let info = server.clientInfoLine(for: self, nonce: nonce)
        guard let context = worker.clientTLS, let tls = worker.options.tls else {
            connection.write(info)
            return connection.startReading()
        }
        let timeout = UInt64(max(tls.timeoutSeconds, 0) * 1000)
        if tls.handshakeFirst {
            connection.startTLS(context: context, handshakeTimeoutMilliseconds: timeout)
            connection.write(info)
        } else {
            connection.write(info)
            connection.startTLS(context: context, handshakeTimeoutMilliseconds: timeout)
        }
        server.logger.debug("\(label) - Starting TLS client connection handshake")
        connection.startReading()
    }

    /// The client published or changed its interest during the current read (see `lastActivity`).
    /// Ends a round-trip measurement started at accept or by a server PING (nats-server's `computeRTT`:
    /// never 0 once measured).
    func measureRoundTrip() {
        rttNanoseconds = max(EventLoop.monotonicNanoseconds &- rttStartNanoseconds, 1)
    }

    func noteActivity() {
        lastActivity = worker.inputTime
        lastInput = worker.inputTime
    }

    // MARK: - Output helpers (control traffic, not per message)

    func send(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        connection.write(bytes)
    }

    func sendOK() {
        if worker.isTracing { server.traceOut(label, "OK") }
        send(ControlLines.ok)
    }

    func sendErr(_ text: String) {
        if worker.isTracing { server.traceOut(label, "-ERR '\(text)'") }
        send(FrameEncoder.errLine(text))
    }

    // MARK: - Closing

    /// Stops all processing for this client, drops its interest and closes the socket (after writing
    /// what is queued when `flush` is set, e.g. a final -ERR).
    func close(reason: CloseReason, flush: Bool) {
        guard !isClosed else { return }
        isClosed = true
        closeReason = reason
        // Copied before the subscriptions go: /connz `state=closed` lists them (nats-server's saveClosedClient).
        server.closedClients.append(ClosedClient(self, reason: reason))
        removeAllSubscriptions()
        worker.clientClosed(self)
        closeTransport(flush: flush)
        // nats-server logs client closes at debug level whatever the reason.
        server.logger.debug("\(label) - Client connection closed: \(reason.rawValue)")
    }

    /// The whole-connection error path used by protocol violations and auth failures.
    func fail(_ errorText: String?, reason: CloseReason) {
        if let errorText { sendErr(errorText) }
        close(reason: reason, flush: true)
    }

    /// Over max_connections, at accept or after a reload lowered it: `-ERR`, the same text logged as an error,
    /// then closed (nats-server's `maxConnExceeded`).
    func refuseOverMaxConnections() {
        server.logger.error("\(label) - maximum connections exceeded")
        fail("maximum connections exceeded", reason: .maxConnectionsExceeded)
    }

    /// A protocol error in the client's input ends it, logged first at error level as nats-server logs it:
    /// a PUB over max_payload with the size it announced and the limit (`maxPayloadViolation`; the limit is
    /// the one in force, lowered or raised by a reload), an overlong control line by its error text, a
    /// malformed op by `complaint`.
    func parseFailed(_ error: ProtocolError, complaint: @autoclosure () -> String?) {
        if error.reason == .maxPayloadExceeded {
            server.logger.error("\(label) - maximum payload exceeded: \(error.announcedSize) vs \(parserLimits.maxPayload)")
        } else if error.reason == .maxControlLineExceeded, let text = error.errorText {
            server.logger.error("\(label) - \(text)")
        } else if let complaint = complaint() {
            server.logger.error("\(label) - \(complaint)")
        }
        fail(error.errorText, reason: error.reason)
    }

    /// Carries out the handshake's verdict against this client: the log line, the -ERR, the close.
    func reject(_ rejection: ClientHandshake.Rejection) {
        switch rejection.log {
        case .error(let message): server.logger.error("\(label) - \(message)")
        case .debug(let message): server.logger.debug("\(label) - \(message)")
        case nil: break
        }
        fail(rejection.errorText, reason: rejection.reason)
    }
}

extension ClientConnection: ProtocolConnection {
    static var parserKind: ConnectionKind { .client }
    var parserLimits: ParserLimits { worker.clientParserLimits }
    var pendingLimit: Int { maxPending }
}

extension ClientConnection: TCPConnectionDelegate {
    package func connectionDidCompleteTLSHandshake(_ connection: TCPConnection) {
        server.logger.debug("\(label) - TLS handshake complete")
    }

    package func connectionDidRead(_ connection: TCPConnection, bytes: UnsafeRawBufferPointer) -> ReadDisposition {
        guard !isClosed else { return ReadDisposition(consumed: bytes.count, needed: 0) }
        // With auth required the very first op must be CONNECT; nats-server decides on the first byte.
        if handshake.awaitsAuthentication, let first = bytes.first {
            if case .reject(let rejection) = handshake.opArrived(firstByte: first, authenticator: worker.authenticator) {
                reject(rejection)
                return ReadDisposition(consumed: bytes.count, needed: 0)
            }
            // Let in as the no_auth_user by an op other than CONNECT: that user's permissions hold.
            if handshake.isConnected { adoptLogin() }
        }
        let messagesBefore = counters.inMessages
        let disposition = dispatchRead(bytes)
        // Per read, not per message: a read that published counts as activity once.
        if counters.inMessages != messagesBefore { noteActivity() }
        return disposition
    }

    package func connectionDidClose(_ connection: TCPConnection, error: UVError?) {
        if !isClosed && connection.isAwaitingTLSHandshake {
            // An error, as nats-server logs it: an operator must see clients refused for their certificates;
            // a probe (a plaintext peer, a timeout) only at debug level, as nats-server.
            let failure = TLSHandshakeFailure(connection, closeError: error, isRoute: false)
            if failure.isProbe {
                server.logger.debug("\(label) - \(failure.text)")
            } else {
                server.logger.error("\(label) - \(failure.text)")
            }
            close(reason: .tlsHandshakeError, flush: false)
        } else if !isClosed {
            close(reason: error == nil ? .clientClosed : .readError, flush: false)
        }
        connection.delegate = nil
    }
}
