import Testing
import NATSProtocol

/// One input and the events it must produce.
struct ParseCase: CustomTestStringConvertible, Sendable {
    let input: String
    let events: [String]
    var kind: ConnectionKind = .client
    var pinned = false
    var testDescription: String { input.debugDescription }

    var limits: ParserLimits { kind == .client ? ParserLimits() : .route(routeAccountInProtocol: !pinned) }
}

let clientCases: [ParseCase] = [
    ParseCase(input: "PING\r\n", events: ["PING"]),
    ParseCase(input: "ping\n", events: ["PING"]),
    ParseCase(input: "PING   \r\n", events: ["PING"]),
    ParseCase(input: "PONG\r\n", events: ["PONG"]),
    ParseCase(input: "+OK\r\n", events: ["OK"]),
    ParseCase(input: "-ERR 'Unknown Protocol Operation'\r\n", events: ["ERR 'Unknown Protocol Operation'"]),
    ParseCase(input: "PUB foo 5\r\nhello\r\n", events: ["PUB foo reply= hdr=-1 [hello]"]),
    ParseCase(input: "pub foo 0\r\n\r\n", events: ["PUB foo reply= hdr=-1 []"]),
    ParseCase(input: "PUB foo.bar INBOX.22 11\r\nhello world\r\n", events: ["PUB foo.bar reply=INBOX.22 hdr=-1 [hello world]"]),
    ParseCase(input: "PUB\tfoo \t bar\t\t3\r\na\r\n\r\n", events: ["PUB foo reply=bar hdr=-1 [a\r\n]"]),
    ParseCase(input: "HPUB h 24 29\r\nNATS/1.0\r\nA: 1\r\nB: 2\r\n\r\nhello\r\n", events: ["HPUB-placeholder"]),
    ParseCase(input: "HPUB s rep 0 2\r\nhi\r\n", events: ["PUB s reply=rep hdr=0 [hi]"]),
    ParseCase(input: "SUB foo 1\r\n", events: ["SUB foo queue= sid=1"]),
    ParseCase(input: "SUB\ta\t1\n", events: ["SUB a queue= sid=1"]),
    ParseCase(input: "sub foo  bar   22\r\n", events: ["SUB foo queue=bar sid=22"]),
    ParseCase(input: "UNSUB 1\r\n", events: ["UNSUB 1 max=-1"]),
    ParseCase(input: "UNSUB 5 2\r\n", events: ["UNSUB 5 max=2"]),
    ParseCase(input: "UNSUB 5 abc\r\n", events: ["UNSUB 5 max=-1"]),
    ParseCase(input: "CONNECT {\"verbose\":false}\r\n", events: ["CONNECT {\"verbose\":false}"]),
    ParseCase(input: "CONNECT{}\r\n", events: ["CONNECT {}"]),
    ParseCase(input: "INFO {\"server_id\":\"x\"}\r\n", events: ["INFO {\"server_id\":\"x\"}"]),
]

