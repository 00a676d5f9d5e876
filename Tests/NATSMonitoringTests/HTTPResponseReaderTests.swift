import Testing
@testable import NATSMonitoring

/// The response reader behind `/topologyz`'s fetches: one response from a peer's monitoring port, at any
/// byte split, framed every way HTTP/1.x allows, bounded, and failing clearly on anything else.
@Suite struct HTTPResponseReaderTests {
    private static let document = #"{"server_id":"NB"}"#

    /// Feeds `chunks` in order, then the end of the connection if `ended`; the last outcome.
    private func read(_ chunks: [[UInt8]], ended: Bool = false, maxBytes: Int = 1 << 20) -> HTTPResponseReader.Outcome {
        let reader = HTTPResponseReader(maxBytes: maxBytes)
        var outcome = HTTPResponseReader.Outcome.incomplete
        for chunk in chunks {
            outcome = chunk.withUnsafeBytes { reader.feed($0) }
        }
        return ended ? reader.end() : outcome
    }

    private func read(_ text: String, ended: Bool = false, maxBytes: Int = 1 << 20) -> HTTPResponseReader.Outcome {
        read([Array(text.utf8)], ended: ended, maxBytes: maxBytes)
    }

    private var body: HTTPResponseReader.Outcome { .body(Array(Self.document.utf8)) }

    @Test func bodiesAreFramedByContentLengthChunksOrTheEnd() {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n"
        #expect(read(head + Self.document) == body)
        #expect(read(head + Self.document + "trailing") == body)
        #expect(read(head + "{\"server") == .incomplete)
        #expect(read("HTTP/1.0 200 OK\r\n\r\n" + Self.document) == .incomplete)
        #expect(read("HTTP/1.0 200 OK\r\n\r\n" + Self.document, ended: true) == body)
        #expect(read("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + Self.document, ended: true) == body)
        #expect(read("HTTP/1.1 200 OK\r\nContent-Le") == .incomplete)
        #expect(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"ser\r\nd\r\nver_id\":\"NB\"}\r\n0\r\n\r\n")
                == body)
        #expect(read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") == .body([]))
    }

    @Test func everySplitPointGivesTheSameBody() {
        let bytes = Array(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                           + "7\r\n{\"serve\r\nb\r\nr_id\":\"NB\"}\r\n0\r\n\r\n").utf8)
        for split in 1..<bytes.count {
            #expect(read([Array(bytes[..<split]), Array(bytes[split...])]) == body)
            #expect(read([Array(bytes[..<split])]) == .incomplete)
        }
        #expect(read(bytes.map { [$0] }) == body)
    }

    @Test func otherStatusesAreRefusedWithTheirStatusLine() {
        #expect(read("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") == .failed(.status("HTTP/1.1 404 Not Found")))
        // Refused once the head is read, without waiting for the body.
        #expect(read("HTTP/1.0 503 Service Unavailable\r\nContent-Length: 900\r\n\r\n{")
                == .failed(.status("HTTP/1.0 503 Service Unavailable")))
        #expect(read("HTTP/1.1 204\r\n\r\n") == .failed(.status("HTTP/1.1 204")))
        let longReason = String(repeating: "x", count: 10_000)
        #expect(read("HTTP/1.1 500 \(longReason)\r\n\r\n")
                == .failed(.status("HTTP/1.1 500 " + String(repeating: "x", count: HTTPMessageParser.reasonLimit))))
    }

    @Test func badStatusLinesAreMalformed() {
        #expect(read("SSH-2.0-OpenSSH\r\n\r\n") == .failed(.malformed))
        #expect(read("garbage", ended: true) == .failed(.malformed))
        #expect(read("HTTP/1.1 2000 OK\r\n\r\n") == .failed(.malformed))
        #expect(read("HTTP/1.1 OK\r\n\r\n") == .failed(.malformed))
        #expect(read("HTTP/1.x 200 OK\r\n\r\n") == .failed(.malformed))
        #expect(read("HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n") == .failed(.malformed))
        #expect(read("GET /varz HTTP/1.1\r\n\r\n") == .failed(.malformed))
    }

    @Test func badFramingIsMalformed() {
        #expect(read("HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n") == .failed(.malformed))
        #expect(read("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n") == .failed(.malformed))
        #expect(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") == .failed(.malformed))
        #expect(read("HTTP/1.1 200 OK\r\nBad Header\r\n\r\n") == .failed(.malformed))
    }

    @Test func answersCutShortAreTruncated() {
        #expect(read("", ended: true) == .failed(.truncated))
        #expect(read("HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\n{\"server", ended: true) == .failed(.truncated))
        #expect(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"ser", ended: true) == .failed(.truncated))
        #expect(read("HTTP/1.1 200 OK\r\nContent-Ty", ended: true) == .failed(.truncated))
        #expect(read("HTT", ended: true) == .failed(.truncated))
    }

    /// At most `maxBytes` of the connection are read: a response that ends within them is whole, one
    /// byte more is refused, whatever frames the body.
    @Test func oversizeAnswersAreRefused() {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\n"
        let whole = head + Self.document
        #expect(read(whole, maxBytes: whole.utf8.count) == body)
        #expect(read(whole + "trailing", maxBytes: whole.utf8.count) == body)
        #expect(read(whole, maxBytes: whole.utf8.count - 1) == .failed(.tooLarge))
        #expect(read("HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n" + String(repeating: "x", count: 2000), maxBytes: 1000)
                == .failed(.tooLarge))
        let byEnd = "HTTP/1.0 200 OK\r\n\r\n" + String(repeating: "x", count: 2000)
        #expect(read(byEnd, ended: true, maxBytes: 1000) == .failed(.tooLarge))
        #expect(read(byEnd, ended: true, maxBytes: byEnd.utf8.count) == .body(Array(String(repeating: "x", count: 2000).utf8)))
        // Over several reads, and a head that never ends.
        let reader = HTTPResponseReader(maxBytes: 1 << 16)
        var outcome = Array("HTTP/1.1 200 OK\r\n".utf8).withUnsafeBytes { reader.feed($0) }
        var fed = 0
        while outcome == .incomplete && fed < 1 << 20 {
            outcome = Array("X-Filler: abcdefghijklmnop\r\n".utf8).withUnsafeBytes { reader.feed($0) }
            fed += 28
        }
        #expect(outcome == .failed(.tooLarge) && fed <= 1 << 16)
    }

    @Test func staysFinalAndIgnoresWhatFollows() {
        let reader = HTTPResponseReader(maxBytes: 1 << 20)
        let first = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 404 Nope\r\n\r\n".utf8).withUnsafeBytes { reader.feed($0) }
        #expect(first == .body(Array("{}".utf8)))
        #expect(Array("garbage".utf8).withUnsafeBytes { reader.feed($0) } == first)
        #expect(reader.end() == first)
        let refused = HTTPResponseReader(maxBytes: 1 << 20)
        #expect(Array("nope".utf8).withUnsafeBytes { refused.feed($0) } == .failed(.malformed))
        #expect(Array("HTTP/1.1 200 OK\r\n\r\n".utf8).withUnsafeBytes { refused.feed($0) } == .failed(.malformed))
        #expect(refused.end() == .failed(.malformed))
    }
}
