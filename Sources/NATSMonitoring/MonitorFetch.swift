import UVLoop

/// One `GET` of another server's monitoring endpoint (`/varz`, `/routez`), for `/topologyz`.
///
/// Deliberately minimal: HTTP/1.0 with `Connection: close`, one request per connection, a body framed by
/// `Content-Length` or by the end of the connection, no redirects, no chunked bodies (natsd's monitor sends
/// neither). Memory is bounded by `maxResponseBytes`; time by the caller, who cancels what has not
/// answered by its deadline (the dial itself is bounded by `start`'s timeout too). The completion runs
/// exactly once, on the loop, unless `cancel()` came first.
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
    private var received: [UInt8] = []

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
        guard completion != nil else { return ReadDisposition(consumed: bytes.count, needed: 0) }
        guard received.count + bytes.count <= MonitorFetch.maxResponseBytes else {
            finish(.failure(.tooLarge))
            return ReadDisposition(consumed: bytes.count, needed: 0)
        }
        received.append(contentsOf: bytes)
        switch MonitorHTTPResponse.body(of: received, ended: false) {
        case .incomplete: break
        case .body(let body): finish(.success(body))
        case .failed(let error): finish(.failure(error))
        }
        return ReadDisposition(consumed: bytes.count, needed: 0)
    }

    func connectionDidClose(_ connection: TCPConnection, error: UVError?) {
        connection.delegate = nil
        self.connection = nil
        guard completion != nil else { return }
        switch MonitorHTTPResponse.body(of: received, ended: true) {
        case .body(let body): finish(.success(body))
        case .failed(let error): finish(.failure(error))
        case .incomplete: finish(.failure(.truncated))
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
    case unsupported(String)

    var description: String {
        switch self {
        case .unreachable(let why): "cannot connect: \(why)"
        case .tooLarge: "answer over \(MonitorFetch.maxResponseBytes) bytes"
        case .truncated: "connection closed before the whole answer"
        case .malformed: "not an HTTP answer"
        case .status(let line): "answered \(line)"
        case .unsupported(let what): "unsupported answer: \(what)"
        }
    }
}

/// Framing of an HTTP/1.x response: where the body starts and ends.
enum MonitorHTTPResponse {
    enum Outcome: Equatable {
        case incomplete
        case body([UInt8])
        case failed(MonitorFetchError)
    }

    /// The body of `bytes` once complete: when `Content-Length` bytes followed the head, or at the end of
    /// the connection (`ended`) for a response without one. Only a `200` status is a body.
    static func body(of bytes: [UInt8], ended: Bool) -> Outcome {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headEnd = bytes.firstRange(of: separator)?.upperBound else {
            return ended ? .failed(bytes.isEmpty ? .truncated : .malformed) : .incomplete
        }
        let head = String(decoding: bytes[..<(headEnd - 4)], as: UTF8.self)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.first ?? ""
        let status = statusLine.split(separator: " ", maxSplits: 2)
        guard status.count >= 2, status[0].hasPrefix("HTTP/1.") else { return .failed(.malformed) }
        guard status[1] == "200" else { return .failed(.status(String(statusLine.prefix(80)))) }
        var contentLength: Int?
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces()
            if name == "content-length" {
                guard let length = Int(value), length >= 0 else { return .failed(.malformed) }
                contentLength = length
            } else if name == "transfer-encoding", value.lowercased() != "identity" {
                return .failed(.unsupported("Transfer-Encoding \(value.prefix(20))"))
            }
        }
        let available = bytes.count - headEnd
        if let contentLength {
            if available >= contentLength { return .body(Array(bytes[headEnd..<(headEnd + contentLength)])) }
            return ended ? .failed(.truncated) : .incomplete
        }
        return ended ? .body(Array(bytes[headEnd...])) : .incomplete
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return text
    }
}