let routeCases: [ParseCase] = [
    ParseCase(input: "RS+ $G foo\r\n", events: ["RS+ acc=$G foo queue= w=0"], kind: .route),
    ParseCase(input: "RS+ $G foo q1 2\r\n", events: ["RS+ acc=$G foo queue=q1 w=2"], kind: .route),
    ParseCase(input: "rs+ $G bar.* q2 0\r\n", events: ["RS+ acc=$G bar.* queue=q2 w=1"], kind: .route),
    ParseCase(input: "RS- $G foo\r\n", events: ["RS- acc=$G foo queue="], kind: .route),
    ParseCase(input: "RS- $G foo q1\r\n", events: ["RS- acc=$G foo queue=q1"], kind: .route),
    ParseCase(input: "LS+ origin $G foo q 3\r\n", events: ["RS+ acc=$G foo queue=q w=3"], kind: .route),
    ParseCase(input: "LS- $G foo\r\n", events: ["RS- acc=$G foo queue="], kind: .route),
    ParseCase(input: "RMSG $G foo 5\r\nhello\r\n", events: ["RMSG acc=$G foo reply= queues=/0 hdr=-1 [hello]"], kind: .route),
    ParseCase(input: "RMSG $G foo rep 2\r\nhi\r\n", events: ["RMSG acc=$G foo reply=rep queues=/0 hdr=-1 [hi]"], kind: .route),
    ParseCase(input: "RMSG $G foo + rep.x q1 q3 5\r\nhello\r\n", events: ["RMSG acc=$G foo reply=rep.x queues=q1,q3/2 hdr=-1 [hello]"], kind: .route),
    ParseCase(input: "RMSG $G foo | q1 q3 3\r\nabc\r\n", events: ["RMSG acc=$G foo reply= queues=q1,q3/2 hdr=-1 [abc]"], kind: .route),
    ParseCase(input: "RMSG $G foo + rep 1\r\nz\r\n", events: ["RMSG acc=$G foo reply=rep queues=/0 hdr=-1 [z]"], kind: .route),
    ParseCase(input: "RMSG $G bar.x | q2 1\r\nz\r\n", events: ["RMSG acc=$G bar.x reply= queues=q2/1 hdr=-1 [z]"], kind: .route),
    ParseCase(input: "HMSG $G foo | q1 q3 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", events: ["RMSG acc=$G foo reply= queues=q1,q3/2 hdr=12 [NATS/1.0\r\n\r\nhi]"], kind: .route),
    ParseCase(input: "HMSG $G foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", events: ["RMSG acc=$G foo reply= queues=/0 hdr=12 [NATS/1.0\r\n\r\nhi]"], kind: .route),
    ParseCase(input: "HMSG $G foo r 0 2\r\nhi\r\n", events: ["RMSG acc=$G foo reply=r queues=/0 hdr=0 [hi]"], kind: .route),
    ParseCase(input: "HMSG $G foo + r a b c 0 1\r\nx\r\n", events: ["RMSG acc=$G foo reply=r queues=a,b,c/3 hdr=0 [x]"], kind: .route),
    ParseCase(input: "LMSG org $G foo + r q 0 1\r\nx\r\n", events: ["RMSG acc=$G foo reply=r queues=q/1 hdr=0 [x]"], kind: .route),
    // A `\r` inside the arguments separates like a space (nats-server's route arg split), and the
    // queue names iterated agree with the count the parser found (issue 6 point 9).
    ParseCase(input: "RMSG $G foo | q1\rq3 3\r\nabc\r\n", events: ["RMSG acc=$G foo reply= queues=q1,q3/2 hdr=-1 [abc]"], kind: .route),
    ParseCase(input: "RMSG $G foo + rep q1 \r q2\tq3 2\r\nhi\r\n", events: ["RMSG acc=$G foo reply=rep queues=q1,q2,q3/3 hdr=-1 [hi]"], kind: .route),
    ParseCase(input: "HMSG $G foo | a\r\rb 0 1\r\nx\r\n", events: ["RMSG acc=$G foo reply= queues=a,b/2 hdr=0 [x]"], kind: .route),
    ParseCase(input: "RMSG $G foo | q1\r3\r\nabc\r\n", events: ["RMSG acc=$G foo reply= queues=q1/1 hdr=-1 [abc]"], kind: .route),
    ParseCase(input: "RS+ $G foo\rq1\r2\r\n", events: ["RS+ acc=$G foo queue=q1 w=2"], kind: .route),
    ParseCase(input: "A+ $G\r\nA- $G\r\nPING\r\n", events: ["PING"], kind: .route),
    ParseCase(input: "INFO {}\r\nCONNECT {}\r\n-ERR 'x'\r\n", events: ["INFO {}", "CONNECT {}", "ERR 'x'"], kind: .route),
    // Pinned-account routes: no account token.
    ParseCase(input: "RS+ $SYS.REQ.SERVER.PING\r\n", events: ["RS+ acc= $SYS.REQ.SERVER.PING queue= w=0"], kind: .route, pinned: true),
    ParseCase(input: "RS+ foo q 4\r\n", events: ["RS+ acc= foo queue=q w=4"], kind: .route, pinned: true),
    ParseCase(input: "RS- foo q\r\n", events: ["RS- acc= foo queue=q"], kind: .route, pinned: true),
    ParseCase(input: "RMSG foo 1\r\nx\r\n", events: ["RMSG acc= foo reply= queues=/0 hdr=-1 [x]"], kind: .route, pinned: true),
    ParseCase(input: "RMSG foo rep 1\r\nx\r\n", events: ["RMSG acc= foo reply=rep queues=/0 hdr=-1 [x]"], kind: .route, pinned: true),
    ParseCase(input: "RMSG foo + rep q1 1\r\nx\r\n", events: ["RMSG acc= foo reply=rep queues=q1/1 hdr=-1 [x]"], kind: .route, pinned: true),
    ParseCase(input: "HMSG foo | q1 q2 0 1\r\nx\r\n", events: ["RMSG acc= foo reply= queues=q1,q2/2 hdr=0 [x]"], kind: .route, pinned: true),
    ParseCase(input: "RMSG foo + r q1\rq2 1\r\nx\r\n", events: ["RMSG acc= foo reply=r queues=q1,q2/2 hdr=-1 [x]"], kind: .route, pinned: true),
]

