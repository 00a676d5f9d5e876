import Dispatch
import Foundation
import Glibc
import Synchronization

/// Shared between the publisher (calling thread) and the subscriber thread of one run.
final class SubscriberProgress: Sendable {
    let ready = DispatchSemaphore(value: 0)
    let finished = DispatchSemaphore(value: 0)
    /// Set once a probe message arrived: the publisher's server knows about the subscription.
    let probeSeen = Atomic<Bool>(false)
    /// Monotonic time of the last counted message, or the failure.
    let outcome = Mutex<Result<UInt64, BenchError>?>(nil)

    func finish(_ result: Result<UInt64, BenchError>) {
        outcome.withLock { $0 = result }
    }
}

/// Pipelined publishing: one `PUB <subject> <size>` frame with an `x…` payload, repeated to fill
/// about `ThroughputRun.batchBytes`, written with one call.
struct PublishBatch {
    let bytes: [UInt8]
    /// Frames in `bytes` (at least one).
    let frames: Int
    /// Bytes of one frame.
    let frameLength: Int

    init(subject: String, payloadSize: Int) {
        let frame = Array("PUB \(subject) \(payloadSize)\r\n".utf8)
            + [UInt8](repeating: UInt8(ascii: "x"), count: payloadSize) + [13, 10]
        frameLength = frame.count
        frames = max(1, ThroughputRun.batchBytes / frame.count)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(frames * frame.count)
        for _ in 0..<frames { bytes += frame }
        self.bytes = bytes
    }
}

/// One throughput measurement: a raw publisher writing pre-built `PUB` frames, optionally a raw
/// subscriber on another (or the same) server counting `MSG` frames.
///
/// Shaped like nats-server's test/bench_test.go: the subscriber subscribes and flushes before the
/// publisher starts; the publisher writes large batches and ends with PING/PONG; the rate is
/// messages ÷ (first publish → last message received), or → final PONG when nobody subscribes.
struct ThroughputRun {
    let publisherPort: Int
    let subscriberPort: Int?
    let payloadSize: Int
    let messageCount: Int
    let timeoutSeconds: Double
    /// CONNECT fields of both clients (`"user":"u","pass":"p"`); empty for none.
    var credentials = ""
    /// The subject published and subscribed to, and the one probed until interest has arrived: runs side
    /// by side in one account keep apart by giving each its own.
    var dataSubject = Self.dataSubject
    var probeSubject = Self.probeSubject
    /// Both clients speak TLS, trusting this CA; nil: plaintext.
    var tlsCAFile: String?

    static let dataSubject = "bench.data"
    static let probeSubject = "bench.probe"
    /// Bytes handed to each write(2); well above the 64 KiB floor so syscalls stay rare.
    static let batchBytes = 256 * 1024

    /// Messages per second.
    func run() throws -> Double {
        let limit = deadline(after: timeoutSeconds)
        let progress = SubscriberProgress()
        if let subscriberPort {
            let count = messageCount
            let runTimeout = timeoutSeconds
            let credentials = credentials
            let subscriptions = "SUB \(dataSubject) 1\r\nSUB \(probeSubject) 2\r\n"
            let tlsCAFile = tlsCAFile
            Thread.detachNewThread {
                Self.subscribe(port: subscriberPort, count: count, timeoutSeconds: runTimeout, credentials: credentials,
                               subscriptions: subscriptions, progress: progress, tlsCAFile: tlsCAFile)
            }
            guard progress.ready.wait(timeout: .now() + 15) == .success else {
                throw BenchError("subscriber not ready")
            }
            if let failure = progress.outcome.withLock({ $0 }), case .failure(let error) = failure { throw error }
        }

        let publisher = try ClientSocket(port: publisherPort, timeoutSeconds: 10, tlsCAFile: tlsCAFile)
        var scanner = InboundScanner()
        try publisher.handshake(credentials: credentials, scanner: &scanner)

        if subscriberPort != nil {
            // Interest may still be travelling through the cluster: probe until it has arrived.
            let probeLimit = deadline(after: 10)
            while !progress.probeSeen.load(ordering: .acquiring) {
                if let failure = progress.outcome.withLock({ $0 }), case .failure(let error) = failure { throw error }
                guard monotonicNanos() < probeLimit else { throw BenchError("subscription never reached the publisher's server") }
                try publisher.write("PUB \(probeSubject) 0\r\n\r\n")
                usleep(5_000)
            }
        }

        let batch = PublishBatch(subject: dataSubject, payloadSize: payloadSize)

        let start = monotonicNanos()
        try batch.bytes.withUnsafeBytes { bytes in
            var remaining = messageCount
            while remaining > 0 {
                let frames = min(remaining, batch.frames)
                try publisher.write(UnsafeRawBufferPointer(rebasing: bytes[0..<(frames * batch.frameLength)]))
                remaining -= frames
                if monotonicNanos() > limit { throw BenchError("publisher timed out") }
            }
        }
        try publisher.flush(scanner: &scanner, timeoutSeconds: max(1, Double(limit &- monotonicNanos()) / 1e9))
        var end = monotonicNanos()

        if subscriberPort != nil {
            let remaining = max(0.1, Double(Int64(limit) - Int64(monotonicNanos())) / 1e9 + 1)
            guard progress.finished.wait(timeout: .now() + remaining) == .success else {
                throw BenchError("subscriber timed out")
            }
            switch progress.outcome.withLock({ $0 }) {
            case .success(let last): end = last
            case .failure(let error): throw error
            case nil: throw BenchError("subscriber ended without a result")
            }
        }
        guard end > start else { throw BenchError("clock did not advance") }
        return Double(messageCount) / (Double(end - start) / 1e9)
    }

    /// Subscriber thread body: subscribe, flush, then count data messages until `count`.
    private static func subscribe(port: Int, count: Int, timeoutSeconds: Double, credentials: String,
                                  subscriptions: String, progress: SubscriberProgress, tlsCAFile: String?) {
        var signalledReady = false
        defer {
            if !signalledReady { progress.ready.signal() }
            progress.finished.signal()
        }
        do {
            let socket = try ClientSocket(port: port, timeoutSeconds: 1, tlsCAFile: tlsCAFile)
            var scanner = InboundScanner()
            try socket.handshake(
                extra: subscriptions, credentials: credentials, scanner: &scanner
            )
            signalledReady = true
            progress.ready.signal()
            let limit = deadline(after: timeoutSeconds + 10)
            var answeredPings = scanner.pings
            while scanner.dataMessages < count {
                if let error = scanner.error { throw BenchError("server said: \(error)") }
                if monotonicNanos() > limit {
                    throw BenchError("timed out with \(scanner.dataMessages) of \(count) messages")
                }
                try socket.readOnce(into: &scanner)
                if scanner.probeMessages > 0 { progress.probeSeen.store(true, ordering: .releasing) }
                while answeredPings < scanner.pings {
                    try socket.write("PONG\r\n")
                    answeredPings += 1
                }
            }
            progress.finish(.success(monotonicNanos()))
        } catch let error as BenchError {
            progress.finish(.failure(error))
        } catch {
            progress.finish(.failure(BenchError("\(error)")))
        }
    }
}
