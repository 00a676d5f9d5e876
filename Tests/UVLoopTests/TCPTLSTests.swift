import CLibUV
import Testing
@testable import UVLoop

/// TLS as a transform under the delegate: both ends of a loopback connection run natsd's TLS, so what a
/// delegate reads and writes is plaintext and what crosses the socket is not.
@Suite("TCP with TLS")
struct TCPTLSTests {
    let certificates = TestCertificates.shared

    func serverContext(verify: Bool = false) throws -> TLSContext {
        var configuration = TLSConfiguration(isServer: true)
        configuration.certificateFile = certificates.path("server.pem")
        configuration.privateKeyFile = certificates.path("server.key")
        configuration.caFile = certificates.path("ca.pem")
        configuration.verifyPeer = verify
        return try TLSContext(configuration)
    }

    func clientContext(certificate: String? = nil, ca: String = "ca") throws -> TLSContext {
        var configuration = TLSConfiguration(isServer: false)
        configuration.caFile = certificates.path("\(ca).pem")
        if let certificate {
            configuration.certificateFile = certificates.path("\(certificate).pem")
            configuration.privateKeyFile = certificates.path("\(certificate).key")
        }
        return try TLSContext(configuration)
    }

    /// A listener whose connections start TLS with `context` after writing `greeting` in the clear.
    func tlsServer(_ loop: EventLoop, context: TLSContext, greeting: [UInt8] = [], timeout: UInt64 = 0,
                   echo: Bool = true) throws -> TestServer<RecordingDelegate> {
        let server = try TestServer(loop: loop) { () -> RecordingDelegate in
            let delegate = RecordingDelegate()
            delegate.echo = echo
            return delegate
        }
        let listener = server.listener!
        listener.close()
        server.listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { [unowned server] connection in
            let delegate = RecordingDelegate()
            delegate.echo = echo
            server.delegates.append(delegate)
            server.connections.append(connection)
            connection.delegate = delegate
            if !greeting.isEmpty { connection.write(greeting) }
            connection.startTLS(context: context, handshakeTimeoutMilliseconds: timeout)
            connection.startReading()
        }
        return server
    }

