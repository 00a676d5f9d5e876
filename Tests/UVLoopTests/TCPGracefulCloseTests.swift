import CLibUV
import Foundation
import Testing
@testable import UVLoop

/// Answers the first read with `answer`, then ends the connection with `closeGracefully`.
final class AnswerThenEnd: TCPConnectionDelegate {
    let answer: [UInt8]
    let lingerMilliseconds: UInt64
    var readCalls = 0
    var closeCalls = 0
    var closeError: UVError?

    init(answer: [UInt8], lingerMilliseconds: UInt64) {
        self.answer = answer
        self.lingerMilliseconds = lingerMilliseconds
    }

    func connectionDidRead(_ connection: TCPConnection, bytes: UnsafeRawBufferPointer) -> ReadDisposition {
        readCalls += 1
        if readCalls == 1 {
            connection.write(answer)
            connection.closeGracefully(lingerMilliseconds: lingerMilliseconds)
        }
        return ReadDisposition(consumed: bytes.count, needed: 0)
    }

    func connectionDidClose(_ connection: TCPConnection, error: UVError?) {
        closeCalls += 1
        closeError = error
    }
}

/// A blocking loopback socket for a peer the test drives by hand (or from another thread), with a
/// receive timeout so no read can hang the test.
final class RawPeer: @unchecked Sendable {  // used by one thread at a time, handed over by the test
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if status != 0 {
            Glibc.close(fd)
            throw UVError(code: -errno)
        }
    }

    deinit { Glibc.close(fd) }

    /// Sends all of `bytes`; returns the errno that stopped it, 0 when everything went.
    func send(_ bytes: [UInt8]) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 { return errno }
            offset += sent
        }
        return 0
    }

    func shutdownWrites() {
        Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Reads until EOF (or an error, or the 10 s receive timeout); returns the bytes and the errno that
    /// ended the read, 0 for a clean EOF.
    func readToEnd() -> (bytes: [UInt8], error: Int32) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return (received, 0) }
            if count < 0 { return (received, errno) }
            received += buffer[..<count]
        }
    }
}

/// What a peer thread saw, read by the test once the thread is done.
final class PeerOutcome: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var value: (sendError: Int32, bytes: [UInt8], readError: Int32)?

    func set(_ outcome: (sendError: Int32, bytes: [UInt8], readError: Int32)) {
        lock.withLock { value = outcome }
    }

    var result: (sendError: Int32, bytes: [UInt8], readError: Int32)? { lock.withLock { value } }
}

@Suite("TCP graceful close: answer, FIN, linger")
struct TCPGracefulCloseTests {
    static let answer = Array("HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n".utf8)

    @Test func peerReadsTheAnswerThenEOFAndItsCloseEndsTheConnection() throws {
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { AnswerThenEnd(answer: Self.answer, lingerMilliseconds: 60_000) }
        let client = try #require(try dial(loop, port: server.port)?.get())
        let clientDelegate = RecordingDelegate()
        client.delegate = clientDelegate
        client.startReading()
        client.write(Array("GET / HTTP/1.1\r\n".utf8))
        let start = loop.now
        // The client sees the answer and EOF (it closes on EOF) while the server still waits for its end.
        #expect(runLoop(loop) { clientDelegate.closeCalls == 1 })
        #expect(clientDelegate.received == Self.answer)
        #expect(clientDelegate.closeError == nil)
        #expect(server.delegates[0].closeCalls == 0)
        #expect(server.connections[0].hasShutDownWrites)
        // The client's close is the server's EOF: it closes long before the linger.
        #expect(runLoop(loop) { server.delegates[0].closeCalls == 1 })
        #expect(loop.now - start < 30_000)
        #expect(server.delegates[0].closeError == nil)
        server.listener.close()
        #expect(loop.shutdown() == 0)
    }

    @Test func peerThatNeverEndsIsClosedAfterTheLinger() throws {
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { AnswerThenEnd(answer: Self.answer, lingerMilliseconds: 200) }
        let peer = try RawPeer(port: server.port)
        #expect(peer.send(Array("GET / HTTP/1.1\r\n".utf8)) == 0)
        #expect(runLoop(loop) { server.connections.first?.hasShutDownWrites == true })
        let shutDownAt = loop.now
        #expect(runLoop(loop) { server.delegates[0].closeCalls == 1 })
        #expect(loop.now - shutDownAt >= 190)
        // Nothing was left unread, so the close is a plain FIN: the answer, then EOF.
        let (bytes, error) = peer.readToEnd()
        #expect(bytes == Self.answer)
        #expect(error == 0)
        server.listener.close()
        #expect(loop.shutdown() == 0)
    }

