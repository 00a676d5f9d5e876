import CLibUV
import Testing
@testable import UVLoop

@Suite("TCP echo, flush and close")
struct TCPEchoTests {
    @Test func bytesRoundTripThroughEchoServer() throws {
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { () -> RecordingDelegate in
            let delegate = RecordingDelegate()
            delegate.echo = true
            return delegate
        }
        let client = try #require(try dial(loop, port: server.port)?.get())
        #expect(client.remoteHost == "127.0.0.1")
        #expect(client.remotePort == server.port)
        let clientDelegate = RecordingDelegate()
        client.delegate = clientDelegate
        client.setNoDelay(true)
        client.startReading()
        let message = pattern(100_000)
        client.write(message)
        #expect(runLoop(loop) { clientDelegate.received.count >= message.count })
        #expect(clientDelegate.received == message)
        #expect(server.delegates.first?.received == message)
        #expect(client.pendingBytes == 0)
        client.close()
        server.listener.close()
        #expect(runLoop(loop) { clientDelegate.closeCalls == 1 && server.delegates[0].closeCalls == 1 })
        #expect(loop.shutdown() == 0)
    }

    @Test func manySmallWritesInOneTurnLeaveInOneFlush() throws {
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { RecordingDelegate() }
        let client = try #require(try dial(loop, port: server.port)?.get())
        var expected: [UInt8] = []
        let passesBefore = loop.flushPassCount
        for index in 0..<200 {
            let line = Array("PUB subject.\(index) 5\r\nhello\r\n".utf8)
            expected += line
            client.write(line)
        }
        #expect(client.pendingBytes == expected.count)
        #expect(client.writeCallCount == 0)
        #expect(runLoop(loop) { server.delegates.first?.received.count == expected.count })
        #expect(server.delegates[0].received == expected)
        #expect(client.writeCallCount == 1)
        #expect(loop.flushPassCount == passesBefore + 1)
        #expect(client.pendingBytes == 0)
        #expect(client.openBase == nil, "a drained connection gives its chunk back")
        client.close()
        #expect(loop.shutdown() == 0)
    }

    @Test func reserveAndCommitWriteInPlace() throws {
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { RecordingDelegate() }
        let client = try #require(try dial(loop, port: server.port)?.get())
        let text = Array("MSG a 1 0\r\n\r\n".utf8)
        let space = client.reserve(text.count)
        space.copyMemory(from: text, byteCount: text.count)
        #expect(client.pendingBytes == 0, "reserve alone queues nothing")
        client.commit(text.count)
        #expect(client.pendingBytes == text.count)
        #expect(runLoop(loop) { server.delegates.first?.received == text })
        #expect(loop.shutdown() == 0)
    }

    @Test func backpressuredOutputDrainsCompletelyAndInOrder() throws {
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { RecordingDelegate() }
        let client = try #require(try dial(loop, port: server.port)?.get())
        #expect(runLoop(loop) { server.connections.count == 1 })
        server.connections[0].stopReading()
        // 8 MiB in mixed sizes: small ones share chunks, 200 KiB ones get blocks of their own.
        var expected: [UInt8] = []
        expected.reserveCapacity(9 * 1024 * 1024)
        var seed = 0
        while expected.count < 8 * 1024 * 1024 {
            let piece = pattern(seed % 5 == 0 ? 200_000 : 1_000 + seed % 3_000, seed: seed)
            expected += piece
            client.write(piece)
            seed += 1
        }
        // Let the kernel buffers fill while nobody reads.
        runLoop(loop, timeoutMilliseconds: 50) { false }
        #expect(client.pendingBytes > 0)
        #expect(client.writeInFlight)
        server.connections[0].startReading()
        #expect(runLoop(loop) { server.delegates[0].received.count >= expected.count })
        #expect(server.delegates[0].received == expected)
        #expect(client.pendingBytes == 0)
        #expect(client.sealed.isEmpty && client.openBase == nil)
        #expect(loop.shutdown() == 0)
    }

