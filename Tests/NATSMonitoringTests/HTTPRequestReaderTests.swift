import Testing
@testable import NATSMonitoring

/// The request reader: one request at any byte split, bounded headers, clean failures.
@Suite struct HTTPRequestReaderTests {
    private func read(_ chunks: [[UInt8]]) -> HTTPRequestReader.Outcome {
        let reader = HTTPRequestReader()
        var outcome = HTTPRequestReader.Outcome.incomplete
        for chunk in chunks {
            outcome = chunk.withUnsafeBytes { reader.feed($0) }
        }
        return outcome
    }

    private func read(_ text: String) -> HTTPRequestReader.Outcome {
        read([Array(text.utf8)])
    }

    /// Feeds `start`, then `chunk` over and over while the reader wants more (at most 4 MiB of
    /// chunks); returns the last outcome and how many bytes of chunks were fed.
    private func feedEndlessly(_ start: String, then chunk: [UInt8]) -> (HTTPRequestReader.Outcome, fed: Int) {
        let reader = HTTPRequestReader()
        var outcome = Array(start.utf8).withUnsafeBytes { reader.feed($0) }
        var fed = 0
        while outcome == .incomplete && fed < 4 << 20 {
            outcome = chunk.withUnsafeBytes { reader.feed($0) }
            fed += chunk.count
        }
        return (outcome, fed)
    }

    @Test func readsMethodAndTarget() {
        #expect(read("GET /connz?sort=idle HTTP/1.1\r\nHost: x\r\n\r\n") == .complete(method: "GET", target: "/connz?sort=idle"))
        #expect(read("HEAD /varz HTTP/1.0\r\n\r\n") == .complete(method: "HEAD", target: "/varz"))
        #expect(read("GET /connz?= HTTP/1.1\r\n\r\n") == .complete(method: "GET", target: "/connz?="))
    }

    @Test func everySplitPointGivesTheSameRequest() {
        let bytes = Array("GET /routez?a=1&=&b HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n".utf8)
        for split in 1..<bytes.count {
            #expect(read([Array(bytes[..<split]), Array(bytes[split...])]) == .complete(method: "GET", target: "/routez?a=1&=&b"))
            #expect(read([Array(bytes[..<split])]) == .incomplete)
        }
        #expect(read(bytes.map { [$0] }) == .complete(method: "GET", target: "/routez?a=1&=&b"))
    }

    @Test func waitsForTheBodyAndDropsIt() {
        let head = "POST /varz HTTP/1.1\r\nContent-Length: 5\r\n\r\n"
        #expect(read(head) == .incomplete)
        #expect(read([Array(head.utf8), Array("hello".utf8)]) == .complete(method: "POST", target: "/varz"))
        #expect(read("POST /varz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
                == .complete(method: "POST", target: "/varz"))
    }

    @Test func staysCompleteAndIgnoresWhatFollows() {
        let reader = HTTPRequestReader()
        let first = Array("GET /varz HTTP/1.1\r\n\r\nGET /connz HTTP/1.1\r\n\r\n".utf8).withUnsafeBytes { reader.feed($0) }
        #expect(first == .complete(method: "GET", target: "/varz"))
        let again = Array("garbage".utf8).withUnsafeBytes { reader.feed($0) }
        #expect(again == .complete(method: "GET", target: "/varz"))
    }

    @Test(arguments: ["GARBAGE\r\n\r\n", "\u{0}\u{1}\r\n\r\n", "GET /varz HTTP/1.1\r\nHost x\r\n\r\n",
                      "GET /varz\r\n\r\n", "GET /va rz HTTP/1.1\r\n\r\n", "GET /varz HTTP/1.1\r\nContent-Length: x\r\n\r\n"])
    func malformedRequests(text: String) {
        #expect(read(text) == .invalid(.malformed))
    }

    @Test func otherVersionsAreUnsupported() {
        #expect(read("GET /varz HTTP/2.0\r\n\r\n") == .invalid(.unsupportedVersion))
        #expect(read("GET /varz HTTP/9.9\r\n\r\n") == .invalid(.unsupportedVersion))
    }

    @Test func failureIsFinal() {
        let reader = HTTPRequestReader()
        #expect(Array("BAD\r\n\r\n".utf8).withUnsafeBytes { reader.feed($0) } == .invalid(.malformed))
        #expect(Array("GET / HTTP/1.1\r\n\r\n".utf8).withUnsafeBytes { reader.feed($0) } == .invalid(.malformed))
    }

    /// A header that never ends is refused once the request passes the 1 MiB + 4 KiB head limit
    /// (nats-server's), however it is split, so the reader never holds more than that plus one read.
    @Test func endlessHeaderIsBounded() {
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 4096)
        let (outcome, fed) = feedEndlessly("GET /varz HTTP/1.1\r\nX-Endless: ", then: chunk)
        #expect(outcome == .invalid(.headerTooLarge))
        #expect(fed > HTTPMessageParser.maxHeadBytes - chunk.count && fed <= HTTPMessageParser.maxHeadBytes + chunk.count)
    }

    @Test func endlessTargetIsBounded() {
        let chunk = Array(String(repeating: "a=1&", count: 1024).utf8)
        let (outcome, fed) = feedEndlessly("GET /varz?", then: chunk)
        #expect(outcome == .invalid(.headerTooLarge))
        #expect(fed > HTTPMessageParser.maxHeadBytes - chunk.count && fed <= HTTPMessageParser.maxHeadBytes + chunk.count)
    }

    /// A long query string under the limit is read whole: nats-server serves a 1000 KB one.
    @Test func longTargetUnderTheLimitIsRead() {
        let target = "/connz?" + String(repeating: "a", count: 1_000_000)
        #expect(read("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n") == .complete(method: "GET", target: target))
    }

    @Test func emptyFeedChangesNothing() {
        let reader = HTTPRequestReader()
        #expect([UInt8]().withUnsafeBytes { reader.feed($0) } == .incomplete)
        #expect(Array("GET / HTTP/1.1\r\n\r\n".utf8).withUnsafeBytes { reader.feed($0) } == .complete(method: "GET", target: "/"))
    }
}
