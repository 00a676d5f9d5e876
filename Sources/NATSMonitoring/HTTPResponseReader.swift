import CHTTPParser

/// Reads one HTTP/1.x response with the C HTTP parser (in `HTTP_RESPONSE` mode): the body of a `200`
/// answer from another server's monitoring port, framed by `Content-Length`, by chunks, or by the end of
/// the connection (`end()`).
///
/// The bytes come from the network, so memory is bounded: at most `maxBytes` bytes of the connection
/// (head and body, as received) are parsed, only the body is kept, and the reason phrase is cut at
/// `HTTPMessageParser.reasonLimit` bytes. Bytes after the response are ignored.
final class HTTPResponseReader {
    enum Outcome: Equatable {
        case incomplete
        case body([UInt8])
        case failed(MonitorFetchError)
    }

    private let maxBytes: Int
    private let message = HTTPMessageParser(HTTP_RESPONSE, keepsBody: true)
    private var received = 0
    private var final: Outcome?

    /// - Parameter maxBytes: the largest response accepted, head and body; more is `.tooLarge`.
    init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    /// Feeds the next bytes of the connection; returns what is known so far. Once the outcome is `body`
    /// or `failed` it stays so, and further bytes are ignored.
    func feed(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        if let final { return final }
        // Only what fits under the bound is parsed: a response that ends inside it is still read whole.
        let allowed = min(bytes.count, maxBytes - received)
        received += allowed
        let error = message.parse(UnsafeRawBufferPointer(rebasing: bytes[..<allowed]))
        if let outcome = settled(error) { return outcome }
        return allowed < bytes.count ? settle(.failed(.tooLarge)) : .incomplete
    }

    /// The connection ended: completes a body framed by the end, or fails a response cut short.
    func end() -> Outcome {
        if let final { return final }
        return settled(message.parseEnd()) ?? settle(.failed(.truncated))
    }

    /// The final outcome the parser's state gives after `error`, if there is one yet. The same whatever
    /// the reads were cut into: a head that was read decides first, so a peer's `404` followed by bytes
    /// that are not HTTP is reported as its status line in one read as in many.
    private func settled(_ error: http_errno) -> Outcome? {
        if message.isHeadComplete {
            // Only HTTP/1.x, as requested; http_parser would take HTTP/2.0 or HTTP/9.9 status lines too.
            guard message.httpMajor == 1 else { return settle(.failed(.malformed)) }
            // The body of another status is never the document: refused without waiting for it.
            guard message.statusCode == 200 else { return settle(.failed(.status(statusLine))) }
        }
        switch error {
        case HPE_OK, HPE_PAUSED:
            return message.isComplete ? settle(.body(message.body)) : nil
        case HPE_INVALID_EOF_STATE:
            return settle(.failed(.truncated))
        default:
            return settle(.failed(.malformed))
        }
    }

    private func settle(_ outcome: Outcome) -> Outcome {
        final = outcome
        return outcome
    }

    /// `HTTP/1.1 404 Not Found`, rebuilt from the parsed status line (the reason phrase cut short).
    private var statusLine: String {
        let reason = String(decoding: message.reason, as: UTF8.self)
        let line = "HTTP/\(message.httpMajor).\(message.httpMinor) \(message.statusCode)"
        return reason.isEmpty ? line : "\(line) \(reason)"
    }
}
