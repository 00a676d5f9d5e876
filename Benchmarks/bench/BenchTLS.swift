import CTLS
import Foundation
import Glibc
import Synchronization

/// A client context trusting one CA, made once per CA file and shared by every bench socket: making one
/// per connection (reading and parsing the CA file each time) would bill client work to the handshake rows.
/// Sendable because OpenSSL allows `SSL_new` on a context from any thread once it is configured, and it
/// is never changed after `init`.
final class BenchTLSContext: @unchecked Sendable {
    let raw: OpaquePointer
    private static let contexts = Mutex<[String: BenchTLSContext]>([:])

    /// The shared context trusting only `caFile`, made on first use.
    static func trusting(_ caFile: String) throws -> BenchTLSContext {
        try contexts.withLock { contexts in
            if let made = contexts[caFile] { return made }
            let made = try BenchTLSContext(caFile: caFile)
            contexts[caFile] = made
            return made
        }
    }

    private init(caFile: String) throws {
        guard let raw = CTLS_context_new(0) else { throw BenchError("OpenSSL: no context") }
        var reason = [CChar](repeating: 0, count: 256)
        guard CTLS_context_use_ca(raw, caFile, &reason, reason.count) == 0 else {
            CTLS_context_free(raw)
            throw BenchError("OpenSSL: CA file \(caFile) refused")
        }
        CTLS_context_set_verify(raw, 1)
        self.raw = raw
    }

    deinit { CTLS_context_free(raw) }
}

/// TLS for the bench's blocking client sockets, through natsd's own OpenSSL shim (CTLS): the server's INFO
/// arrives in the clear, then the client handshakes and every later byte is encrypted. Both contenders
/// face the same client, so the rows compare the servers.
final class BenchTLSSession {
    /// Kept alive as long as the session made from it.
    private let context: BenchTLSContext
    /// Set right after the other properties: its output callback needs this object's address.
    private var session: OpaquePointer!
    /// Ciphertext OpenSSL produced that the socket has not sent yet (grows to the biggest write once).
    private var output: [UInt8] = []
    /// Ciphertext received with the handshake's last flight and not consumed by it.
    private var leftover: [UInt8] = []

    /// Handshakes on `fd` (connected; the server's INFO line already read) trusting only `caFile`; the
    /// server's certificate must name 127.0.0.1.
    init(fd: Int32, caFile: String) throws {
        context = try BenchTLSContext.trusting(caFile)
        output.reserveCapacity(16 * 1024)
        let owner = Unmanaged.passUnretained(self).toOpaque()
        guard let session = CTLS_session_new(context.raw, 0, { owner, bytes, count in
            let me = Unmanaged<BenchTLSSession>.fromOpaque(owner!).takeUnretainedValue()
            me.output.append(contentsOf: UnsafeRawBufferPointer(start: bytes, count: count))
        }, owner) else {
            throw BenchError("OpenSSL: no session")
        }
        self.session = session
        guard CTLS_session_set_peer_name(session, "127.0.0.1") == 0 else { throw BenchError("OpenSSL: peer name") }
        try handshake(fd: fd)
    }

    deinit {
        if let session { CTLS_session_free(session) }
    }

    private func handshake(fd: Int32) throws {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var lastReceived = 0
        while true {
            let status = CTLS_session_handshake(session)
            try sendOutput(fd: fd)
            if status == 1 {
                // Records that came with the last handshake flight stay for the first read (the buffer goes).
                let unconsumed = CTLS_session_unconsumed(session)
                leftover = Array(buffer[(lastReceived - unconsumed)..<lastReceived])
                CTLS_session_feed(session, nil, 0)
                return
            }
            guard status == 0 else { throw BenchError("TLS handshake failed") }
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard received > 0 else { throw BenchError("TLS handshake: connection closed or timed out") }
            lastReceived = received
            buffer.withUnsafeBytes { CTLS_session_feed(session, $0.baseAddress, received) }
            // OpenSSL consumes every fed byte before asking for more.
        }
    }

    /// Encrypts `bytes` and sends the records.
    func write(fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard CTLS_session_write(session, base, bytes.count) == 0 else { throw BenchError("TLS write failed") }
        try sendOutput(fd: fd)
    }

    /// Decrypts `count` ciphertext bytes at `ciphertext` into `plaintext`, handing each piece to `consume`.
    func decrypt(_ ciphertext: UnsafeRawPointer, count: Int, into plaintext: UnsafeMutableRawBufferPointer,
                 _ consume: (UnsafeRawBufferPointer) -> Void) throws {
        if !leftover.isEmpty {
            let pending = leftover
            leftover = []
            try pending.withUnsafeBytes { try decrypt($0.baseAddress!, count: $0.count, into: plaintext, consume) }
        }
        CTLS_session_feed(session, ciphertext, count)
        defer { CTLS_session_feed(session, nil, 0) }
        while true {
            let produced = CTLS_session_read(session, plaintext.baseAddress, plaintext.count)
            if produced > 0 {
                consume(UnsafeRawBufferPointer(rebasing: plaintext[0..<produced]))
            } else if produced == 0 {
                return
            } else {
                var reason = [CChar](repeating: 0, count: 256)
                CTLS_last_error(&reason, reason.count)
                let text = reason.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                throw BenchError(produced == -1 ? "server ended the TLS session" : "TLS read failed: \(text)")
            }
        }
    }

    private func sendOutput(fd: Int32) throws {
        var sent = 0
        while sent < output.count {
            let written = output.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw BenchError("write: \(String(cString: strerror(errno)))")
            }
            sent += written
        }
        output.removeAll(keepingCapacity: true)
    }

    /// A CA and a server certificate for 127.0.0.1, made with the `openssl` tool in `directory`; returns the
    /// CA, certificate and key paths.
    static func makeCertificates(in directory: String) throws -> (ca: String, cert: String, key: String) {
        func openssl(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw BenchError("openssl \(arguments.first ?? "") failed") }
        }
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(["req", "-x509"] + curve + ["-keyout", "bench-ca.key", "-out", "bench-ca.pem", "-days", "2",
                                                "-subj", "/CN=bench-ca"])
        try openssl(["req"] + curve + ["-keyout", "bench-server.key", "-out", "bench-server.csr", "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: "\(directory)/bench-server.ext", atomically: true,
                                                                 encoding: .utf8)
        try openssl(["x509", "-req", "-in", "bench-server.csr", "-CA", "bench-ca.pem", "-CAkey", "bench-ca.key",
                     "-CAcreateserial", "-out", "bench-server.pem", "-days", "2", "-extfile", "bench-server.ext"])
        return ("\(directory)/bench-ca.pem", "\(directory)/bench-server.pem", "\(directory)/bench-server.key")
    }
}
