import Testing
@testable import NATSMonitoring

/// Feeds `text` to `reader` as raw bytes.
private func feed(_ reader: HTTPRequestReader, _ text: String) -> HTTPRequestReader.Outcome {
    Array(text.utf8).withUnsafeBytes { reader.feed($0) }
}

/// The one request a monitoring connection reads: method and target, whole or in pieces.
@Suite struct HTTPRequestReaderTests {
    @Test func completeRequestGivesMethodAndTarget() {
        let reader = HTTPRequestReader()
        guard case .complete(let method, let target) = feed(reader, "GET /varz?subs=1 HTTP/1.1\r\nHost: x\r\n\r\n") else {
            Issue.record("request not complete")
            return
        }
        #expect(method == "GET")
        #expect(target == "/varz?subs=1")
    }

    @Test func requestSplitAcrossReadsCompletesOnTheLastPiece() {
        let reader = HTTPRequestReader()
        guard case .incomplete = feed(reader, "GET /rou") else { Issue.record("first piece"); return }
        guard case .incomplete = feed(reader, "tez HTTP/1.0\r\n") else { Issue.record("second piece"); return }
        guard case .complete(_, let target) = feed(reader, "\r\n") else { Issue.record("not complete"); return }
        #expect(target == "/routez")
    }

    @Test func garbageIsInvalid() {
        let reader = HTTPRequestReader()
        guard case .invalid = feed(reader, "\u{1}\u{2} nonsense\r\n\r\n") else {
            Issue.record("garbage accepted")
            return
        }
    }
}
