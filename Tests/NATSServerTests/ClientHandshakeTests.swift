import NATSAuth
import NATSConfig
import NATSJSON
import NATSProtocol
import Testing
@testable import NATSServer

/// The client handshake as a state machine, without sockets: the first-op rule, no_auth_user, CONNECT
/// validation and the auth timeout (nats-server's rules; the same cases run over TCP in
/// `InProcessErrorTests` and against both servers in Tests/BlackBox/test_auth.py).
@Suite struct ClientHandshakeTests {
    /// nats-server's `authViolation`: the error names the credentials offered, if any (`getAuthUser`).
    private static func violation(_ logged: String = "authentication error") -> ClientHandshake.Rejection {
        ClientHandshake.Rejection(errorText: "Authorization Violation", reason: .authenticationViolation, log: .error(logged))
    }

    private static func authenticator(_ configure: (inout ServerOptions) -> Void = { _ in }) -> Authenticator {
        var options = ServerOptions()
        configure(&options)
        return Authenticator(options: options)
    }

    private static let open = authenticator()
    private static let alice = authenticator { $0.username = "alice"; $0.password = "secret" }
    private static let withGuest = authenticator { options in
        options.users = [.init(username: "alice", password: "secret"), .init(username: "guest", password: "guest")]
        options.noAuthUser = "guest"
    }

    private func handshake(_ authenticator: Authenticator, now: UInt64 = 1000) -> ClientHandshake {
        ClientHandshake(authenticationRequired: authenticator.isRequired, now: now, authTimeoutMilliseconds: 2000)
    }

    private func connect(_ handshake: inout ClientHandshake, _ json: String, authenticator: Authenticator,
                         current: ConnectOptions = ConnectOptions(), headersSupported: Bool = true) -> ClientHandshake.ConnectAction {
        Array(json.utf8).withUnsafeBytes { bytes in
            handshake.connectArrived(json: ByteSlice(bytes), current: current, authenticator: authenticator,
                                     headersSupported: headersSupported)
        }
    }

    private func accepted(_ action: ClientHandshake.ConnectAction) -> ConnectOptions? {
        if case .accept(let options) = action { return options }
        return nil
    }

    // MARK: - Without authentication

    @Test func withoutAuthenticationAnyOpMayComeFirstAndNothingExpires() {
        var machine = handshake(Self.open)
        #expect(!machine.awaitsAuthentication)
        #expect(machine.opArrived(firstByte: UInt8(ascii: "P"), authenticator: Self.open) == .proceed)
        #expect(!machine.isConnected)
        #expect(machine.deadlinePassed(now: .max) == nil)
    }

    @Test func connectIsDecodedOverTheClientDefaults() throws {
        var machine = handshake(Self.open)
        let options = try #require(accepted(connect(&machine, #"{"verbose":false,"name":"n"}"#, authenticator: Self.open)))
        #expect(!options.verbose && options.pedantic && options.echo && options.name == "n")
        #expect(machine.isConnected)
    }

    @Test func laterConnectChangesOnlyTheFieldsItNames() throws {
        var machine = handshake(Self.open)
        let first = try #require(accepted(connect(&machine, #"{"verbose":false,"name":"n"}"#, authenticator: Self.open)))
        let second = try #require(accepted(connect(&machine, #"{"echo":false}"#, authenticator: Self.open, current: first)))
        #expect(!second.verbose && !second.echo && second.name == "n")
    }

