import UVLoop
import NATSConfig
import NATSJSON
import NATSServer
import CHTTPParser

/// Reads one HTTP/1.x request with the C HTTP parser: the method and the URL are all monitoring needs.
final class HTTPRequestReader {
    enum Outcome {
        case incomplete
        case complete(method: String, target: String)
        case invalid
    }

    private let parser: UnsafeMutablePointer<http_parser>
    private let settings: UnsafeMutablePointer<http_parser_settings>
    fileprivate var url: [UInt8] = []
    fileprivate var isComplete = false

    init() {
        parser = .allocate(capacity: 1)
        settings = .allocate(capacity: 1)
        settings.initialize(to: http_parser_settings())
        settings.pointee.on_url = { parser, at, length in
            guard let parser, let at else { return 0 }
            let reader = Unmanaged<HTTPRequestReader>.fromOpaque(parser.pointee.data).takeUnretainedValue()
            reader.url.append(contentsOf: UnsafeRawBufferPointer(start: at, count: length))
            // A monitoring URL longer than this is not one of ours.
            return reader.url.count > 8192 ? 1 : 0
        }
        settings.pointee.on_message_complete = { parser in
            guard let parser else { return 0 }
            let reader = Unmanaged<HTTPRequestReader>.fromOpaque(parser.pointee.data).takeUnretainedValue()
            reader.isComplete = true
            // Pause after one request: the connection answers it and closes.
            http_parser_pause(parser, 1)
            return 0
        }
        http_parser_init(parser, HTTP_REQUEST)
        // Unretained: the reader owns the parser, so it outlives every callback.
        parser.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        parser.deallocate()
        settings.deinitialize(count: 1)
        settings.deallocate()
    }

    /// Feeds bytes; returns what is known so far.
    func feed(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        guard !isComplete else { return outcome() }
        let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
        _ = http_parser_execute(parser, settings, base, bytes.count)
        let error = CHTTPParser_errno(parser)
        if error != HPE_OK.rawValue && error != HPE_PAUSED.rawValue { return .invalid }
        return outcome()
    }

    private func outcome() -> Outcome {
        guard isComplete else { return .incomplete }
        let method = String(cString: http_method_str(http_method(rawValue: UInt32(parser.pointee.method))))
        return .complete(method: method, target: String(decoding: url, as: UTF8.self))
    }
}