/// The HPUB example of §1.4, expected event filled in here to keep the table readable.
func expectedEvents(_ parseCase: ParseCase) -> [String] {
    parseCase.events.map {
        $0 == "HPUB-placeholder" ? "PUB h reply= hdr=24 [NATS/1.0\r\nA: 1\r\nB: 2\r\n\r\nhello]" : $0
    }
}

@Suite struct ParserTests {
    @Test(arguments: clientCases + routeCases)
    func parsesWhole(_ parseCase: ParseCase) {
        let outcome = feed([bytes(parseCase.input)], kind: parseCase.kind, limits: parseCase.limits)
        #expect(outcome.error == nil)
        #expect(outcome.events == expectedEvents(parseCase))
        #expect(outcome.leftover == 0)
    }

    @Test(arguments: clientCases + routeCases)
    func parsesAtEverySplitPoint(_ parseCase: ParseCase) {
        let input = bytes(parseCase.input)
        for split in 0...input.count {
            let outcome = feed([Array(input[..<split]), Array(input[split...])], kind: parseCase.kind, limits: parseCase.limits)
            #expect(outcome.error == nil, "split \(split)")
            #expect(outcome.events == expectedEvents(parseCase), "split \(split)")
            #expect(outcome.leftover == 0, "split \(split)")
        }
    }

    @Test func parsesByteByByte() {
        for parseCase in clientCases + routeCases {
            let chunks = bytes(parseCase.input).map { [$0] }
            let outcome = feed(chunks, kind: parseCase.kind, limits: parseCase.limits)
            #expect(outcome.events == expectedEvents(parseCase), "\(parseCase.input.debugDescription)")
            #expect(outcome.leftover == 0)
        }
    }

    @Test(arguments: [ConnectionKind.client, .route])
    func mixedPipelineWithRandomSplits(kind: ConnectionKind) {
        let cases = (kind == .client ? clientCases : routeCases.filter { !$0.pinned })
        var generator = SplitMix64(state: kind == .client ? 42 : 4242)
        for round in 0..<200 {
            var stream: [UInt8] = []
            var expected: [String] = []
            for _ in 0..<Int.random(in: 1...30, using: &generator) {
                let parseCase = cases.randomElement(using: &generator)!
                stream += bytes(parseCase.input)
                expected += expectedEvents(parseCase)
            }
            var chunks: [[UInt8]] = []
            var index = 0
            while index < stream.count {
                let length = Int.random(in: 1...max(1, stream.count / 3), using: &generator)
                chunks.append(Array(stream[index..<min(stream.count, index + length)]))
                index += length
            }
            let limits = kind == .client ? ParserLimits() : ParserLimits.route()
            let outcome = feed(chunks, kind: kind, limits: limits)
            #expect(outcome.error == nil, "round \(round)")
            #expect(outcome.events == expected, "round \(round)")
            #expect(outcome.leftover == 0, "round \(round)")
        }
    }

    @Test func reportsNeededBytesOnceControlLineIsComplete() {
        let header = bytes("PUB foo 100000\r\n")
        let outcome = feed([header + Array(repeating: 0x61, count: 10)])
        #expect(outcome.needed == [header.count + 100_000 + 2])
        #expect(outcome.leftover == header.count + 10)
        #expect(outcome.events.isEmpty)

        let partialLine = feed([bytes("PUB foo 100")])
        #expect(partialLine.needed.isEmpty)
    }

    @Test func payloadIsNotScannedForLineEnds() {
        let outcome = feed([bytes("PUB a 6\r\nPING\r\n\r\nPONG\r\n")])
        #expect(outcome.events == ["PUB a reply= hdr=-1 [PING\r\n]", "PONG"])
    }

    @Test func handlerStopEndsParsingJustPastThatOp() {
        let handler = RecordingHandler()
        handler.stopAfter = 2
        let input = bytes("PING\r\nPUB a 1\r\nx\r\nPONG\r\n")
        let result = input.withUnsafeBytes { ProtocolParser.parse($0, kind: .client, limits: ParserLimits(), handler: handler) }
        #expect(handler.events == ["PING", "PUB a reply= hdr=-1 [x]"])
        #expect(result == ParseResult(consumed: 18))
    }

    @Test func emptyBufferConsumesNothing() {
        let result = ProtocolParser.parse(UnsafeRawBufferPointer(start: nil, count: 0), kind: .client, limits: ParserLimits(), handler: RecordingHandler())
        #expect(result == ParseResult(consumed: 0))
    }
}