    @Test(arguments: [
        (#"{"protocol":2}"#, "invalid client protocol", CloseReason.badClientProtocolVersion),
        (#"{"protocol":-1}"#, "invalid client protocol", CloseReason.badClientProtocolVersion),
        (#"{"no_responders":true}"#, "no responders requires headers support", CloseReason.noRespondersRequiresHeaders),
    ])
    func invalidConnectIsRejected(_ json: String, _ errorText: String, _ reason: CloseReason) {
        var machine = handshake(Self.open)
        let expected = ClientHandshake.Rejection(errorText: errorText, reason: reason, log: nil)
        #expect(connect(&machine, json, authenticator: Self.open) == .reject(expected))
    }

    @Test(arguments: [
        (#"{"account":"A"}"#, "authentication error"),
        (#"{"new_account":true,"user":"u"}"#, #"authentication error - User "u""#),
    ])
    func accountFieldsAreAnAuthenticationViolation(_ json: String, _ logged: String) {
        var machine = handshake(Self.open)
        #expect(connect(&machine, json, authenticator: Self.open) == .reject(Self.violation(logged)))
    }

    @Test(arguments: [#"{"verbose":1}"#, "{", #"{"user":5}"#, "[]"])
    func undecodableConnectClosesWithoutErrorButLogs(_ json: String) {
        var machine = handshake(Self.open)
        let silent = ClientHandshake.Rejection(errorText: nil, reason: .protocolViolation,
                                               log: .error(ClientHandshake.undecodableConnect))
        #expect(connect(&machine, json, authenticator: Self.open) == .reject(silent))
        #expect(!machine.isConnected)
    }

    @Test func noRespondersNeedsHeadersOnBothSides() {
        let json = #"{"headers":true,"no_responders":true}"#
        var supported = handshake(Self.open)
        #expect(accepted(connect(&supported, json, authenticator: Self.open))?.noResponders == true)
        var turnedOff = handshake(Self.open)
        let rejection = ClientHandshake.Rejection(errorText: "no responders requires headers support",
                                                  reason: .noRespondersRequiresHeaders, log: nil)
        #expect(connect(&turnedOff, json, authenticator: Self.open, headersSupported: false) == .reject(rejection))
    }

    // MARK: - With authentication

    @Test func firstOpMustBeConnect() {
        var machine = handshake(Self.alice)
        #expect(machine.awaitsAuthentication)
        #expect(machine.opArrived(firstByte: UInt8(ascii: "C"), authenticator: Self.alice) == .proceed)
        #expect(machine.opArrived(firstByte: UInt8(ascii: "c"), authenticator: Self.alice) == .proceed)
        #expect(machine.opArrived(firstByte: UInt8(ascii: "P"), authenticator: Self.alice) == .reject(Self.violation()))
        #expect(machine.opArrived(firstByte: UInt8(ascii: "S"), authenticator: Self.alice) == .reject(Self.violation()))
    }

    @Test(arguments: [
        (#"{"user":"alice","pass":"wrong"}"#, #"authentication error - User "alice""#),
        (#"{"user":"bob","pass":"secret"}"#, #"authentication error - User "bob""#),
        (#"{"auth_token":"guess"}"#, #"authentication error - Token "[REDACTED]""#),
        (#"{"nkey":"UABC","user":"alice"}"#, #"authentication error - Nkey "UABC""#),
        (#"{"jwt":"e30","auth_token":"guess"}"#, "authentication error"),
        ("{}", "authentication error"),
    ])
    func badCredentialsAreAnAuthenticationViolation(_ json: String, _ logged: String) {
        var machine = handshake(Self.alice)
        #expect(connect(&machine, json, authenticator: Self.alice) == .reject(Self.violation(logged)))
        #expect(machine.awaitsAuthentication)
    }

    @Test func goodCredentialsLogInAndStopTheDeadline() throws {
        var machine = handshake(Self.alice, now: 1000)
        #expect(machine.deadlinePassed(now: 2999) == nil)
        _ = try #require(accepted(connect(&machine, #"{"user":"alice","pass":"secret"}"#, authenticator: Self.alice)))
        #expect(machine.isConnected && !machine.awaitsAuthentication)
        #expect(machine.deadlinePassed(now: 10_000) == nil)
        // After login any op may come.
        #expect(machine.opArrived(firstByte: UInt8(ascii: "P"), authenticator: Self.alice) == .proceed)
    }

    @Test func laterConnectIsAuthenticatedAgain() throws {
        var machine = handshake(Self.alice)
        let first = try #require(accepted(connect(&machine, #"{"user":"alice","pass":"secret"}"#, authenticator: Self.alice)))
        // Decoded over the first, so the credentials stay unless named again.
        #expect(accepted(connect(&machine, #"{"verbose":false}"#, authenticator: Self.alice, current: first)) != nil)
        #expect(connect(&machine, #"{"pass":"bad"}"#, authenticator: Self.alice, current: first)
                == .reject(Self.violation(#"authentication error - User "alice""#)))
    }

    @Test func credentialsAreCheckedBeforeTheOtherFields() {
        var machine = handshake(Self.alice)
        #expect(connect(&machine, #"{"protocol":7}"#, authenticator: Self.alice) == .reject(Self.violation()))
    }

    @Test func noConnectByTheDeadlineIsAnAuthenticationTimeout() {
        let machine = handshake(Self.alice, now: 1000)
        #expect(machine.deadlinePassed(now: 2999) == nil)
        let timeout = ClientHandshake.Rejection(errorText: "Authentication Timeout", reason: .authenticationTimeout,
                                                log: .debug("Authentication Timeout"))
        #expect(machine.deadlinePassed(now: 3000) == timeout)
    }

    @Test func rejectedNoRespondersStillEndsTheAuthenticationWait() {
        var machine = handshake(Self.alice)
        let action = connect(&machine, #"{"user":"alice","pass":"secret","no_responders":true}"#, authenticator: Self.alice)
        let rejection = ClientHandshake.Rejection(errorText: "no responders requires headers support",
                                                  reason: .noRespondersRequiresHeaders, log: nil)
        #expect(action == .reject(rejection))
        #expect(machine.deadlinePassed(now: .max) == nil)
    }

    // MARK: - no_auth_user

    @Test func noAuthUserLetsAnotherFirstOpIn() {
        var machine = handshake(Self.withGuest)
        #expect(machine.awaitsAuthentication)
        #expect(machine.opArrived(firstByte: UInt8(ascii: "P"), authenticator: Self.withGuest) == .proceed)
        #expect(machine.isConnected)
        #expect(machine.deadlinePassed(now: .max) == nil)
    }

    @Test func noAuthUserCoversConnectWithoutCredentialsOnly() {
        var anonymous = handshake(Self.withGuest)
        #expect(accepted(connect(&anonymous, "{}", authenticator: Self.withGuest)) != nil)
        var named = handshake(Self.withGuest)
        #expect(connect(&named, #"{"user":"alice","pass":"x"}"#, authenticator: Self.withGuest)
                == .reject(Self.violation(#"authentication error - User "alice""#)))
    }

    @Test func noAuthUserWithBcryptPasswordAdmitsNoAnonymousClient() {
        // nats-server checks the stored password against itself, which a bcrypt hash never matches.
        let hashed = Self.authenticator { options in
            options.users = [.init(username: "guest", password: "$2b$04$sVVzpyxsvUgbOGRzcwmqee6wNEgreWXamuOYMbVpAaYHI6c/5MNzu")]
            options.noAuthUser = "guest"
        }
        // The hash is good: the user's own password logs in.
        #expect(hashed.authorize(user: "guest", pass: "guest", authToken: ""))
        var machine = handshake(hashed)
        #expect(machine.opArrived(firstByte: UInt8(ascii: "P"), authenticator: hashed) == .reject(Self.violation()))
        #expect(!machine.isConnected)
    }
}
