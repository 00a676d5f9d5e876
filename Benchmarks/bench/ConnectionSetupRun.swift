import Dispatch
import Foundation
import Glibc
import Synchronization

/// Connection set-up rate: `connectors` threads each connect, (with TLS) handshake, send CONNECT+PING,
/// wait for the PONG and close, over and over for `durationSeconds`; the rate is set-ups completed per
/// second of the whole window. Every connection is a fresh full handshake (the bench client keeps no TLS
/// session to resume), so with TLS this is the server's handshake rate. The client verifies the server's
/// certificate and does its half of the key exchange, more crypto than the server's half: on a small
/// machine the load generator, not the server, may set the rate, hence also the server CPU per set-up.
struct ConnectionSetupRun {
    let port: Int
    let connectors: Int
    let durationSeconds: Double
    /// TLS trusting this CA; nil: plaintext.
    var tlsCAFile: String?

    /// Bounds each read and write of one set-up; a server slower than this fails the run.
    static let stepTimeoutSeconds = 5
    /// Small: a set-up reads INFO and a PONG only (the default 1 MiB would make the client allocate more
    /// than the server).
    static let readBufferBytes = 16 * 1024

    /// Set-ups completed and the window's length in seconds.
    func run() throws -> (setUps: Int, seconds: Double) {
        let completed = Atomic<Int>(0)
        let failure = Mutex<BenchError?>(nil)
        let start = monotonicNanos()
        let limit = start + UInt64(durationSeconds * 1e9)
        DispatchQueue.concurrentPerform(iterations: connectors) { _ in
            do {
                while monotonicNanos() < limit, failure.withLock({ $0 == nil }) {
                    try setUpOnce()
                    completed.add(1, ordering: .relaxed)
                }
            } catch {
                failure.withLock { $0 = $0 ?? (error as? BenchError ?? BenchError("\(error)")) }
            }
        }
        let end = monotonicNanos()
        if let error = failure.withLock({ $0 }) { throw error }
        guard end > start else { throw BenchError("clock did not advance") }
        return (completed.load(ordering: .relaxed), Double(end - start) / 1e9)
    }

    /// One connection from connect to close.
    private func setUpOnce() throws {
        let socket = try ClientSocket(port: port, timeoutSeconds: Self.stepTimeoutSeconds,
                                      readBufferSize: Self.readBufferBytes, tlsCAFile: tlsCAFile)
        var scanner = InboundScanner()
        try socket.handshake(scanner: &scanner, timeoutSeconds: Double(Self.stepTimeoutSeconds))
        // Close with a reset: thousands of sockets per second in TIME_WAIT would use up the ephemeral ports.
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(socket.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }
}
