import CHTTPParser

/// One message of an HTTP/1.x stream through the C HTTP parser (http-parser), with the callbacks that
/// keep what monitoring reads from it: the request target, the response's reason phrase and its body.
/// Shared by `HTTPRequestReader` (requests to our monitoring port) and `HTTPResponseReader` (peers'
/// answers for `/topologyz`); each turns the parser's state into its own outcome.
///
/// The parser pauses after one message (`HPE_PAUSED`): monitoring reads one request or one response per
/// connection, and what follows it is ignored. It keeps no bytes of its own; head sizes are bounded by
/// `maxHeadBytes` (`HPE_HEADER_OVERFLOW`), the body only by the caller, who must bound what it feeds when
/// it keeps the body.
final class HTTPMessageParser {
    /// At most this many bytes of a response's reason phrase are kept: enough to show a peer's status
    /// line on the topology page, not a way for it to make us store its head.
    static let reasonLimit = 64

    /// The longest head (start line and headers, bytes) accepted, as nats-server's monitor accepts: its
    /// Go http.Server has `MaxHeaderBytes` 1 MiB and reads a request head up to that plus 4096 bytes of
    /// buffer slack (net/http `initialReadLimitSize`), answering 431 past it. http_parser's own default
    /// (80 KiB in Debian's build) refused long query strings nats-server serves.
    static let maxHeadBytes = (1 << 20) + 4096

    /// http_parser keeps its head limit in one process-wide variable: set once, before any parser runs
    /// (a static let is initialised exactly once, whichever thread gets there first).
    private static let headLimitSet: Void = http_parser_set_max_header_size(UInt32(maxHeadBytes))

    private let parser: UnsafeMutablePointer<http_parser>
    private let settings: UnsafeMutablePointer<http_parser_settings>
    private let keepsBody: Bool
    /// The request target as sent (`/connz?sort=idle`); empty for a response.
    private(set) var target: [UInt8] = []
    /// The response's reason phrase (`Not Found`), its first `reasonLimit` bytes; empty for a request.
    private(set) var reason: [UInt8] = []
    /// The body without its framing (chunks joined), when kept.
    private(set) var body: [UInt8] = []
    /// The status line and the headers have been read.
    private(set) var isHeadComplete = false
    /// The whole message has been read; the parser is paused.
    private(set) var isComplete = false

    /// - Parameter keepsBody: whether `body` collects the body; a request's body is parsed and dropped.
    init(_ type: http_parser_type, keepsBody: Bool) {
        _ = HTTPMessageParser.headLimitSet
        self.keepsBody = keepsBody
        parser = .allocate(capacity: 1)
        settings = .allocate(capacity: 1)
        settings.initialize(to: http_parser_settings())
        settings.pointee.on_url = { parser, at, length in
            guard let owner = HTTPMessageParser.owner(of: parser), let at else { return 0 }
            owner.target.append(contentsOf: UnsafeRawBufferPointer(start: at, count: length))
            return 0
        }
        settings.pointee.on_status = { parser, at, length in
            guard let owner = HTTPMessageParser.owner(of: parser), let at else { return 0 }
            let room = max(0, HTTPMessageParser.reasonLimit - owner.reason.count)
            owner.reason.append(contentsOf: UnsafeRawBufferPointer(start: at, count: min(length, room)))
            return 0
        }
        settings.pointee.on_headers_complete = { parser in
            HTTPMessageParser.owner(of: parser)?.isHeadComplete = true
            return 0
        }
        settings.pointee.on_body = { parser, at, length in
            guard let owner = HTTPMessageParser.owner(of: parser), owner.keepsBody, let at else { return 0 }
            owner.body.append(contentsOf: UnsafeRawBufferPointer(start: at, count: length))
            return 0
        }
        settings.pointee.on_message_complete = { parser in
            guard let parser else { return 0 }
            HTTPMessageParser.owner(of: parser)?.isComplete = true
            http_parser_pause(parser, 1)
            return 0
        }
        parser.initialize(to: http_parser())
        http_parser_init(parser, type)
        // Unretained: this object owns the parser, so it outlives every callback.
        parser.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        parser.deinitialize(count: 1)
        parser.deallocate()
        settings.deinitialize(count: 1)
        settings.deallocate()
    }

    private static func owner(of parser: UnsafeMutablePointer<http_parser>?) -> HTTPMessageParser? {
        guard let data = parser?.pointee.data else { return nil }
        return Unmanaged<HTTPMessageParser>.fromOpaque(data).takeUnretainedValue()
    }

    /// Parses the next bytes of the connection and returns the parser's error: `HPE_OK` while the message
    /// goes on, `HPE_PAUSED` once it is complete (later bytes are not parsed), anything else for bytes that
    /// are not HTTP. An empty buffer is not the end of the connection (that is `parseEnd`).
    func parse(_ bytes: UnsafeRawBufferPointer) -> http_errno {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return errno }
        _ = http_parser_execute(parser, settings, base.assumingMemoryBound(to: CChar.self), bytes.count)
        return errno
    }

    /// Tells the parser the connection ended (http_parser_execute with no bytes): completes a body framed
    /// by the end of the connection; `HPE_INVALID_EOF_STATE` inside a head or a sized or chunked body.
    func parseEnd() -> http_errno {
        _ = http_parser_execute(parser, settings, nil, 0)
        return errno
    }

    private var errno: http_errno { http_errno(rawValue: CHTTPParser_errno(parser)) }

    /// The message's HTTP major version: 1 for HTTP/1.x, 0 for a request line without a version
    /// (which http_parser takes for HTTP/0.9).
    var httpMajor: Int { Int(parser.pointee.http_major) }
    var httpMinor: Int { Int(parser.pointee.http_minor) }
    /// A response's status code, once its status line is read.
    var statusCode: Int { Int(parser.pointee.status_code) }
    /// A request's method as http_parser names it (`GET`, `POST`…).
    var method: String { String(cString: http_method_str(http_method(rawValue: UInt32(parser.pointee.method)))) }
}
