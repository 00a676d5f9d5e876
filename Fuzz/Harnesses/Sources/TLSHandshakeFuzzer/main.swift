// Fuzzes the server side of a client's TLS session: the bytes a client sends to a `tls { }` server, from its
// ClientHello on, as TCPConnection receives them (the read callback's `didRead` on the loop's TLS read
// buffer -> CTLS's BIO -> OpenSSL's handshake and record layer -> decrypted bytes to the delegate), with no
// socket: the connection wraps a TCP handle that was never connected, and nothing is written (what the
// server would send stays queued until the connection closes).
//
// Each input picks, from its hash (InputChoices), the way the client connection starts TLS: INFO first
// (queued in the clear before the handshake, as by default) or `handshake_first`, and a server that asks
// for a client certificate (`verify`) or not; then one of three modes (the first for two inputs in three):
// - raw: the input is the client's byte stream from its first byte (ClientHello, records, or a plaintext
//   CONNECT, which takes the refusal path), cut into reads at input-derived points;
// - after a handshake: a real client session (OpenSSL, this harness's certificate, presented to a verifying
//   server) completes the handshake with the connection first, then the input follows as raw records;
// - as application data: after that handshake the client encrypts the input, and the connection must
//   deliver exactly the input's bytes, in order, to its delegate.
// A completed handshake also reads the client's certificate as verify_and_map does and checks it. Every
// input ends with the connection closed and the loop turned until its handle is gone, so a leaked session,
// chunk or handle shows up under LeakSanitizer.
//
// The server's certificate is made at start-up with OpenSSL (CTLSFuzzIdentity), in a temporary folder that
// is removed once loaded: nothing secret is committed.
import CLibUV
import CTLS
import CTLSFuzzIdentity
import Foundation
import FuzzSupport
@testable import UVLoop

/// Receives what the server decrypted; checks that the handshake completed before any byte arrived.
final class PlaintextSink: TCPConnectionDelegate {
    var handshakeCompleted = false
    var closed = false
    var plaintext: [UInt8] = []
    /// The client certificate the connection read at the end of the handshake.
    var peerCertificate: TLSPeerCertificate?

    func connectionDidRead(_ connection: TCPConnection, bytes: UnsafeRawBufferPointer) -> ReadDisposition {
        precondition(handshakeCompleted, "plaintext delivered before the TLS handshake completed")
        plaintext.append(contentsOf: bytes)
        return ReadDisposition(consumed: bytes.count, needed: 0)
    }

    func connectionDidClose(_ connection: TCPConnection, error: UVError?) {
        precondition(!closed, "connectionDidClose called twice")
        closed = true
    }

    func connectionDidCompleteTLSHandshake(_ connection: TCPConnection) {
        precondition(!handshakeCompleted, "handshake completed twice")
        handshakeCompleted = true
        // What verify_and_map reads of a client certificate (nil unless the client sent one that verified).
        peerCertificate = connection.tlsPeerCertificate
        _ = connection.tlsPeerSubject
    }
}

/// A TLS client in the harness: an OpenSSL session whose output is collected here.
final class Client {
    /// Set right after init: the output callback needs this object's address.
    private(set) var raw: OpaquePointer!
    var output: [UInt8] = []

    static func make(context: TLSContext) -> Client {
        let client = Client()
        // Unretained: the session is freed in deinit, before the object goes.
        client.raw = CTLS_session_new(context.raw, 0, { owner, bytes, count in
            Unmanaged<Client>.fromOpaque(owner!).takeUnretainedValue().output
                .append(contentsOf: UnsafeRawBufferPointer(start: bytes, count: count))
        }, Unmanaged.passUnretained(client).toOpaque())
        precondition(client.raw != nil, "cannot make a client session")
        return client
    }

    deinit {
        CTLS_session_free(raw)
    }

    /// Feeds the server's bytes and advances the handshake: 1 done, 0 more needed, -1 failed.
    func handshake(feeding bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBytes { buffer in
            CTLS_session_feed(raw, buffer.baseAddress, buffer.count)
            defer { CTLS_session_feed(raw, nil, 0) }
            return CTLS_session_handshake(raw)
        }
    }

    /// Takes what the client produced so far.
    func takeOutput() -> [UInt8] {
        defer { output.removeAll() }
        return output
    }
}

/// Feeds `bytes` to the connection in reads ending at `ends` (offsets into `bytes`), as the read callback does.
func feed(_ connection: TCPConnection, _ bytes: UnsafeRawBufferPointer, readEnds ends: [Int]) {
    var readStart = 0
    for readEnd in ends where !connection.isClosing {
        // The bytes land where the alloc callback points a TLS connection's reads, as from the kernel.
        let space = connection.tlsReadSpace()
        let count = readEnd - readStart
        precondition(count <= space.count, "a read larger than the TLS read buffer")
        if count > 0 { space.baseAddress!.copyMemory(from: bytes.baseAddress! + readStart, byteCount: count) }
        connection.didRead(count)
        readStart = readEnd
    }
}

/// The ciphertext the connection queued for its peer (nothing is written: there is no socket), taken off
/// its queue.
func takeServerOutput(_ connection: TCPConnection) -> [UInt8] {
    guard let session = connection.tls else { return [] }
    var bytes: [UInt8] = []
    var offset = session.headOffset
    for block in session.blocks[session.head...] {
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: block.base + offset, count: block.used - offset))
        offset = 0
    }
    session.advance(by: session.pendingCount)
    return bytes
}

