import Testing
import NATSProtocol

/// A must-fail input: the error it must produce and the events handled before it.
struct FailCase: CustomTestStringConvertible, Sendable {
    let input: String
    let error: ProtocolError
    var kind: ConnectionKind = .client
    var eventsBefore = 0
    var testDescription: String { input.debugDescription }
}

let unknown = ProtocolError.unknownOperation
let violation = ProtocolError.protocolViolation

/// nats-server's TestShouldFail list, §1.3 / §1.5 cases, and route-form errors.
let failCases: [FailCase] = [
    // TestShouldFail: bad verbs fail on the offending byte, before any newline.
    FailCase(input: "xxx", error: unknown), FailCase(input: "Px", error: unknown), FailCase(input: "PIx", error: unknown),
    FailCase(input: "PINx", error: unknown), FailCase(input: " PING", error: unknown), FailCase(input: "POx", error: unknown),
    FailCase(input: "PONx", error: unknown), FailCase(input: "+x", error: unknown), FailCase(input: "+Ox", error: unknown),
    FailCase(input: "-x", error: unknown), FailCase(input: "-Ex", error: unknown), FailCase(input: "-ERx", error: unknown),
    FailCase(input: "-ERRx", error: unknown), FailCase(input: "Cx", error: unknown), FailCase(input: "COx", error: unknown),
    FailCase(input: "CONx", error: unknown), FailCase(input: "CONNx", error: unknown), FailCase(input: "CONNEx", error: unknown),
    FailCase(input: "CONNECx", error: unknown), FailCase(input: "CONNECT \r\n", error: violation),
    FailCase(input: "PUx", error: unknown), FailCase(input: "PUB foo\r\n", error: violation),
    FailCase(input: "PUB  \r\n", error: violation), FailCase(input: "PUB foo bar       \r\n", error: violation),
    FailCase(input: "PUB foo 2\r\nok \r\n", error: unknown), FailCase(input: "PUB foo 2\r\nok\r \n", error: unknown),
    FailCase(input: "Sx", error: unknown), FailCase(input: "SUx", error: unknown), FailCase(input: "SUB\r\n", error: unknown),
    FailCase(input: "SUB  \r\n", error: violation), FailCase(input: "SUB foo\r\n", error: violation),
    FailCase(input: "SUB foo bar baz 22\r\n", error: violation),
    FailCase(input: "Ux", error: unknown), FailCase(input: "UNx", error: unknown), FailCase(input: "UNSx", error: unknown),
    FailCase(input: "UNSUx", error: unknown), FailCase(input: "UNSUBx", error: unknown),
    FailCase(input: "UNSUBUNSUB 1\r\n", error: unknown), FailCase(input: "UNSUB_2\r\n", error: unknown),
    FailCase(input: "UNSUB_UNSUB_UNSUB 2\r\n", error: unknown), FailCase(input: "UNSUB_\t2\r\n", error: unknown),
    FailCase(input: "UNSUB\r\n", error: unknown), FailCase(input: "UNSUB \r\n", error: violation),
    FailCase(input: "UNSUB          \t       \r\n", error: violation),
    FailCase(input: "Ix", error: unknown), FailCase(input: "INx", error: unknown), FailCase(input: "INFx", error: unknown),
    FailCase(input: "INFO  \r\n", error: violation),
    // §1.3 / TestProtoErr.
    FailCase(input: "ZZZ\r\n", error: unknown), FailCase(input: "PUBS foo 1\r\n", error: unknown),
    FailCase(input: "SUBZZZ foo 1\r\n", error: unknown), FailCase(input: "PUB foo abc\r\n", error: violation),
    FailCase(input: "SUB a b c d\r\n", error: violation), FailCase(input: "HPUB h 22 5\r\n", error: violation),
    FailCase(input: "HPUB h 5\r\n", error: violation), FailCase(input: "HPUB h x 5\r\n", error: violation),
    FailCase(input: "PUB foo 99999999999999999999\r\n", error: violation),
    FailCase(input: "PUB foo 1000000000\r\n", error: violation),
    FailCase(input: "PUB foo -1\r\n", error: violation),
    FailCase(input: "PUB foo 3\r\nabcde", error: unknown),
    FailCase(input: "PING\r\nPUB foo 1\r\nxx", error: unknown, eventsBefore: 1),
    // Route-only verbs and MSG from a client.
    FailCase(input: "MSG foo 1 1\r\nx\r\n", error: unknown), FailCase(input: "HMSG foo 1 0 1\r\n", error: unknown),
    FailCase(input: "RS+ $G foo\r\n", error: unknown), FailCase(input: "RMSG $G foo 1\r\n", error: unknown),
    FailCase(input: "LS+ o $G foo\r\n", error: unknown), FailCase(input: "A+ $G\r\n", error: unknown),
    // Route forms.
    FailCase(input: "Mx", error: unknown, kind: .route), FailCase(input: "MSG  \r\n", error: unknown, kind: .route),
    FailCase(input: "SUB foo 1\r\n", error: unknown, kind: .route), FailCase(input: "PUB foo 1\r\n", error: unknown, kind: .route),
    FailCase(input: "RMSG $G foo\r\n", error: violation, kind: .route),
    FailCase(input: "RMSG $G foo x q 1\r\n", error: violation, kind: .route),
    FailCase(input: "RMSG $G foo ++ q 1\r\n", error: violation, kind: .route),
    FailCase(input: "RMSG $G foo bar\r\n", error: violation, kind: .route),
    FailCase(input: "HMSG $G foo 5\r\n", error: violation, kind: .route),
    FailCase(input: "HMSG $G foo 5 2\r\n", error: violation, kind: .route),
    FailCase(input: "RS+ $G foo q\r\n", error: violation, kind: .route),
    FailCase(input: "RS+ $G\r\n", error: violation, kind: .route),
    FailCase(input: "RS- $G foo q 1\r\n", error: violation, kind: .route),
    FailCase(input: "RSx", error: unknown, kind: .route), FailCase(input: "Ax", error: unknown, kind: .route),
    FailCase(input: "RMSG $G foo 1\r\nxy", error: unknown, kind: .route),
]

