import Foundation
import Testing
@testable import UVLoop

/// The transport's timers: read pauses for flow control and the bound on a last flush.
@Suite struct TCPDeadlineTests {
    /// A loop with a test server and one client connected to it (accepted on the server side).
    private func connectedPair() throws -> (EventLoop, TestServer<RecordingDelegate>, TCPConnection) {
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { RecordingDelegate() }
        guard case .success(let client)? = dial(loop, port: server.port) else { throw UVError(code: -1) }
        try #require(runLoop(loop) { server.connections.count == 1 })
        return (loop, server, client)
    }

    /// A paused connection reads nothing for the pause, then everything that arrived meanwhile.
    @Test func pausedReaderResumesAfterThePause() throws {
        let (loop, server, client) = try connectedPair()
        let served = server.connections[0]
        served.pauseReading(forMilliseconds: 50)
        let pausedAt = loop.now
        client.write(Array("hello".utf8))
        runLoop(loop, timeoutMilliseconds: 30) { false }
        #expect(server.delegates[0].received.isEmpty, "nothing is read during the pause")
        #expect(runLoop(loop) { server.delegates[0].received.count == 5 })
        #expect(loop.now - pausedAt >= 50)
        client.close()
        served.close()
        server.listener.close()
        runLoop(loop, timeoutMilliseconds: 50) { false }
        #expect(loop.shutdown() == 0)
    }

    /// A close after flush to a peer that never reads ends at the deadline, with output still queued.
    @Test func closeAfterFlushEndsAtTheDeadline() throws {
        let (loop, server, client) = try connectedPair()
        let served = server.connections[0]
        // The client never reads: far more than the socket buffers can hold stays queued.
        let chunk = pattern(1 << 20)
        for _ in 0..<64 { served.write(chunk) }
        runLoop(loop, timeoutMilliseconds: 50) { false }
        #expect(served.pendingBytes > 0)
        let start = loop.now
        served.closeAfterFlush(deadlineMilliseconds: 100)
        #expect(runLoop(loop) { server.delegates[0].closeCalls == 1 })
        #expect(loop.now - start >= 100)
        client.close()
        server.listener.close()
        runLoop(loop, timeoutMilliseconds: 50) { false }
        #expect(loop.shutdown() == 0)
    }
}