/// Completes a handshake between `client` and the connection; false when it did not complete (it always
/// should: both sides use this harness's certificate).
func completeHandshake(_ connection: TCPConnection, _ client: Client, _ sink: PlaintextSink) -> Bool {
    var fromServer: [UInt8] = []
    for _ in 0..<6 {
        let status = client.handshake(feeding: fromServer)
        let fromClient = client.takeOutput()
        fromClient.withUnsafeBytes { feed(connection, $0, readEnds: [$0.count]) }
        if status == 1 && sink.handshakeCompleted { return true }
        if status < 0 || connection.isClosing { return false }
        fromServer = takeServerOutput(connection)
    }
    return false
}

/// The server contexts an input can run under: without and with client certificate verification.
struct Contexts {
    let plain: TLSContext
    let verifying: TLSContext
    /// A client presenting the harness's certificate and trusting it as the server's.
    let client: TLSContext
}

/// One loop for the whole run, as a natsd loop; it only turns to finish closes.
nonisolated(unsafe) let loop: EventLoop = {
    do {
        return try EventLoop()
    } catch {
        fatalError("cannot make a loop: \(error)")
    }
}()

let contexts: Contexts = {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("natsd-tls-fuzz-\(getpid())")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let certificate = folder.appendingPathComponent("server.pem").path
    let key = folder.appendingPathComponent("server.key").path
    guard CTLSFuzz_write_identity(certificate, key) == 0 else { fatalError("cannot make a TLS identity") }
    var configuration = TLSConfiguration(isServer: true)
    configuration.certificateFile = certificate
    configuration.privateKeyFile = key
    do {
        let plain = try TLSContext(configuration)
        // The certificate is its own CA: only a client presenting it (and its key) would verify.
        configuration.caFile = certificate
        configuration.verifyPeer = true
        let verifying = try TLSContext(configuration)
        configuration.isServer = false
        return Contexts(plain: plain, verifying: verifying, client: try TLSContext(configuration))
    } catch {
        fatalError("cannot make the TLS contexts: \(error)")
    }
}()

/// An INFO line as a client connection queues it before the handshake (its length is what matters).
let infoLine = Array("INFO {\"server_id\":\"FUZZ\",\"tls_required\":true,\"max_payload\":1048576}\r\n".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTLSHandshake(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let stream = FuzzDriver.bytes(data, size)
    var choices = InputChoices(stream)
    let handshakeFirst = choices.oneIn(4)
    let verifying = choices.oneIn(3)
    let context = verifying ? contexts.verifying : contexts.plain
    // 0: raw bytes from the first byte, for two inputs in three: no handshake to run first (a handshake
    // costs about 5 ms here, OpenSSL 3's allocations under AddressSanitizer; 1 200 raw inputs run per
    // second); 1: raw records after a real handshake; 2: encrypted application data.
    let mode = max(0, choices.below(6) - 3)

    let handle = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
    precondition(uv_tcp_init(loop.rawLoop, handle) == 0, "uv_tcp_init")
    let connection = TCPConnection(loop: loop, adopting: handle)
    let sink = PlaintextSink()
    connection.delegate = sink
    if !handshakeFirst { connection.write(infoLine) }
    connection.startTLS(context: context, handshakeTimeoutMilliseconds: 0)
    if handshakeFirst { connection.write(infoLine) }

    var client: Client?
    if mode == 0 {
        feed(connection, stream, readEnds: choices.readEnds(count: stream.count))
    } else {
        let made = Client.make(context: contexts.client)
        client = made
        precondition(completeHandshake(connection, made, sink), "a real client's handshake did not complete")
        if verifying {
            let certificate = sink.peerCertificate
            precondition(certificate?.dnsNames == ["localhost"] && certificate?.emailAddresses == ["fuzz@example.com"]
                         && certificate?.subject.map(\.value) == ["natsd fuzz", "localhost"],
                         "the client certificate read back differs: \(String(describing: certificate))")
        } else {
            precondition(sink.peerCertificate == nil, "a client certificate where none was asked for")
        }
        if mode == 1 {
            feed(connection, stream, readEnds: choices.readEnds(count: stream.count))
        } else {
            _ = takeServerOutput(connection)
            if stream.count > 0 {
                precondition(CTLS_session_write(made.raw, stream.baseAddress, stream.count) == 0, "client write")
            }
            let records = made.takeOutput()
            records.withUnsafeBytes { feed(connection, $0, readEnds: choices.readEnds(count: $0.count)) }
            precondition(!connection.isClosing, "the connection closed on a client's well-formed records")
            precondition(sink.plaintext.elementsEqual(stream), "decrypted bytes differ from what the client sent")
        }
    }
    if !connection.isClosing {
        precondition(connection.isTLS, "TLS session lost without a close")
    }
    connection.close()
    // The close callback frees the handle, the session and the queued ciphertext.
    var turns = 0
    while !sink.closed {
        loop.runOnce(wait: false)
        turns += 1
        precondition(turns < 100, "connection not closed after 100 loop turns")
    }
    withExtendedLifetime(client) {}
    return 0
}

FuzzDriver.run(fuzzTLSHandshake)
