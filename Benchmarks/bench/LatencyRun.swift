import Dispatch
import Foundation
import Glibc
import Synchronization

/// Request/reply round trips, one outstanding at a time: a requester on one server, a responder
/// (raw socket, answers every request at once) on another.
struct LatencyRun {
    let requesterPort: Int
    let responderPort: Int
    let payloadSize: Int
    let roundTrips: Int
    let timeoutSeconds: Double

    static let requestSubject = "bench.req"
    static let replySubject = "_INBOX.bench.lat"
    static let probeReplySubject = "_INBOX.bench.probe"

    /// Round-trip times in nanoseconds, in measurement order.
    func run() throws -> [UInt64] {
        let ready = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let port = responderPort
        let size = payloadSize
        let shared = ResponderShared()
        Thread.detachNewThread {
            defer { finished.signal() }
            do {
                try Self.respond(port: port, payloadSize: size, shared: shared, ready: ready)
            } catch {
                shared.error.withLock { $0 = error as? BenchError ?? BenchError("\(error)") }
                ready.signal()
            }
        }
        defer {
            shared.stop.store(true, ordering: .releasing)
            _ = finished.wait(timeout: .now() + 3)
        }
        guard ready.wait(timeout: .now() + 15) == .success else { throw BenchError("responder not ready") }
        if let error = shared.error.withLock({ $0 }) { throw error }

        let requester = try ClientSocket(port: requesterPort, timeoutSeconds: 5)
        var scanner = InboundScanner()
        try requester.handshake(
            extra: "SUB \(Self.replySubject) 1\r\nSUB \(Self.probeReplySubject) 2\r\n", scanner: &scanner
        )
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: payloadSize) + [13, 10]
        let request = Array("PUB \(Self.requestSubject) \(Self.replySubject) \(payloadSize)\r\n".utf8) + payload
        let probe = Array("PUB \(Self.requestSubject) \(Self.probeReplySubject) \(payloadSize)\r\n".utf8) + payload

        // Interest in both directions may still be propagating: probe until a reply comes back.
        requester.setReadTimeout(seconds: 0.05)
        let probeLimit = deadline(after: 10)
        while scanner.probeMessages == 0 {
            guard monotonicNanos() < probeLimit else { throw BenchError("no reply from the responder") }
            if let error = shared.error.withLock({ $0 }) { throw error }
            try requester.write(probe)
            try requester.readOnce(into: &scanner)
        }
        requester.setReadTimeout(seconds: 5)

        let limit = deadline(after: timeoutSeconds)
        let warmUp = min(1000, roundTrips / 10)
        var samples: [UInt64] = []
        samples.reserveCapacity(roundTrips)
        try request.withUnsafeBytes { requestBytes in
            for index in 0..<(warmUp + roundTrips) {
                let expected = scanner.dataMessages + 1
                let sent = monotonicNanos()
                try requester.write(requestBytes)
                try requester.read(into: &scanner, until: limit, what: "reply") { $0.dataMessages >= expected }
                if index >= warmUp { samples.append(monotonicNanos() - sent) }
            }
        }
        return samples
    }

    /// Responder thread body: subscribe to the request subject and answer each request's reply
    /// subject with a payload of the same size.
    private static func respond(port: Int, payloadSize: Int, shared: ResponderShared, ready: DispatchSemaphore) throws {
        let socket = try ClientSocket(port: port, timeoutSeconds: 5)
        var scanner = InboundScanner(captureReply: true)
        try socket.handshake(extra: "SUB \(requestSubject) 1\r\n", scanner: &scanner)
        ready.signal()
        socket.setReadTimeout(seconds: 0.1)
        let payload = [UInt8](repeating: UInt8(ascii: "y"), count: payloadSize) + [13, 10]
        let header = Array(" \(payloadSize)\r\n".utf8)
        var frame: [UInt8] = []
        var answeredPings = 0
        while !shared.stop.load(ordering: .acquiring) {
            try socket.readOnce(into: &scanner)
            if let error = scanner.error { throw BenchError("responder: server said: \(error)") }
            let replies = scanner.takeReplies()
            if !replies.isEmpty {
                frame.removeAll(keepingCapacity: true)
                for reply in replies where !reply.isEmpty {
                    frame += Array("PUB ".utf8)
                    frame += reply
                    frame += header
                    frame += payload
                }
                try socket.write(frame)
            }
            while answeredPings < scanner.pings {
                try socket.write("PONG\r\n")
                answeredPings += 1
            }
        }
    }
}

/// State the responder thread shares with the requester.
final class ResponderShared: Sendable {
    /// Set by the requester when it is done; the responder polls it between reads.
    let stop = Atomic<Bool>(false)
    /// The responder's failure, if any.
    let error = Mutex<BenchError?>(nil)
}
