import Foundation
import Glibc

/// Monotonic time in nanoseconds (CLOCK_MONOTONIC), the only clock the benchmark measures with.
func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// Failure of a benchmark step; `message` ends up in the table as the reason for "n/a".
struct BenchError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// A blocking loopback TCP client socket with read/write timeouts.
///
/// Owned by exactly one thread at a time; the benchmark creates each socket on the thread that
/// uses it, so it is deliberately not `Sendable`.
final class ClientSocket {
    let fd: Int32
    /// Receive buffer reused for every read (1 MiB: big reads keep the scanner, not syscalls, busy).
    private let readBuffer: UnsafeMutableRawBufferPointer
    /// With TLS: the session, a buffer for ciphertext reads, and the INFO read in the clear before the
    /// handshake (handed to the first `readOnce`).
    private var tls: BenchTLSSession?
    private var cipherBuffer: UnsafeMutableRawBufferPointer?
    private var clearInfo: [UInt8] = []

    /// Connects to 127.0.0.1:`port`. `timeoutSeconds` bounds every single read and write. With `tlsCAFile`
    /// the server's INFO is read in the clear and TLS is started, trusting that CA only.
    init(port: Int, timeoutSeconds: Int = 5, readBufferSize: Int = 1 << 20, tlsCAFile: String? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket(): \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw BenchError("connect 127.0.0.1:\(port): \(reason)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
        self.readBuffer = .allocate(byteCount: readBufferSize, alignment: 64)
        if let tlsCAFile { try startTLS(caFile: tlsCAFile) }
    }

    deinit {
        tls = nil
        close(fd)
        readBuffer.deallocate()
        cipherBuffer?.deallocate()
    }

    /// Reads INFO in the clear, then handshakes. Nothing after INFO's line may be taken (it is the server's
    /// first TLS record), so the line is peeked at and only its bytes are read: two reads per INFO instead of
    /// one per byte, which made the client the bottleneck of the handshake rows.
    private func startTLS(caFile: String) throws {
        var peeked = [UInt8](repeating: 0, count: 4096)
        while !(clearInfo.count >= 2 && clearInfo[clearInfo.count - 2] == 13 && clearInfo[clearInfo.count - 1] == 10) {
            let available = peeked.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_PEEK)) }
            if available < 0 && errno == EINTR { continue }
            guard available > 0 else { throw BenchError("no INFO before TLS") }
            // Up to the line's end when it is in view (a CR ending the previous piece counts too), else all of it.
            var take = available
            for index in 0..<available where peeked[index] == 10
                && (index > 0 ? peeked[index - 1] == 13 : clearInfo.last == 13) {
                take = index + 1
                break
            }
            let received = peeked.withUnsafeMutableBytes { recv(fd, $0.baseAddress, take, 0) }
            guard received == take else { throw BenchError("no INFO before TLS") }
            clearInfo += peeked[0..<take]
        }
        tls = try BenchTLSSession(fd: fd, caFile: caFile)
        cipherBuffer = .allocate(byteCount: readBuffer.count, alignment: 64)
    }

    /// Changes the bound on each blocking read (short while polling, long while measuring).
    func setReadTimeout(seconds: Double) {
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writes every byte or throws (a timeout counts as failure).
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let tls { return try tls.write(fd: fd, bytes) }
        guard var cursor = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = send(fd, cursor, remaining, Int32(MSG_NOSIGNAL))
            if written < 0 {
                if errno == EINTR { continue }
                throw BenchError("write: \(String(cString: strerror(errno)))")
            }
            cursor += written
            remaining -= written
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func write(_ text: String) throws {
        try write(Array(text.utf8))
    }

    /// Reads once into the shared buffer and feeds the scanner. Returns false on a read timeout;
    /// throws when the server closed the connection.
    @discardableResult
    func readOnce(into scanner: inout InboundScanner) throws -> Bool {
        if !clearInfo.isEmpty {
            clearInfo.withUnsafeBytes { scanner.consume($0) }
            clearInfo = []
            return true
        }
        let target = cipherBuffer ?? readBuffer
        while true {
            let received = recv(fd, target.baseAddress, target.count, 0)
            if received > 0, let tls {
                try tls.decrypt(target.baseAddress!, count: received, into: readBuffer) { scanner.consume($0) }
                return true
            }
            if received > 0 {
                scanner.consume(UnsafeRawBufferPointer(rebasing: readBuffer[0..<received]))
                return true
            }
            if received == 0 {
                let detail = scanner.error.map { " after \($0)" } ?? ""
                throw BenchError("server closed the connection\(detail)")
            }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return false }
            throw BenchError("read: \(String(cString: strerror(errno)))")
        }
    }

    /// Reads until `done(scanner)` holds, answering server PINGs, or throws at `deadline`
    /// (monotonic nanoseconds) or on an `-ERR`.
    func read(
        into scanner: inout InboundScanner,
        until deadline: UInt64,
        what: String,
        _ done: (InboundScanner) -> Bool
    ) throws {
        var answeredPings = scanner.pings
        while !done(scanner) {
            if let error = scanner.error { throw BenchError("server said: \(error)") }
            if monotonicNanos() > deadline { throw BenchError("timed out waiting for \(what)") }
            try readOnce(into: &scanner)
            while answeredPings < scanner.pings {
                try write("PONG\r\n")
                answeredPings += 1
            }
        }
    }

    /// Sends CONNECT (plus `extra` frames) and a PING, then waits for the PONG: afterwards the
    /// server has processed everything sent before it. `credentials` are CONNECT fields, such as
    /// `"user":"u","pass":"p"`.
    func handshake(extra: String = "", credentials: String = "", scanner: inout InboundScanner,
                   timeoutSeconds: Double = 10) throws {
        let pongsBefore = scanner.pongs
        let fields = credentials.isEmpty ? "" : "," + credentials
        try write("CONNECT {\"verbose\":false,\"pedantic\":false\(fields)}\r\n" + extra + "PING\r\n")
        try read(into: &scanner, until: deadline(after: timeoutSeconds), what: "PONG after CONNECT") {
            $0.pongs > pongsBefore
        }
    }

    /// PING and wait for PONG: a flush barrier.
    func flush(scanner: inout InboundScanner, timeoutSeconds: Double) throws {
        let pongsBefore = scanner.pongs
        try write("PING\r\n")
        try read(into: &scanner, until: deadline(after: timeoutSeconds), what: "PONG") { $0.pongs > pongsBefore }
    }
}

/// A monotonic deadline `seconds` from now.
func deadline(after seconds: Double) -> UInt64 {
    monotonicNanos() + UInt64(seconds * 1e9)
}
