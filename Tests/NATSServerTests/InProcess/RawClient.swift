import Foundation

/// Why a `RawClient` wait ended without what it waited for.
struct RawClientError: Error, CustomStringConvertible {
    let description: String
}

/// One frame the server sent: a control line with its CRLF, plus the payload and its CRLF for MSG/HMSG.
struct Frame: Equatable, CustomStringConvertible {
    let bytes: [UInt8]
    var text: String { String(decoding: bytes, as: UTF8.self) }
    var description: String { text.debugDescription }
}

/// A parsed MSG frame (`MSG <subject> <sid> [reply] <size>\r\n<payload>\r\n`).
struct ReceivedMessage: Equatable {
    let subject: String
    let sid: String
    let reply: String?
    let payload: String
}

/// A blocking TCP client on 127.0.0.1 that speaks raw protocol bytes to a server, frame by frame, with
/// every wait bounded by a deadline (poll(2)); a test thread owns it.
///
/// The server's own keep-alive `PING` (sent 2 s after accept, whatever the test does) can come between
/// any two frames on a loaded machine, so frame reads skip it: what the tests check is the traffic they
/// caused.
final class RawClient {
    private var socket: Int32
    /// Bytes received and not yet taken as frames.
    private var buffer: [UInt8] = []
    private var sawEndOfStream = false
    /// How long each wait may take at most; generous, since the machine may be loaded.
    let timeout: Duration

    /// Connects to `port` on 127.0.0.1 (the server's listener accepts into its backlog, so this does not
    /// depend on the server's loop running yet).
    init(port: Int, timeout: Duration = .seconds(20)) throws {
        self.timeout = timeout
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw RawClientError(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(socket)
            throw RawClientError(description: "connect to 127.0.0.1:\(port): \(reason)")
        }
        // A send that cannot make progress (the server stopped reading) fails instead of blocking for ever.
        let seconds = timeout.components.seconds
        var sendTimeout = timeval(tv_sec: Int(seconds), tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close() }

    func close() {
        if socket >= 0 { Glibc.close(socket) }
        socket = -1
    }

    // MARK: - Sending

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR { continue }
                throw RawClientError(description: "send: \(String(cString: strerror(errno)))")
            }
            offset += sent
        }
    }

    // MARK: - Receiving

    /// The next frame other than a server PING, or nil when the server closed the connection first.
    /// - Throws: when nothing complete arrived before the deadline.
    func nextFrame() throws -> Frame? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let frame = takeFrame() {
                if frame.bytes == Array("PING\r\n".utf8) { continue }
                return frame
            }
            if sawEndOfStream { return nil }
            try receive(before: deadline, waitingFor: "a frame")
        }
    }

    /// Reads whole frames until they add up to at least `byteCount` bytes and returns their text (server
    /// PINGs left out), for an exact comparison with what the test expects; `<closed>` marks the end of
    /// the stream when it comes first.
    func readFrames(totalling byteCount: Int) throws -> String {
        var text = ""
        while text.utf8.count < byteCount {
            guard let frame = try nextFrame() else { return text + "<closed>" }
            text += frame.text
        }
        return text
    }

    /// Reads the INFO line and returns its JSON object.
    func readInfo() throws -> [String: Any] {
        guard let frame = try nextFrame() else { throw RawClientError(description: "closed before INFO") }
        let text = frame.text
        guard text.hasPrefix("INFO "), text.hasSuffix("\r\n") else { throw RawClientError(description: "not an INFO: \(frame)") }
        let json = Data(text.dropFirst(5).utf8)
        guard let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw RawClientError(description: "INFO JSON is not an object: \(frame)")
        }
        return object
    }

    /// Reads one frame that must be a MSG and parses it.
    func readMessage() throws -> ReceivedMessage {
        guard let frame = try nextFrame() else { throw RawClientError(description: "closed while a MSG was expected") }
        let bytes = frame.bytes
        // Bytes, not String: Swift counts "\r\n" as one Character.
        guard bytes.starts(with: Array("MSG ".utf8)), let lineEnd = bytes.firstIndex(of: 13) else {
            throw RawClientError(description: "not a MSG: \(frame)")
        }
        let arguments = String(decoding: bytes[4..<lineEnd], as: UTF8.self).split(separator: " ")
        guard arguments.count == 3 || arguments.count == 4 else { throw RawClientError(description: "bad MSG line: \(frame)") }
        let payload = String(decoding: bytes[(lineEnd + 2)..<(bytes.count - 2)], as: UTF8.self)
        return ReceivedMessage(subject: String(arguments[0]), sid: String(arguments[1]),
                               reply: arguments.count == 4 ? String(arguments[2]) : nil, payload: payload)
    }

    /// Sends PING and reads up to its PONG: the server has processed everything this client sent before.
    /// - Throws: when another frame comes first, or no PONG before the deadline.
    func flush() throws {
        try send("PING\r\n")
        let frame = try nextFrame()
        guard frame?.text == "PONG\r\n" else { throw RawClientError(description: "expected PONG, got \(frame?.description ?? "end of stream")") }
    }

    /// Waits until the server closes the connection; returns the frames that came before the end.
    func readUntilClosed() throws -> [Frame] {
        var frames: [Frame] = []
        while let frame = try nextFrame() { frames.append(frame) }
        return frames
    }

    /// Takes one whole frame from `buffer`, if there is one.
    private func takeFrame() -> Frame? {
        guard let lineEnd = crlf(from: 0) else { return nil }
        var end = lineEnd + 2
        if let size = payloadSize(ofLineEndingAt: lineEnd) {
            end += size + 2
            guard buffer.count >= end else { return nil }
        }
        let frame = Frame(bytes: Array(buffer[0..<end]))
        buffer.removeFirst(end)
        return frame
    }

    private func crlf(from start: Int) -> Int? {
        var index = start
        while index + 1 < buffer.count {
            if buffer[index] == 13 && buffer[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }

    /// The payload size of a MSG/HMSG line (its last argument), nil for other lines.
    private func payloadSize(ofLineEndingAt lineEnd: Int) -> Int? {
        let line = String(decoding: buffer[0..<lineEnd], as: UTF8.self)
        guard line.hasPrefix("MSG ") || line.hasPrefix("HMSG ") else { return nil }
        return line.split(separator: " ").last.flatMap { Int($0) }
    }

    /// Waits (poll) until bytes or the end of the stream arrive, or throws at the deadline.
    private func receive(before deadline: ContinuousClock.Instant, waitingFor what: String) throws {
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else {
            throw RawClientError(description: "timed out waiting for \(what); have \(Frame(bytes: buffer))")
        }
        let milliseconds = Int32(clamping: Int((remaining / .milliseconds(1)).rounded(.up)))
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, milliseconds)
        if ready < 0 && errno != EINTR { throw RawClientError(description: "poll: \(String(cString: strerror(errno)))") }
        guard ready > 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            buffer.append(contentsOf: chunk[0..<count])
        } else if count == 0 || errno == ECONNRESET {
            // A reset after the server's last bytes (it closed with input unread) ends the stream too.
            sawEndOfStream = true
        } else if errno != EINTR && errno != EAGAIN {
            throw RawClientError(description: "recv: \(String(cString: strerror(errno)))")
        }
    }
}
