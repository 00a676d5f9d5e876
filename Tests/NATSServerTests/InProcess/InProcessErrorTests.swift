import Foundation
import NATSConfig
import Testing
@testable import NATSServer

/// Protocol errors, the close rule (which -ERR ends the connection) and the client handshake, in-process
/// with raw bytes; the texts and the closes are nats-server 2.15.1's, observed with the same bytes.
@Suite struct InProcessErrorTests {
    /// Sends `input` on a fresh connection and expects exactly `error` as `-ERR '<error>'` and then the
    /// end of the connection.
    private func expectClosed(_ server: InProcessServer, after input: String, error: String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (client, _) = try server.connect()
        try client.send(input)
        let frames = try client.readUntilClosed()
        #expect(frames.map(\.text) == ["-ERR '\(error)'\r\n"], sourceLocation: sourceLocation)
    }

    @Test func unknownOperationIsAnErrorThatCloses() throws {
        try withServer { server in
            try expectClosed(server, after: "FOO bar\r\n", error: "Unknown Protocol Operation")
            // The server goes on serving others.
            let (other, _) = try server.connectClient()
            try other.flush()
        }
    }

    @Test func payloadOverTheMaximumIsAnErrorThatCloses() throws {
        try withServer({ $0.maxPayload = 16 }) { server in
            try expectClosed(server, after: "CONNECT {\"verbose\":false}\r\nPUB foo 17\r\n", error: "Maximum Payload Violation")
        }
    }

    @Test func invalidSubjectIsAnErrorThatKeepsTheConnection() throws {
        try withServer { server in
            let (client, _) = try server.connectClient()
            try client.send("SUB foo..bar 1\r\nPING\r\n")
            let expected = "-ERR 'Invalid Subject'\r\nPONG\r\n"
            #expect(try client.readFrames(totalling: expected.utf8.count) == expected)
        }
    }

    @Test func clientSendingErrIsClosedSilently() throws {
        try withServer { server in
            let (client, _) = try server.connect()
            try client.send("-ERR 'nope'\r\n")
            #expect(try client.readUntilClosed().isEmpty)
        }
    }

    @Test(arguments: [
        (#"{"verbose":false,"protocol":2}"#, "invalid client protocol"),
        (#"{"verbose":false,"protocol":-1}"#, "invalid client protocol"),
        (#"{"verbose":false,"account":"A"}"#, "Authorization Violation"),
        (#"{"verbose":false,"no_responders":true}"#, "no responders requires headers support"),
    ])
    func connectRejected(_ json: String, _ error: String) throws {
        try withServer { server in
            try expectClosed(server, after: "CONNECT \(json)\r\nPING\r\n", error: error)
        }
    }

    @Test func malformedConnectClosesWithoutError() throws {
        try withServer { server in
            let (client, _) = try server.connect()
            try client.send("CONNECT {\"verbose\":1}\r\nPING\r\n")
            #expect(try client.readUntilClosed().isEmpty)
        }
    }

    @Test func requestWithoutRespondersGetsStatus503() throws {
        try withServer { server in
            let (client, _) = try server.connectClient(#"{"verbose":false,"headers":true,"no_responders":true}"#)
            try client.send("SUB rep 1\r\nPUB nobody rep 0\r\n\r\nPING\r\n")
            let expected = "HMSG rep 1 38 38\r\nNATS/1.0 503\r\nNats-Subject: nobody\r\n\r\n\r\nPONG\r\n"
            #expect(try client.readFrames(totalling: expected.utf8.count) == expected)
            // With a responder there is no status.
            try client.send("SUB nobody 2\r\nPUB nobody rep 1\r\nx\r\nPING\r\n")
            let answered = "MSG nobody 2 rep 1\r\nx\r\nPONG\r\n"
            #expect(try client.readFrames(totalling: answered.utf8.count) == answered)
        }
    }

    // MARK: - Authentication

    private func withAuthServer(_ configure: (inout ServerOptions) -> Void = { _ in },
                                _ body: (InProcessServer) throws -> Void) throws {
        try withServer({ options in
            options.username = "alice"
            options.password = "secret"
            configure(&options)
        }, body)
    }

    @Test func authRequiredIsAnnounced() throws {
        try withAuthServer { server in
            let (_, info) = try server.connect()
            #expect((info["auth_required"] as? Bool) == true)
        }
    }

    @Test func firstOpOtherThanConnectIsAnAuthorizationViolation() throws {
        try withAuthServer { server in
            try expectClosed(server, after: "PING\r\n", error: "Authorization Violation")
            try expectClosed(server, after: "SUB foo 1\r\n", error: "Authorization Violation")
        }
    }

    @Test func wrongCredentialsAreAnAuthorizationViolation() throws {
        try withAuthServer { server in
            try expectClosed(server, after: "CONNECT {\"user\":\"alice\",\"pass\":\"wrong\"}\r\nPING\r\n",
                             error: "Authorization Violation")
            try expectClosed(server, after: "CONNECT {}\r\nPING\r\n", error: "Authorization Violation")
        }
    }

    @Test func rightCredentialsLogIn() throws {
        try withAuthServer { server in
            let (client, _) = try server.connectClient(#"{"verbose":false,"user":"alice","pass":"secret"}"#)
            // A later CONNECT is checked again.
            try client.send("CONNECT {\"user\":\"alice\",\"pass\":\"bad\"}\r\nPING\r\n")
            #expect(try client.readUntilClosed().map(\.text) == ["-ERR 'Authorization Violation'\r\n"])
        }
    }

    @Test func connectTooLateIsAnAuthenticationTimeout() throws {
        try withAuthServer({ $0.authTimeoutSeconds = 0.2 }) { server in
            let (client, _) = try server.connect()
            #expect(try client.readUntilClosed().map(\.text) == ["-ERR 'Authentication Timeout'\r\n"])
        }
    }

    @Test func noAuthUserLogsInAClientWithoutCredentials() throws {
        try withServer({ options in
            options.users = [.init(username: "alice", password: "secret"), .init(username: "guest", password: "guest")]
            options.noAuthUser = "guest"
        }) { server in
            // Without CONNECT at all, as a telnet session would.
            let (client, info) = try server.connect()
            #expect(info["auth_required"] == nil)
            try client.send("SUB foo 1\r\nPUB foo 2\r\nhi\r\nPING\r\n")
            let expected = "+OK\r\n+OK\r\nMSG foo 1 2\r\nhi\r\nPONG\r\n"
            #expect(try client.readFrames(totalling: expected.utf8.count) == expected)
            // A named user still needs the right password.
            try expectClosed(server, after: "CONNECT {\"user\":\"alice\",\"pass\":\"x\"}\r\n", error: "Authorization Violation")
        }
    }
}