    @Test func bytesRoundTripEncryptedAfterAClearGreeting() throws {
        let loop = try EventLoop()
        let greeting = Array("INFO {}\r\n".utf8)
        let server = try tlsServer(loop, context: try serverContext(), greeting: greeting)
        let client = try #require(try dial(loop, port: server.port)?.get())
        let clientDelegate = RecordingDelegate()
        client.delegate = clientDelegate
        client.startReading()
        #expect(runLoop(loop) { clientDelegate.received == greeting }, "the greeting precedes the handshake in the clear")
        clientDelegate.received = []
        client.startTLS(context: try clientContext(), handshakeTimeoutMilliseconds: 5_000)
        #expect(client.setTLSPeerName("127.0.0.1"))
        // Larger than a TLS record, a chunk and the shared read buffer; written before the handshake completed.
        let message = pattern(600_000)
        client.write(message)
        #expect(runLoop(loop) { clientDelegate.received.count >= message.count })
        #expect(clientDelegate.received == message)
        #expect(server.delegates.first?.received == message)
        #expect(!client.isAwaitingTLSHandshake && client.isTLS)
        #expect(runLoop(loop) { client.pendingBytes == 0 && client.openBase == nil && client.tls?.blocks.isEmpty == true },
                "a drained TLS connection holds no chunk")
        client.close()
        server.listener.close()
        #expect(runLoop(loop) { clientDelegate.closeCalls == 1 && server.delegates[0].closeCalls == 1 })
        #expect(loop.shutdown() == 0)
    }

    @Test func manySmallWritesInOneTurnLeaveInOneFlush() throws {
        let loop = try EventLoop()
        let server = try tlsServer(loop, context: try serverContext(), echo: false)
        let client = try #require(try dial(loop, port: server.port)?.get())
        let clientDelegate = RecordingDelegate()
        client.delegate = clientDelegate
        client.startTLS(context: try clientContext(), handshakeTimeoutMilliseconds: 5_000)
        client.startReading()
        client.write(Array("hello\r\n".utf8))
        #expect(runLoop(loop) { server.delegates.first?.received.count == 7 })
        let callsBefore = client.writeCallCount
        var expected = Array("hello\r\n".utf8)
        for index in 0..<200 {
            let line = Array("PUB subject.\(index) 5\r\nhello\r\n".utf8)
            expected += line
            client.write(line)
        }
        #expect(runLoop(loop) { server.delegates[0].received.count == expected.count })
        #expect(server.delegates[0].received == expected)
        #expect(client.writeCallCount == callsBefore + 1, "one encrypt and one vectored write per turn")
        client.close()
        #expect(loop.shutdown() == 0)
    }

    /// The flush before the loop blocks must not leave plaintext for a later turn without a write in flight:
    /// nothing would wake the loop for it. More than one encryption step's worth is queued at once here.
    @Test func oneFlushEncryptsEverythingOrLeavesAWriteInFlight() throws {
        let loop = try EventLoop()
        let server = try tlsServer(loop, context: try serverContext(), echo: false)
        let client = try #require(try dial(loop, port: server.port)?.get())
        let delegate = RecordingDelegate()
        client.delegate = delegate
        client.startTLS(context: try clientContext(), handshakeTimeoutMilliseconds: 5_000)
        client.startReading()
        client.write(Array("ready\r\n".utf8))
        #expect(runLoop(loop) { server.delegates.first?.received.count == 7 })
        let message = pattern(3 * TCPConnection.maximumEncryptedPerFlush + 1000)
        client.write(message)
        loop.flushPending()
        #expect(client.pendingBytes == 0 || client.writeInFlight)
        #expect(runLoop(loop) { server.delegates[0].received.count == 7 + message.count })
        #expect(Array(server.delegates[0].received.dropFirst(7)) == message)
        client.close()
        #expect(loop.shutdown() == 0)
    }

    @Test func verifyRefusesAClientWithoutACertificateOrWithAForeignOne() throws {
        let loop = try EventLoop()
        let server = try tlsServer(loop, context: try serverContext(verify: true))
        for certificate in [nil, "foreign-client"] as [String?] {
            let client = try #require(try dial(loop, port: server.port)?.get())
            let delegate = RecordingDelegate()
            client.delegate = delegate
            client.startTLS(context: try clientContext(certificate: certificate), handshakeTimeoutMilliseconds: 5_000)
            client.startReading()
            client.write(Array("secret".utf8))
            #expect(runLoop(loop) { delegate.closeCalls == 1 && server.delegates.last?.closeCalls == 1 })
            #expect(server.delegates.last?.received == [], "nothing decrypted for a refused client")
            #expect(server.connections.last?.tlsFailure?.isEmpty == false)
        }
        let client = try #require(try dial(loop, port: server.port)?.get())
        let delegate = RecordingDelegate()
        client.delegate = delegate
        client.startTLS(context: try clientContext(certificate: "client"), handshakeTimeoutMilliseconds: 5_000)
        client.startReading()
        client.write(Array("welcome".utf8))
        #expect(runLoop(loop) { delegate.received == Array("welcome".utf8) })
        #expect(server.connections.last?.tlsPeerSubject == "CN=client")
        client.close()
        #expect(loop.shutdown() == 0)
    }

    @Test func clientRefusesAServerCertificateFromAnotherCA() throws {
        let loop = try EventLoop()
        let server = try tlsServer(loop, context: try serverContext())
        let client = try #require(try dial(loop, port: server.port)?.get())
        let delegate = RecordingDelegate()
        client.delegate = delegate
        client.startTLS(context: try clientContext(ca: "foreign-ca"), handshakeTimeoutMilliseconds: 5_000)
        client.startReading()
        #expect(runLoop(loop) { delegate.closeCalls == 1 })
        #expect(delegate.closeError == UVError(code: UV_EPROTO.rawValue))
        #expect(client.tlsFailure?.contains("certificate") == true)
        #expect(loop.shutdown() == 0)
    }

    @Test func plaintextPeerIsClosedWithNothingSent() throws {
        let loop = try EventLoop()
        let server = try tlsServer(loop, context: try serverContext())
        let client = try #require(try dial(loop, port: server.port)?.get())
        let delegate = RecordingDelegate()
        client.delegate = delegate
        client.startReading()
        client.write(Array("CONNECT {}\r\nPING\r\n".utf8))
        #expect(runLoop(loop) { delegate.closeCalls == 1 })
        #expect(delegate.received == [], "no alert for a peer that never spoke TLS")
        #expect(server.connections.first?.isAwaitingTLSHandshake == true)
        #expect(server.delegates.first?.closeError == UVError(code: UV_EPROTO.rawValue))
        #expect(loop.shutdown() == 0)
    }

    @Test func handshakeTimeoutCloses() throws {
        let loop = try EventLoop()
        let server = try tlsServer(loop, context: try serverContext(), timeout: 30)
        let client = try #require(try dial(loop, port: server.port)?.get())
        let delegate = RecordingDelegate()
        client.delegate = delegate
        client.startReading()
        #expect(runLoop(loop) { delegate.closeCalls == 1 })
        #expect(server.delegates.first?.closeError == .timedOut)
        #expect(server.connections.first?.tlsFailure == "timeout")
        #expect(loop.shutdown() == 0)
    }

    @Test func missingFilesAndAMismatchedKeyAreRefused() throws {
        var configuration = TLSConfiguration(isServer: true)
        configuration.certificateFile = certificates.path("server.pem")
        configuration.privateKeyFile = certificates.path("client.key")
        #expect(throws: TLSError("key values mismatch")) { try TLSContext(configuration) }
        configuration.privateKeyFile = certificates.path("missing.key")
        #expect(throws: TLSError.self) { try TLSContext(configuration) }
        configuration.privateKeyFile = certificates.path("server.key")
        configuration.caFile = certificates.path("missing.pem")
        #expect(throws: TLSError.self) { try TLSContext(configuration) }
    }
}
