import Foundation
import Testing
@testable import UVLoop

/// The cross-thread path into a loop: order, coalescing, close, and handing a socket to another loop.
@Suite struct LoopInboxTests {
    /// Items posted from several threads arrive on the loop, each thread's in its posting order, none lost.
    @Test func postsFromManyThreadsArriveInOrderPerThread() throws {
        let loop = try EventLoop()
        let threads = 4, perThread = 2_000
        var received: [[Int]] = Array(repeating: [], count: threads)
        var drains = 0
        let inbox = try LoopInbox<Int>(loop: loop, keepsLoopAlive: true) { items in
            drains += 1
            for item in items { received[item / 1_000_000].append(item % 1_000_000) }
            items.removeAll()
        }
        for thread in 0..<threads {
            Thread.detachNewThread {
                for index in 0..<perThread { inbox.post(thread * 1_000_000 + index) }
            }
        }
        #expect(runLoop(loop) { received.map(\.count).reduce(0, +) == threads * perThread })
        for thread in 0..<threads { #expect(received[thread] == Array(0..<perThread)) }
        #expect(drains < threads * perThread, "posts before the loop noticed coalesce into one drain")
        inbox.close()
        #expect(inbox.post(1) == false, "a closed inbox refuses posts")
        #expect(loop.shutdown() == 0)
    }

    /// Close drains what was posted before it; an inbox that does not keep the loop alive lets run() end.
    @Test func closeDrainsWhatWasPosted() throws {
        let loop = try EventLoop()
        var seen: [String] = []
        let inbox = try LoopInbox<String>(loop: loop, keepsLoopAlive: false) { items in
            seen += items
            items.removeAll()
        }
        inbox.post("a")
        inbox.post("b")
        loop.run()  // nothing keeps the loop alive
        inbox.close()
        #expect(seen == ["a", "b"])
        #expect(loop.shutdown() == 0)
    }

    /// A socket accepted on one loop is served on another after `detachSocket`: bytes flow both ways
    /// and the peer never notices the move.
    @Test func acceptedSocketMovesToAnotherLoop() throws {
        let acceptLoop = try EventLoop()
        let serveLoop = try EventLoop()
        var moved: Int32?
        let listener = try TCPListener(loop: acceptLoop, host: "127.0.0.1", port: 0) { connection in
            moved = connection.detachSocket()
        }
        let peerLoop = try EventLoop()
        guard case .success(let client)? = dial(peerLoop, port: listener.port) else {
            Issue.record("dial failed")
            return
        }
        #expect(runLoop(acceptLoop) { moved != nil })
        let served = try TCPConnection(loop: serveLoop, socket: try #require(moved))
        let echo = RecordingDelegate()
        echo.echo = true
        served.delegate = echo
        served.startReading()
        let peer = RecordingDelegate()
        client.delegate = peer
        client.startReading()
        client.write(Array("hello".utf8))
        for _ in 0..<200 where peer.received.count < 5 {
            peerLoop.runOnce(wait: false)
            serveLoop.runOnce(wait: false)
            usleep(1_000)
        }
        #expect(String(decoding: peer.received, as: UTF8.self) == "hello")
        #expect(echo.received.count == 5)
        served.close()
        client.close()
        listener.close()
        runLoop(serveLoop) { echo.closeCalls == 1 }
        runLoop(peerLoop) { peer.closeCalls == 1 }
        for loop in [acceptLoop, serveLoop, peerLoop] { #expect(loop.shutdown() == 0) }
    }
    /// A connection in use moves with the bytes it read but did not consume (a route registered in the
    /// middle of a read): the new loop's delegate gets them first even if the peer sends nothing more,
    /// then what follows, in order; output queued before the move was written first.
    @Test func connectionInUseMovesWithItsUnreadInput() throws {
        let acceptLoop = try EventLoop()
        let serveLoop = try EventLoop()
        var accepted: TCPConnection?
        let firstLine = StopAfterFirstLine()
        let listener = try TCPListener(loop: acceptLoop, host: "127.0.0.1", port: 0) { connection in
            accepted = connection
            connection.delegate = firstLine
            connection.startReading()
            connection.write(Array("WELCOME\n".utf8))
        }
        let peerLoop = try EventLoop()
        guard case .success(let client)? = dial(peerLoop, port: listener.port) else {
            Issue.record("dial failed")
            return
        }
        let peer = RecordingDelegate()
        client.delegate = peer
        client.startReading()
        client.write(Array("HELLO\nREST1 REST2".utf8))
        for _ in 0..<500 where firstLine.lines.isEmpty || !(accepted?.isOutputIdle ?? false) {
            peerLoop.runOnce(wait: false)
            acceptLoop.runOnce(wait: false)
            usleep(1_000)
        }
        #expect(firstLine.lines == ["HELLO"])
        let connection = try #require(accepted)
        connection.stopReading()
        let (descriptor, unread) = try #require(connection.detachSocketKeepingInput())
        #expect(String(decoding: unread, as: UTF8.self) == "REST1 REST2", "the tail after the line that stopped the read")
        let served = try TCPConnection(loop: serveLoop, socket: descriptor)
        let rest = RecordingDelegate()
        served.delegate = rest
        served.startReading(replaying: unread)
        for _ in 0..<500 where rest.received.count < 11 {
            serveLoop.runOnce(wait: false)
            usleep(1_000)
        }
        #expect(String(decoding: rest.received, as: UTF8.self) == "REST1 REST2", "replayed with nothing new from the peer")
        client.write(Array(" MORE".utf8))
        for _ in 0..<500 where rest.received.count < 16 || peer.received.count < 8 {
            peerLoop.runOnce(wait: false)
            serveLoop.runOnce(wait: false)
            usleep(1_000)
        }
        #expect(String(decoding: rest.received, as: UTF8.self) == "REST1 REST2 MORE")
        #expect(String(decoding: peer.received, as: UTF8.self) == "WELCOME\n", "output queued before the move arrived")
        #expect(firstLine.closeCalls == 0, "the old delegate is not told of the detach")
        served.close()
        client.close()
        listener.close()
        runLoop(serveLoop) { rest.closeCalls == 1 }
        runLoop(peerLoop) { peer.closeCalls == 1 }
        for loop in [acceptLoop, serveLoop, peerLoop] { #expect(loop.shutdown() == 0) }
    }
}

/// Consumes the first newline-terminated line of a read and nothing after it (as a route's parser stops
/// after the INFO that registered it).
private final class StopAfterFirstLine: TCPConnectionDelegate {
    var lines: [String] = []
    var closeCalls = 0

    func connectionDidRead(_ connection: TCPConnection, bytes: UnsafeRawBufferPointer) -> ReadDisposition {
        guard lines.isEmpty, let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
            return ReadDisposition(consumed: 0, needed: 0)
        }
        lines.append(String(decoding: bytes[..<newline], as: UTF8.self))
        return ReadDisposition(consumed: newline + 1, needed: 0)
    }

    func connectionDidClose(_ connection: TCPConnection, error: UVError?) { closeCalls += 1 }
}
