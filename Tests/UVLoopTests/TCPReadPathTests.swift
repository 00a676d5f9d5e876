import CLibUV
import Testing
@testable import UVLoop

/// Consumes only complete `\n` lines and checks that every region starts with the tail it left.
final class LineDelegate: TCPConnectionDelegate {
    var lines: [[UInt8]] = []
    var previousTail: [UInt8] = []
    var regionsStartingWithTail = 0
    var tailMismatches = 0
    var reads = 0
    var closeCalls = 0

    func connectionDidRead(_ connection: TCPConnection, bytes: UnsafeRawBufferPointer) -> ReadDisposition {
        reads += 1
        if !previousTail.isEmpty {
            if Array(bytes.prefix(previousTail.count)) == previousTail {
                regionsStartingWithTail += 1
            } else {
                tailMismatches += 1
            }
        }
        var consumed = 0
        while let newline = bytes[consumed...].firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(Array(bytes[consumed..<newline]))
            consumed = newline + 1
        }
        previousTail = Array(bytes[consumed...])
        return ReadDisposition(consumed: consumed, needed: 0)
    }

    func connectionDidClose(_ connection: TCPConnection, error: UVError?) { closeCalls += 1 }
}

/// Frames are "<decimal length>\n<payload>"; reports `needed` for an incomplete payload.
final class FrameDelegate: TCPConnectionDelegate {
    var frames: [[UInt8]] = []
    var reads = 0
    var largestPrivateBuffer = 0
    var closeCalls = 0

    func connectionDidRead(_ connection: TCPConnection, bytes: UnsafeRawBufferPointer) -> ReadDisposition {
        reads += 1
        largestPrivateBuffer = max(largestPrivateBuffer, connection.privateReadBufferCapacity)
        var consumed = 0
        while let newline = bytes[consumed...].firstIndex(of: UInt8(ascii: "\n")) {
            let length = Int(String(decoding: bytes[consumed..<newline], as: UTF8.self))!
            let frameEnd = newline + 1 + length
            if frameEnd > bytes.count {
                return ReadDisposition(consumed: consumed, needed: frameEnd - consumed)
            }
            frames.append(Array(bytes[(newline + 1)..<frameEnd]))
            consumed = frameEnd
        }
        return ReadDisposition(consumed: consumed, needed: 0)
    }

    func connectionDidClose(_ connection: TCPConnection, error: UVError?) { closeCalls += 1 }
}

@Suite("TCP read path: shared buffer, tail, private buffer")
struct TCPReadPathTests {
    @Test func splitLinesArriveWholeWithTailInFront() throws {
        let loop = try EventLoop()
        let server = try TestServer(loop: loop) { LineDelegate() }
        let client = try #require(try dial(loop, port: server.port)?.get())
        client.setNoDelay(true)
        let text = Array("PUB foo.bar 11\r\nhello world\r\nPING\r\nSUB foo 1\r\n".utf8)
        var expectedLines: [[UInt8]] = []
        var start = 0
        for (index, byte) in text.enumerated() where byte == UInt8(ascii: "\n") {
            expectedLines.append(Array(text[start..<index]))
            start = index + 1
        }
        // One piece per loop turn (timer tick), so the server sees many separate reads.
        var sent = 0
        let pieceSize = 3
        let sender = LoopTimer(loop: loop) {
            guard sent < text.count else { return }
            let end = min(sent + pieceSize, text.count)
            client.write(Array(text[sent..<end]))
            sent = end
        }
        sender.start(afterMilliseconds: 1, repeatMilliseconds: 2)
        #expect(runLoop(loop) { server.delegates.first?.lines.count == expectedLines.count })
        sender.close()
        let delegate = try #require(server.delegates.first)
        #expect(delegate.lines == expectedLines)
        #expect(delegate.reads > 3)
        #expect(delegate.regionsStartingWithTail > 0)
        #expect(delegate.tailMismatches == 0)
        #expect(server.connections[0].unparsedTailCount == 0)
        #expect(server.connections[0].tail == nil, "an empty tail owns no memory")
        #expect(loop.shutdown() == 0)
    }

    @Test func largeFrameUsesPrivateBufferAndReleasesIt() throws {
        let loop = try EventLoop(readBufferSize: 256 * 1024)
        let server = try TestServer(loop: loop) { FrameDelegate() }
        let client = try #require(try dial(loop, port: server.port)?.get())
        let big = pattern(3 * 1024 * 1024)
        let small = Array("hello".utf8)
        client.write(Array("\(big.count)\n".utf8) + big + Array("\(small.count)\n".utf8) + small)
        #expect(runLoop(loop) { server.delegates.first?.frames.count == 2 })
        let delegate = try #require(server.delegates.first)
        #expect(delegate.frames.first == big)
        #expect(delegate.frames.last == small)
        #expect(delegate.largestPrivateBuffer >= big.count)
        // Only the first read and the completed frame reach the delegate, not each 256 KiB read.
        #expect(delegate.reads <= 3)
        #expect(server.connections[0].privateReadBufferCapacity == 0)
        #expect(server.connections[0].unparsedTailCount == 0)

        // The connection is back on the shared buffer: a later line-sized frame still works.
        client.write(Array("3\nabc".utf8))
        #expect(runLoop(loop) { delegate.frames.count == 3 })
        #expect(delegate.frames.last == Array("abc".utf8))
        #expect(server.connections[0].privateReadBufferCapacity == 0)
        #expect(loop.shutdown() == 0)
    }

    @Test func longUnterminatedLineGrowsPrivateBufferWithoutNeeded() throws {
        let loop = try EventLoop(readBufferSize: 16 * 1024)
        let server = try TestServer(loop: loop) { LineDelegate() }
        let client = try #require(try dial(loop, port: server.port)?.get())
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: 100_000)
        client.write(long + [UInt8(ascii: "\n")] + Array("next\n".utf8))
        #expect(runLoop(loop) { server.delegates.first?.lines.count == 2 })
        let delegate = try #require(server.delegates.first)
        #expect(delegate.lines == [long, Array("next".utf8)])
        #expect(delegate.tailMismatches == 0)
        #expect(server.connections[0].privateReadBufferCapacity == 0)
        #expect(loop.shutdown() == 0)
    }

    @Test func connectionWithoutDelegateDropsInput() throws {
        let loop = try EventLoop()
        var accepted: TCPConnection?
        let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { connection in
            accepted = connection
            connection.startReading()
        }
        let client = try #require(try dial(loop, port: listener.port)?.get())
        client.write(pattern(10_000))
        #expect(runLoop(loop) { accepted != nil })
        runLoop(loop, timeoutMilliseconds: 30) { false }
        #expect(accepted?.unparsedTailCount == 0)
        #expect(loop.shutdown() == 0)
    }
}
