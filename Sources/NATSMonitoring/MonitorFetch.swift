import UVLoop

/// One `GET` of another server's monitoring endpoint (`/varz`, `/routez`), for `/topologyz`.
///
/// Deliberately minimal: HTTP/1.0 with `Connection: close`, one request per connection, no redirects; the
/// response is read by `HTTPResponseReader` (http-parser), its body framed by `Content-Length`, by chunks or
/// by the end of the connection. Memory is bounded by `maxResponseBytes`; time by the caller, who cancels
/// what has not answered by its deadline (the dial itself is bounded by `start`'s timeout too). The
/// completion runs exactly once, on the loop, unless `cancel()` came first.
final class MonitorFetch: TCPConnectionDelegate {
    /// Responses (head and body) larger than this are refused: a /routez of 100 peers with pools of 3
    /// is about 150 KB, so 1 MiB leaves room without letting a broken peer fill our memory.
    static let maxResponseBytes = 1 << 20

    private let loop: EventLoop
    private let host: String
    private let port: Int
    private let path: String
    private var completion: ((Result<[UInt8], MonitorFetchError>) -> Void)?
    private var attempt: ConnectAttempt?
    private var connection: TCPConnection?
    private let response = HTTPResponseReader(maxBytes: MonitorFetch.maxResponseBytes)

    /// - Parameters: `host` is numeric or a name, `path` the target (`/routez`).
    init(loop: EventLoop, host: String, port: Int, path: String,
         completion: @escaping (Result<[UInt8], MonitorFetchError>) -> Void) {
        self.loop = loop
        self.host = host
        self.port = port
        self.path = path
        self.completion = completion
    }

    /// Dials; a dial not answered within `timeoutMilliseconds` fails with the dial's error.
    func start(timeoutMilliseconds: UInt64) {
        attempt = TCPConnection.connect(loop: loop, host: host, port: port, timeoutMilliseconds: timeoutMilliseconds) {
            [weak self] result in self?.dialled(result)
        }
    }

    /// Drops the request without calling the completion; closes the socket or the dial.
    func cancel() {
        completion = nil
        attempt?.cancel()
        attempt = nil
        connection?.close()
    }

    private func dialled(_ result: Result<TCPConnection, UVError>) {
        attempt = nil
        switch result {
        case .failure(let error):
            finish(.failure(.unreachable("\(error)")))
        case .success(let connection):
            guard completion != nil else { return connection.close() }
            self.connection = connection
            connection.delegate = self
            connection.startReading()
            let request = "GET \(path) HTTP/1.0\r\nHost: \(MonitorFetch.authority(host, port))\r\nConnection: close\r\n\r\n"
            connection.write(Array(request.utf8))
        }
    }

    func connectionDidRead(_ connection: TCPConnection, bytes: UnsafeRawBufferPointer) -> ReadDisposition {
        if completion != nil { answered(response.feed(bytes)) }
        return ReadDisposition(consumed: bytes.count, needed: 0)
    }

    func connectionDidClose(_ connection: TCPConnection, error: UVError?) {
        connection.delegate = nil
        self.connection = nil
        if completion != nil { answered(response.end()) }
    }

    private func answered(_ outcome: HTTPResponseReader.Outcome) {
        switch outcome {
        case .incomplete: break
        case .body(let body): finish(.success(body))
        case .failed(let error): finish(.failure(error))
        }
    }

    private func finish(_ result: Result<[UInt8], MonitorFetchError>) {
        guard let completion else { return }
        self.completion = nil
        connection?.close()
        completion(result)
    }

    /// `host:port`, with brackets around an IPv6 address.
    static func authority(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Why a peer's monitoring document could not be read; the text is shown on the topology page.
enum MonitorFetchError: Error, Equatable, CustomStringConvertible {
    case unreachable(String)
    case tooLarge
    case truncated
    case malformed
    case status(String)

    var description: String {
        switch self {
        case .unreachable(let why): "cannot connect: \(why)"
        case .tooLarge: "answer over \(MonitorFetch.maxResponseBytes) bytes"
        case .truncated: "connection closed before the whole answer"
        case .malformed: "not an HTTP answer"
        case .status(let line): "answered \(line)"
        }
    }
}