    @Test func localCloseReportsOnceOnBothSides() throws {
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { RecordingDelegate() }
        let client = try #require(try dial(loop, port: server.port)?.get())
        let clientDelegate = RecordingDelegate()
        client.delegate = clientDelegate
        client.startReading()
        #expect(runLoop(loop) { server.connections.count == 1 })
        client.write(Array("queued and dropped".utf8))
        client.close()
        client.close()
        #expect(client.isClosing)
        #expect(client.pendingBytes == 0)
        // Writes after close are accepted and dropped.
        client.write(pattern(200_000))
        #expect(client.pendingBytes == 0)
        #expect(runLoop(loop) { clientDelegate.closeCalls == 1 && server.delegates[0].closeCalls == 1 })
        #expect(clientDelegate.closeError == nil)
        #expect(server.delegates[0].closeError == nil, "peer EOF is reported without an error")
        runLoop(loop, timeoutMilliseconds: 20) { false }
        #expect(clientDelegate.closeCalls == 1)
        #expect(server.delegates[0].closeCalls == 1)
        #expect(loop.shutdown() == 0)
    }

    @Test func closeAfterFlushDeliversEverythingThenCloses() throws {
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { RecordingDelegate() }
        let client = try #require(try dial(loop, port: server.port)?.get())
        let clientDelegate = RecordingDelegate()
        client.delegate = clientDelegate
        client.startReading()
        #expect(runLoop(loop) { server.connections.count == 1 })
        let serverSide = server.connections[0]
        let farewell = pattern(3 * 1024 * 1024) + Array("-ERR 'Authorization Violation'\r\n".utf8)
        serverSide.write(farewell)
        serverSide.closeAfterFlush()
        #expect(!serverSide.isClosing, "still flushing")
        #expect(runLoop(loop) { clientDelegate.closeCalls == 1 && server.delegates[0].closeCalls == 1 })
        #expect(clientDelegate.received == farewell)
        #expect(clientDelegate.closeError == nil)
        #expect(server.delegates[0].closeError == nil)
        #expect(loop.shutdown() == 0)
    }

    @Test func delegateMayCloseInsideRead() throws {
        final class CloseOnRead: TCPConnectionDelegate {
            var closeCalls = 0
            func connectionDidRead(_ connection: TCPConnection, bytes: UnsafeRawBufferPointer) -> ReadDisposition {
                connection.close()
                return ReadDisposition(consumed: 0, needed: 0)
            }
            func connectionDidClose(_ connection: TCPConnection, error: UVError?) { closeCalls += 1 }
        }
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { CloseOnRead() }
        let client = try #require(try dial(loop, port: server.port)?.get())
        let clientDelegate = RecordingDelegate()
        client.delegate = clientDelegate
        client.startReading()
        client.write(pattern(500_000))
        #expect(runLoop(loop) { server.delegates.first?.closeCalls == 1 && clientDelegate.closeCalls == 1 })
        #expect(loop.shutdown() == 0)
    }

    @Test func connectToClosedPortIsRefused() throws {
        let loop = try EventLoop()
        let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { _ in }
        let port = listener.port
        #expect(port > 0)
        listener.close()
        runLoop(loop, timeoutMilliseconds: 10) { false }
        let result = try #require(dial(loop, port: port))
        #expect(throws: UVError.connectionRefused) { try result.get() }
        if case .failure(let error) = result {
            #expect(error.name == "ECONNREFUSED")
            #expect(error.code == UV_ECONNREFUSED.rawValue)
        }
        #expect(loop.shutdown() == 0)
    }

    @Test func connectResolvesNames() throws {
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { RecordingDelegate() }
        // localhost may resolve to ::1 first; the dial must fall through to 127.0.0.1.
        let client = try #require(try dial(loop, host: "localhost", port: server.port)?.get())
        client.write(Array("PING\r\n".utf8))
        #expect(runLoop(loop) { server.delegates.first?.received == Array("PING\r\n".utf8) })
        #expect(loop.shutdown() == 0)
    }

    @Test func listenerRejectsBadPort() throws {
        let loop = try EventLoop()
        for port in [-1, 65536] {
            #expect(throws: UVError(code: UV_EINVAL.rawValue)) {
                _ = try TCPListener(loop: loop, host: "127.0.0.1", port: port) { _ in }
            }
        }
        #expect(loop.shutdown() == 0)
    }

    @Test func shutdownClosesEverythingLeftOpen() throws {
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { RecordingDelegate() }
        let client = try #require(try dial(loop, port: server.port)?.get())
        let clientDelegate = RecordingDelegate()
        client.delegate = clientDelegate
        client.startReading()
        client.write(pattern(1000))
        #expect(runLoop(loop) { server.connections.count == 1 })
        let timer = LoopTimer(loop: loop) {}
        timer.start(afterMilliseconds: 60_000)
        #expect(loop.shutdown() == 0)
        #expect(clientDelegate.closeCalls == 1)
        #expect(server.delegates[0].closeCalls == 1)
    }
}