@Suite struct ParserFailureTests {
    @Test(arguments: failCases)
    func failsWhole(_ failCase: FailCase) {
        let limits = failCase.kind == .client ? ParserLimits() : ParserLimits.route()
        let outcome = feed([bytes(failCase.input)], kind: failCase.kind, limits: limits)
        #expect(outcome.error == failCase.error)
        #expect(outcome.events.count == failCase.eventsBefore)
    }

    @Test(arguments: failCases)
    func failsWhenTrickled(_ failCase: FailCase) {
        let limits = failCase.kind == .client ? ParserLimits() : ParserLimits.route()
        let outcome = feed(bytes(failCase.input).map { [$0] }, kind: failCase.kind, limits: limits)
        #expect(outcome.error == failCase.error)
        #expect(outcome.events.count == failCase.eventsBefore)
    }

    /// Which of nats-server's log lines each malformed op gets, and which bytes it quotes (the arguments).
    @Test(arguments: [
        ("PUB foo\r\n", ProtocolError.Complaint.pubArguments, "foo"),
        ("PUB foo -1\r\n", .pubSize, "foo -1"),
        ("HPUB foo\r\n", .headerPubArguments, "foo"),
        ("HPUB foo x 2\r\n", .headerPubHeaderSize, "foo x 2"),
        ("HPUB foo 1 x\r\n", .headerPubTotalSize, "foo 1 x"),
        ("HPUB foo 12 2\r\n", .headerPubHeaderOverTotal, "foo 12 2"),
        ("SUB foo\r\n", .subArguments, "foo"),
        ("UNSUB 1 2 3\r\n", .unsubArguments, "1 2 3"),
        ("CONNECT \r\n", .emptyJSON, ""),
        ("PONX\r\n", .parserError, ""),
    ])
    func complaintNamesTheArguments(_ input: String, _ complaint: ProtocolError.Complaint, _ quoted: String) throws {
        let input = bytes(input)
        let error = try #require(feed([input]).error)
        #expect(error.complaint == complaint)
        #expect(Array(input[error.quotedStart..<error.quotedStart + error.quotedCount]) == bytes(quoted))
    }

