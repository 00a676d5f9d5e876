import CHTTPParser

/// Reads one HTTP/1.x request with the C HTTP parser: the method and the target are all monitoring needs.
///
/// Memory is bounded: the parser keeps no bytes, only the target is copied, and http_parser fails a
/// request line plus headers longer than its `HTTP_MAX_HEADER_SIZE` (80 KiB in Debian's build) with
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
        /// Request line plus headers over the parser's limit: answered `431 Request Header Fields Too
        /// Large` (nats-server answers the same beyond its 1 MiB `MaxHeaderBytes`).
        case headerTooLarge
    }

    enum Outcome: Equatable {
        case incomplete
        /// `method` as http_parser names it (`GET`, `POST`…); `target` as sent (`/connz?sort=idle`).
        case complete(method: String, target: String)
        case invalid(Failure)
    }

    private let parser: UnsafeMutablePointer<http_parser>
    private let settings: UnsafeMutablePointer<http_parser_settings>
    fileprivate var target: [UInt8] = []
    fileprivate var isComplete = false
    fileprivate var failure: Failure?

    init() {
        parser = .allocate(capacity: 1)
        settings = .allocate(capacity: 1)
        settings.initialize(to: http_parser_settings())
        settings.pointee.on_url = { parser, at, length in
            guard let parser, let at else { return 0 }
            let reader = Unmanaged<HTTPRequestReader>.fromOpaque(parser.pointee.data).takeUnretainedValue()
            reader.target.append(contentsOf: UnsafeRawBufferPointer(start: at, count: length))
            return 0
        }
        settings.pointee.on_message_complete = { parser in
            guard let parser else { return 0 }
            let reader = Unmanaged<HTTPRequestReader>.fromOpaque(parser.pointee.data).takeUnretainedValue()
            switch parser.pointee.http_major {
            case 1: reader.isComplete = true
            case 0: reader.failure = .malformed
            default: reader.failure = .unsupportedVersion
            }
            // Pause after one request: the connection answers it and closes.
            http_parser_pause(parser, 1)
            return 0
        }
        parser.initialize(to: http_parser())
        http_parser_init(parser, HTTP_REQUEST)
        // Unretained: the reader owns the parser, so it outlives every callback.
        parser.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        parser.deinitialize(count: 1)
        parser.deallocate()
        settings.deinitialize(count: 1)
        settings.deallocate()
    }

    /// Feeds the next bytes of the connection; returns what is known so far. Once the outcome is
    /// `complete` or `invalid` it stays so, and further bytes are ignored.
    func feed(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        guard !isComplete, failure == nil else { return outcome() }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return outcome() }
        _ = http_parser_execute(parser, settings, base.assumingMemoryBound(to: CChar.self), bytes.count)
        switch CHTTPParser_errno(parser) {
        case HPE_OK.rawValue, HPE_PAUSED.rawValue: break  // a version failure was set by the callback
        case HPE_HEADER_OVERFLOW.rawValue: failure = .headerTooLarge
        default: failure = .malformed
        }
        return outcome()
    }

    private func outcome() -> Outcome {
        if let failure { return .invalid(failure) }
        guard isComplete else { return .incomplete }
        let method = String(cString: http_method_str(http_method(rawValue: UInt32(parser.pointee.method))))
        return .complete(method: method, target: String(decoding: target, as: UTF8.self))
    }
}
