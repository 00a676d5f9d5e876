// Compiled only by the BenchTests target (which defines BENCH_TESTS); inside the `bench`
// executable target these files are empty, so the tree builds with or without that target.
#if BENCH_TESTS
import Testing
@testable import bench

@Suite struct InboundScannerTests {
    static let stream = Array(
        ("INFO {\"server_id\":\"x\",\"max_payload\":1048576}\r\n"
            + "PONG\r\n"
            + "MSG bench.data 1 5\r\nhello\r\n"
            + "MSG bench.probe 2 0\r\n\r\n"
            + "PING\r\n"
            + "MSG bench.data 1 _INBOX.a 12\r\nPING\r\nPONG\r\n\r\n"
            + "+OK\r\n"
            + "HMSG bench.data 1 _INBOX.b 12 17\r\nNATS/1.0\r\n\r\nabcde\r\n"
            + "MSG bench.data 11 3\r\nabc\r\n").utf8
    )

    private func check(_ scanner: InboundScanner) {
        #expect(scanner.infos == 1)
        #expect(scanner.pongs == 1)
        #expect(scanner.pings == 1)
        #expect(scanner.dataMessages == 3)
        #expect(scanner.probeMessages == 2)
        #expect(scanner.error == nil)
    }

    @Test func countsWholeStream() {
        var scanner = InboundScanner()
        scanner.consume(Self.stream)
        check(scanner)
    }

    @Test func everySplitPointGivesTheSameCounts() {
        for split in 0...Self.stream.count {
            var scanner = InboundScanner()
            scanner.consume(Array(Self.stream[..<split]))
            scanner.consume(Array(Self.stream[split...]))
            check(scanner)
        }
    }

    @Test func byteAtATime() {
        var scanner = InboundScanner()
        for byte in Self.stream { scanner.consume([byte]) }
        check(scanner)
    }

    @Test func randomSplits() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var scanner = InboundScanner()
            var start = 0
            while start < Self.stream.count {
                let end = min(Self.stream.count, start + Int.random(in: 1...40, using: &generator))
                scanner.consume(Array(Self.stream[start..<end]))
                start = end
            }
            check(scanner)
        }
    }

    @Test func capturesReplySubjectsInOrder() {
        var scanner = InboundScanner(captureReply: true)
        scanner.consume(Self.stream)
        #expect(scanner.takeReplies() == [[], [], Array("_INBOX.a".utf8), Array("_INBOX.b".utf8), []])
        #expect(scanner.takeReplies().isEmpty)
    }

    @Test func payloadThatLooksLikeProtocolIsSkipped() {
        var scanner = InboundScanner()
        scanner.consume(Array("MSG a 1 14\r\nMSG a 1 0\r\n\r\n\r\n".utf8))
        #expect(scanner.dataMessages == 1)
        #expect(scanner.error == nil)
    }

    @Test(arguments: [
        ("-ERR 'Slow Consumer'\r\n", "-ERR 'Slow Consumer'"),
        ("MSG a 1\r\n", "malformed message line: MSG a 1"),
        ("MSG a 1 x y z\r\n", "malformed message line: MSG a 1 x y z"),
        ("MSG a 1 1x\r\n", "bad size in: MSG a 1 1x"),
        ("HMSG a 1 5\r\n", "malformed message line: HMSG a 1 5"),
        ("XY\r\n", "unexpected line: XY"),
    ])
    func reportsBadLines(input: String, expected: String) {
        var scanner = InboundScanner()
        scanner.consume(Array(input.utf8))
        #expect(scanner.error == expected)
        #expect(scanner.dataMessages == 0)
    }

    @Test func overlongLineIsAnError() {
        var scanner = InboundScanner()
        scanner.consume([UInt8](repeating: UInt8(ascii: "a"), count: InboundScanner.maxLineLength + 1))
        #expect(scanner.error != nil)
    }
}
#endif