    @Test func unreadRequestBytesDoNotTurnTheAnswerIntoAReset() throws {
        // The peer sends 4 MiB in one go (an oversized header) and only then reads; the server answers
        // after its first read. Its later reads are dropped, and the peer gets the answer and a clean EOF.
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { AnswerThenEnd(answer: Self.answer, lingerMilliseconds: 60_000) }
        let peer = try RawPeer(port: server.port)
        let outcome = PeerOutcome()
        let start = loop.now
        Thread.detachNewThread {
            let sendError = peer.send([UInt8](repeating: UInt8(ascii: "a"), count: 4 << 20))
            let (bytes, readError) = peer.readToEnd()
            peer.shutdownWrites()  // the peer's end: the server closes without waiting for the linger
            outcome.set((sendError, bytes, readError))
        }
        #expect(runLoop(loop, timeoutMilliseconds: 20_000) { outcome.result != nil })
        let result = try #require(outcome.result)
        #expect(result.sendError == 0)
        #expect(result.bytes == Self.answer)
        #expect(result.readError == 0)
        #expect(server.delegates[0].readCalls == 1)
        #expect(runLoop(loop) { server.delegates[0].closeCalls == 1 })
        #expect(loop.now - start < 30_000)
        #expect(server.delegates[0].closeError == nil)
        server.listener.close()
        #expect(loop.shutdown() == 0)
    }

    @Test func peerEndingWhileTheAnswerIsStillWrittenGetsAllOfIt() throws {
        // A large answer the peer does not read yet, and the peer's FIN arriving meanwhile: the server
        // writes everything, then closes without waiting for the linger.
        let loop = try EventLoop()
        let large = pattern(8 << 20)
        let server = try TestServer(loop: loop) { AnswerThenEnd(answer: large, lingerMilliseconds: 60_000) }
        let peer = try RawPeer(port: server.port)
        #expect(peer.send(Array("GET / HTTP/1.1\r\n".utf8)) == 0)
        peer.shutdownWrites()
        #expect(runLoop(loop) { server.connections.first?.isFlushingBeforeClose == true })
        let outcome = PeerOutcome()
        Thread.detachNewThread {
            let (bytes, readError) = peer.readToEnd()
            outcome.set((0, bytes, readError))
        }
        let start = loop.now
        #expect(runLoop(loop, timeoutMilliseconds: 20_000) { outcome.result != nil && server.delegates[0].closeCalls == 1 })
        #expect(loop.now - start < 30_000)
        let result = try #require(outcome.result)
        #expect(result.bytes == large)
        #expect(result.readError == 0)
        server.listener.close()
        #expect(loop.shutdown() == 0)
    }

    @Test func closingWhileLingeringEndsOnceAndFreesEverything() throws {
        // An explicit close (the server shutting down) during the linger: one close callback, the linger
        // timer closed, the shutdown request's callback run (cancelled) and its memory freed, no handle left.
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { AnswerThenEnd(answer: Self.answer, lingerMilliseconds: 60_000) }
        let peer = try RawPeer(port: server.port)
        #expect(peer.send(Array("GET / HTTP/1.1\r\n".utf8)) == 0)
        #expect(runLoop(loop) { server.connections.first?.hasShutDownWrites == true })
        server.connections[0].close()
        server.connections[0].closeGracefully(lingerMilliseconds: 1)  // harmless once closing
        #expect(runLoop(loop) { server.delegates[0].closeCalls == 1 })
        runLoop(loop, timeoutMilliseconds: 50) { false }
        #expect(server.delegates[0].closeCalls == 1)
        server.listener.close()
        #expect(loop.shutdown() == 0)
        _ = peer
    }

    @Test func loopShutdownDuringTheLingerLeavesNothingBehind() throws {
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { AnswerThenEnd(answer: Self.answer, lingerMilliseconds: 60_000) }
        let peer = try RawPeer(port: server.port)
        #expect(peer.send(Array("GET / HTTP/1.1\r\n".utf8)) == 0)
        #expect(runLoop(loop) { server.connections.first?.hasShutDownWrites == true })
        #expect(loop.shutdown() == 0)
        #expect(server.delegates[0].closeCalls == 1)
        _ = peer
    }
}