    @Test func errorTextsAndReasons() {
        #expect(ProtocolError.unknownOperation.errorText == "Unknown Protocol Operation")
        #expect(ProtocolError.maxControlLineExceeded.errorText == "maximum control line exceeded")
        #expect(ProtocolError.maxControlLineExceeded.reason == .maxControlLineExceeded)
        #expect(ProtocolError.maxPayloadExceeded(size: 2).errorText == "Maximum Payload Violation")
        #expect(ProtocolError.maxPayloadExceeded(size: 2).reason.rawValue == "Maximum Message Payload Exceeded")
        #expect(ProtocolError.maxPayloadExceeded(size: 2).announcedSize == 2)
        #expect(ProtocolError.protocolViolation.errorText == nil)
        #expect(ProtocolError.protocolViolation.reason.rawValue == "Protocol Violation")
    }

    @Test func controlLineLimitTrickledByteByByte() {
        let limits = ParserLimits(maxControlLine: 64)
        let line = bytes("PUB " + String(repeating: "a", count: 60) + " 1000")
        let outcome = feed(line.map { [$0] }, limits: limits)
        #expect(outcome.error == .maxControlLineExceeded)
        // Exactly at the limit is still fine.
        let atLimit = bytes("SUB " + String(repeating: "s", count: 62) + " 1\r\n")
        #expect(feed(atLimit.map { [$0] }, limits: limits).events.count == 1)
        // Blank padding without any argument counts too.
        #expect(feed([bytes("PUB" + String(repeating: " ", count: 100))], limits: limits).error == .maxControlLineExceeded)
        // A CONNECT longer than the limit is rejected like any control line (nats-server does too).
        let connect = bytes("CONNECT {\"name\":\"" + String(repeating: "n", count: 100) + "\"}\r\n")
        #expect(feed([connect], limits: limits).error == .maxControlLineExceeded)
    }

    @Test func routesGetSixteenTimesTheControlLine() {
        let limits = ParserLimits.route()
        #expect(limits.maxControlLine == 65536)
        #expect(limits.maxPayload == 64 * 1024 * 1024)
        let queues = Array(repeating: "queue.name", count: 1000).joined(separator: " ")
        let line = bytes("RMSG $G foo | \(queues) 1\r\nx\r\n")
        #expect(line.count > 4096)
        let outcome = feed([line], kind: .route, limits: limits)
        #expect(outcome.error == nil)
        #expect(outcome.events.count == 1)
        #expect(outcome.events.first?.contains("/1000 ") == true)
    }

    @Test func routedPayloadAboveTheRouteBoundIsRejectedBeforeItArrives() {
        let limits = ParserLimits.route(maxPayload: 1000)
        #expect(feed([bytes("RMSG $G foo 1001\r\n")], kind: .route, limits: limits).error == .maxPayloadExceeded(size: 1001))
        #expect(feed([bytes("HMSG $G foo 12 999999999\r\n")], kind: .route, limits: limits).error
                == .maxPayloadExceeded(size: 999_999_999))
        #expect(feed([bytes("RMSG $G foo 1000\r\n" + String(repeating: "x", count: 1000) + "\r\n")], kind: .route, limits: limits)
            .events.count == 1)
    }

    @Test func payloadAboveMaximumIsRejectedOnTheControlLine() {
        let limits = ParserLimits(maxPayload: 10)
        // The size announced (headers included) is kept for the log line.
        #expect(feed([bytes("PUB foo 11\r\n")], limits: limits).error == .maxPayloadExceeded(size: 11))
        #expect(feed([bytes("HPUB foo 2 11\r\n")], limits: limits).error == .maxPayloadExceeded(size: 11))
        #expect(feed([bytes("PUB foo 10\r\n0123456789\r\n")], limits: limits).events.count == 1)
        #expect(feed([bytes("PUB foo 1048577\r\n")]).error == .maxPayloadExceeded(size: 1_048_577))
    }
}
