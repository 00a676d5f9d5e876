import NATSAuth
import NATSJSON
import NATSProtocol

/// A client's way in, as a state machine: from accept until a CONNECT is accepted (or the client is let
/// in as `no_auth_user`), and every later CONNECT. It decides; `ClientConnection` carries out what it
/// returns (adopt options, send `-ERR`, log, close). No socket, clock or logger here: times come in as
/// loop milliseconds.
///
/// The rules are nats-server's (reference §1.2 and §1.5, observed on 2.15.1):
/// - with authentication required, the first op must be CONNECT, else `-ERR 'Authorization Violation'`
///   and close; with a `no_auth_user` a client sending another op first is logged in as that user instead
///   (parser.go) and the op goes on;
/// - CONNECT JSON that does not decode (bad syntax, a field of the wrong type) closes without `-ERR`;
///   bad credentials, and the obsolete `account`/`new_account` fields, are `Authorization Violation`;
///   a `protocol` other than 0 or 1 is `invalid client protocol`; `no_responders` without header support
///   is `no responders requires headers support`; each of these closes (client.go `processConnect`);
/// - a second CONNECT is decoded over the options of the first and checked again, credentials included;
/// - with authentication required, no CONNECT within the auth timeout is `Authentication Timeout`.
package struct ClientHandshake {
    package enum State: Equatable {
        /// No CONNECT accepted yet; `authDeadline` (loop milliseconds) when authentication is required.
        case awaitingConnect(authDeadline: UInt64?)
        /// A CONNECT was accepted, or the client was let in as `no_auth_user`.
        case connected
    }

    /// Why and how a client is turned away: the connection is closed after `errorText` (if any) was
    /// written as `-ERR '<text>'`.
    package struct Rejection: Equatable, Sendable {
        /// The `-ERR` text; nil closes without one.
        package let errorText: String?
        package let reason: CloseReason
        /// What the server logs after the client's label, nil for nothing.
        package let log: LogLine?
    }

    /// A line logged about a client turned away, at nats-server's level for it.
    package enum LogLine: Equatable, Sendable {
        case error(String)
        case debug(String)
    }

    /// What the connection does with the op that starts a read.
    package enum OpAction: Equatable {
        /// Go on with the op.
        case proceed
        /// Close the connection as the rejection says; process nothing more.
        case reject(Rejection)
    }

    /// What the connection does with a CONNECT.
    package enum ConnectAction: Equatable {
        /// Accepted: these are the client's options from now on (`+OK` first when verbose).
        case accept(ConnectOptions)
        /// Close the connection as the rejection says; process nothing more.
        case reject(Rejection)
    }

    package private(set) var state: State
    /// The permissions of the user the client logged in as (nil: none), set with every accepted login.
    package private(set) var rules: PermissionRules?
    /// The account of that user (empty: `$G`) and its name, set with every accepted login.
    package private(set) var account = ""
    package private(set) var user = ""

    /// A new client's handshake. `now` is the loop time of accept; with `authenticationRequired` the
    /// client has `authTimeoutMilliseconds` from then to send an accepted CONNECT.
    package init(authenticationRequired: Bool, now: UInt64, authTimeoutMilliseconds: UInt64) {
        state = .awaitingConnect(authDeadline: authenticationRequired ? now + authTimeoutMilliseconds : nil)
    }

    /// Whether a CONNECT was accepted (or the client let in as `no_auth_user`).
    package var isConnected: Bool { state == .connected }

    /// Whether ops must wait for CONNECT: authentication is required and none was accepted yet.
    package var awaitsAuthentication: Bool {
        if case .awaitingConnect(authDeadline: .some) = state { return true }
        return false
    }

    /// An op starting with `firstByte` arrived (checked once per read: a read always starts at an op,
    /// since a connection keeps an unparsed tail for the next). Before authentication only CONNECT may
    /// come, unless a `no_auth_user` lets the client in.
    package mutating func opArrived(firstByte: UInt8, authenticator: Authenticator) -> OpAction {
        guard awaitsAuthentication, firstByte != UInt8(ascii: "C"), firstByte != UInt8(ascii: "c") else { return .proceed }
        guard authenticator.hasNoAuthUser,
              let login = authenticator.login(user: "", pass: "", authToken: "", nkey: "", signature: "", nonce: []) else {
            // No CONNECT yet, so no credentials to name.
            return .reject(ClientHandshake.authenticationViolation(ConnectOptions()))
        }
        rules = login.rules
        account = login.account
        user = login.user
        state = .connected
        return .proceed
    }

    /// What natsd logs, at error level, for CONNECT JSON that does not decode.
    package static let undecodableConnect = "invalid CONNECT JSON"

    /// A CONNECT with argument `json` arrived; `current` are the client's options (the defaults before
    /// the first CONNECT). `headersSupported` is false when the server turned header support off; `nonce`
    /// is the one the client's INFO carried (empty without nkey users), which an nkey user signs;
    /// `certificate` is the client's verified certificate when `verify_and_map` can log it in by it.
    package mutating func connectArrived(json: ByteSlice, current: ConnectOptions, authenticator: Authenticator,
                                         headersSupported: Bool, nonce: [UInt8] = [],
                                         certificate: CertificateIdentity? = nil) -> ConnectAction {
        // A later CONNECT changes only the fields it names, as nats-server decodes it over the client's
        // current options (a `CONNECT {}` keeps verbose off once it was turned off).
        let decoded = isConnected ? ConnectOptions.decode(json, over: current) : ConnectOptions.decode(json)
        guard let options = decoded else {
            // nats-server logs Go's decoder error here ("invalid character 'b' looking for beginning of
            // object key string"); natsd's decoder reports no reason, so it logs its own words in that place.
            return .reject(Rejection(errorText: nil, reason: .protocolViolation, log: .error(Self.undecodableConnect)))
        }
        let login = authenticator.isRequired
            ? authenticator.login(user: options.user, pass: options.pass, authToken: options.authToken,
                                  nkey: options.nkey, signature: options.sig, nonce: nonce, certificate: certificate)
            : Authenticator.Login(rules: authenticator.defaultRules)
        guard let login, !options.hasAccount else { return .reject(ClientHandshake.authenticationViolation(options)) }
        if options.protocolVersion < 0 || options.protocolVersion > 1 {
            return .reject(Rejection(errorText: "invalid client protocol", reason: .badClientProtocolVersion, log: nil))
        }
        // Logged in, whatever follows: nats-server clears the auth timer before the header check.
        state = .connected
        rules = login.rules
        account = login.account
        user = login.user
        if options.noResponders && !(options.headers && headersSupported) {
            return .reject(Rejection(errorText: "no responders requires headers support",
                                     reason: .noRespondersRequiresHeaders, log: nil))
        }
        return .accept(options)
    }

    /// The housekeeping tick at loop time `now`: a client still unauthenticated at its deadline is turned
    /// away, logged at debug level only, as nats-server's `authTimeout` does; nil otherwise.
    package func deadlinePassed(now: UInt64) -> Rejection? {
        guard case .awaitingConnect(authDeadline: let deadline?) = state, now >= deadline else { return nil }
        return Rejection(errorText: "Authentication Timeout", reason: .authenticationTimeout, log: .debug("Authentication Timeout"))
    }

    /// A login refused: credentials that do not log in, the obsolete account fields, or no CONNECT first.
    /// nats-server's `authViolation`: an error naming the credentials `options` offered, then
    /// `-ERR 'Authorization Violation'`.
    package static func authenticationViolation(_ options: ConnectOptions) -> Rejection {
        Rejection(errorText: "Authorization Violation", reason: .authenticationViolation,
                  log: .error(options.authenticationErrorText))
    }
}
