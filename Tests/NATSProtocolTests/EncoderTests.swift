import Testing
import NATSProtocol

/// Runs `body` with slices over the given strings.
func withSlices<R>(_ texts: [String], _ body: ([ByteSlice]) -> R) -> R {
    let storage = texts.map { Array($0.utf8) }
    let pointers = storage.map { array -> UnsafeMutablePointer<UInt8> in
        let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(array.count, 1))
        pointer.initialize(from: array, count: array.count)
        return pointer
    }
    defer { pointers.forEach { $0.deallocate() } }
    let slices = zip(pointers, storage).map { ByteSlice(start: UnsafePointer($0.0), count: $0.1.count) }
    return body(slices)
}

func clientFrame(subject: String, sid: String, reply: String, headerSize: Int, payload: String) -> (String, Int) {
    withSlices([subject, sid, reply, payload]) { s in
        let length = FrameEncoder.clientMessageLength(subject: s[0], sid: s[1], reply: s[2], headerSize: headerSize, payloadCount: s[3].count)
        var buffer = [UInt8](repeating: 0, count: length + 8)
        let written = buffer.withUnsafeMutableBytes {
            FrameEncoder.writeClientMessage(to: $0.baseAddress!, subject: s[0], sid: s[1], reply: s[2], headerSize: headerSize, payload: s[3])
        }
        return (String(decoding: buffer[..<written], as: UTF8.self), length)
    }
}

func routedFrame(account: String, subject: String, reply: String, queues: [String], headerSize: Int, payload: String) -> (String, Int) {
    withSlices([account, subject, reply, payload] + queues) { s in
        let queueSlices = Array(s[4...])
        return queueSlices.withUnsafeBufferPointer { q in
            let length = FrameEncoder.routedMessageLength(account: s[0], subject: s[1], reply: s[2], queues: q, headerSize: headerSize, payloadCount: s[3].count)
            var buffer = [UInt8](repeating: 0, count: length + 8)
            let written = buffer.withUnsafeMutableBytes {
                FrameEncoder.writeRoutedMessage(to: $0.baseAddress!, account: s[0], subject: s[1], reply: s[2], queues: q, headerSize: headerSize, payload: s[3])
            }
            return (String(decoding: buffer[..<written], as: UTF8.self), length)
        }
    }
}

@Suite struct EncoderTests {
    @Test func clientMessagesMatchCapturedFrames() {
        let cases: [(String, String, String, Int, String, String)] = [
            ("q.a", "7", "rep.1", -1, "abc", "MSG q.a 7 rep.1 3\r\nabc\r\n"),
            ("foo", "1", "", -1, "", "MSG foo 1 0\r\n\r\n"),
            ("h", "1", "", 24, "NATS/1.0\r\nA: 1\r\nB: 2\r\n\r\nhello", "HMSG h 1 24 29\r\nNATS/1.0\r\nA: 1\r\nB: 2\r\n\r\nhello\r\n"),
            ("s", "12345678901", "r", 0, "hi", "HMSG s 12345678901 r 0 2\r\nhi\r\n"),
        ]
        for (subject, sid, reply, headerSize, payload, expected) in cases {
            let (frame, length) = clientFrame(subject: subject, sid: sid, reply: reply, headerSize: headerSize, payload: payload)
            #expect(frame == expected)
            #expect(length == expected.utf8.count)
        }
    }

    @Test func routedMessagesMatchCapturedFrames() {
        let cases: [(String, String, String, [String], Int, String, String)] = [
            ("$G", "foo", "rep.x", ["q1", "q3"], -1, "hello", "RMSG $G foo + rep.x q1 q3 5\r\nhello\r\n"),
            ("$G", "foo", "", ["q1", "q3"], -1, "abc", "RMSG $G foo | q1 q3 3\r\nabc\r\n"),
            ("$G", "foo", "", ["q1", "q3"], 12, "NATS/1.0\r\n\r\nhi", "HMSG $G foo | q1 q3 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"),
            ("$G", "bar.x", "", ["q2"], -1, "z", "RMSG $G bar.x | q2 1\r\nz\r\n"),
            ("$G", "foo", "", [], -1, "hello", "RMSG $G foo 5\r\nhello\r\n"),
            ("$G", "foo", "r", [], -1, "", "RMSG $G foo r 0\r\n\r\n"),
            ("", "foo", "", [], 0, "x", "HMSG foo 0 1\r\nx\r\n"),
            ("", "foo", "r", ["a"], -1, "x", "RMSG foo + r a 1\r\nx\r\n"),
        ]
        for (account, subject, reply, queues, headerSize, payload, expected) in cases {
            let (frame, length) = routedFrame(account: account, subject: subject, reply: reply, queues: queues, headerSize: headerSize, payload: payload)
            #expect(frame == expected)
            #expect(length == expected.utf8.count)
        }
    }

    @Test func encodedRoutedMessagesParseBack() {
        let (frame, _) = routedFrame(account: "$G", subject: "a.b", reply: "_INBOX.1", queues: ["g1", "g2", "g3"], headerSize: 2, payload: "h\nbody")
        let outcome = feed([bytes(frame)], kind: .route, limits: .route())
        #expect(outcome.events == ["RMSG acc=$G a.b reply=_INBOX.1 queues=g1,g2,g3/3 hdr=2 [h\nbody]"])
    }

    @Test func decimals() {
        for value in [0, 7, 9, 10, 99, 100, 123_456_789, Int.max] {
            #expect(FrameEncoder.decimalLength(value) == String(value).count)
            var buffer = [UInt8](repeating: 0, count: 24)
            let written = buffer.withUnsafeMutableBytes { FrameEncoder.writeDecimal(value, to: $0.baseAddress!) }
            #expect(String(decoding: buffer[..<written], as: UTF8.self) == String(value))
        }
    }

    @Test func controlLines() {
        #expect(FrameEncoder.routeSubscribe(account: bytes("$G"), subject: bytes("foo"), queue: nil, weight: 0) == bytes("RS+ $G foo\r\n"))
        #expect(FrameEncoder.routeSubscribe(account: bytes("$G"), subject: bytes("foo"), queue: bytes("q1"), weight: 2) == bytes("RS+ $G foo q1 2\r\n"))
        #expect(FrameEncoder.routeSubscribe(account: [], subject: bytes("$SYS.REQ.SERVER.PING"), queue: nil, weight: 0) == bytes("RS+ $SYS.REQ.SERVER.PING\r\n"))
        #expect(FrameEncoder.routeUnsubscribe(account: bytes("$G"), subject: bytes("foo"), queue: bytes("q1")) == bytes("RS- $G foo q1\r\n"))
        #expect(FrameEncoder.routeUnsubscribe(account: bytes("$G"), subject: bytes("bar.*"), queue: nil) == bytes("RS- $G bar.*\r\n"))
        #expect(FrameEncoder.errLine("Invalid Subject") == bytes("-ERR 'Invalid Subject'\r\n"))
    }

    @Test func noRespondersMatchesCapture() {
        let message = FrameEncoder.noRespondersMessage(subject: bytes("_INBOX.x"), sid: bytes("1"), originalSubject: bytes("req"))
        #expect(message == bytes("HMSG _INBOX.x 1 35 35\r\nNATS/1.0 503\r\nNats-Subject: req\r\n\r\n\r\n"))
    }
}
