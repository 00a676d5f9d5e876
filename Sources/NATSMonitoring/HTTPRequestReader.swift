import CHTTPParser

/// Reads one HTTP/1.x request with the C HTTP parser: the method and the target are all monitoring needs.
///
/// Memory is bounded: the parser keeps no bytes, only the target is copied, and a request line plus
/// headers longer than `HTTPMessageParser.maxHeadBytes` (1 MiB + 4 KiB, as nats-server's) fails with
/// `HPE_HEADER_OVERFLOW`, which ends reading the target as well. A body is parsed and dropped.
final class HTTPRequestReader {
    /// Why a request cannot be answered.
    enum Failure: Equatable {
        /// Not an HTTP request (also a request line without a version, which http_parser takes for
        /// HTTP/0.9): answered `400 Bad Request`.
        case malformed
        /// A well-formed request of another HTTP version (`HTTP/2.0`, `HTTP/9.9`): answered `505 HTTP
        /// Version Not Supported`, as Go's net/http does.
        case unsupportedVersion
        /// Request line plus headers over `HTTPMessageParser.maxHeadBytes`: answered `431 Request Header
        /// Fields Too Large`, as nats-server answers past the same bound.
        case headerTooLarge
    }

    enum Outcome: Equatable {
        case incomplete
        /// `method` as http_parser names it (`GET`, `POST`…); `target` as sent (`/connz?sort=idle`).
        case complete(method: String, target: String)
        case invalid(Failure)
    }

    private let message = HTTPMessageParser(HTTP_REQUEST, keepsBody: false)
    private var failure: Failure?

    /// Feeds the next bytes of the connection; returns what is known so far. Once the outcome is
    /// `complete` or `invalid` it stays so, and further bytes are ignored.
    func feed(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        guard !message.isComplete, failure == nil else { return outcome() }
        switch message.parse(bytes) {
        case HPE_OK: break
        case HPE_PAUSED where message.httpMajor == 1: break
        case HPE_PAUSED where message.httpMajor == 0: failure = .malformed
        case HPE_PAUSED: failure = .unsupportedVersion
        case HPE_HEADER_OVERFLOW: failure = .headerTooLarge
        default: failure = .malformed
        }
        return outcome()
    }

    private func outcome() -> Outcome {
        if let failure { return .invalid(failure) }
        guard message.isComplete else { return .incomplete }
        return .complete(method: message.method, target: String(decoding: message.target, as: UTF8.self))
    }
}
