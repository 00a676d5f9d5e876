import Dispatch
import Foundation
import Glibc
import Synchronization

/// What the soak's publisher writes at the start of every payload: a sequence number (from 1) and
/// the monotonic send time in nanoseconds, both 8 bytes little-endian. Publisher and subscribers
/// run in the bench process, so the send time and the receive time come from the same clock.
struct SoakStamp: Equatable, Sendable {
    static let size = 16

    let sequence: UInt64
    let sentNanos: UInt64

    init(sequence: UInt64, sentNanos: UInt64) {
        self.sequence = sequence
        self.sentNanos = sentNanos
    }

    /// Decodes the first `size` bytes; nil when there are fewer.
    init?(decoding bytes: [UInt8]) {
        guard bytes.count >= Self.size else { return nil }
        var sequence: UInt64 = 0
        var sent: UInt64 = 0
        for index in (0..<8).reversed() {
            sequence = sequence << 8 | UInt64(bytes[index])
            sent = sent << 8 | UInt64(bytes[8 + index])
        }
        self.init(sequence: sequence, sentNanos: sent)
    }

    /// Writes the stamp into `bytes` at `offset` (`size` bytes).
    func encode(into bytes: inout [UInt8], at offset: Int) {
        for index in 0..<8 {
            bytes[offset + index] = UInt8(truncatingIfNeeded: sequence >> (8 * UInt64(index)))
            bytes[offset + 8 + index] = UInt8(truncatingIfNeeded: sentNanos >> (8 * UInt64(index)))
        }
    }
}

/// Where the soak's load goes: one paced publisher on `publisherPort`, one subscriber per entry
/// of `subscriberPorts`, all on `subject`.
struct SoakWorkload: Sendable {
    static let subject = "bench.soak"

    let publisherPort: Int
    let subscriberPorts: [Int]
    let rate: Int
    let payloadSize: Int
}

/// Counters and latency samples the traffic threads share with the soak's reporting thread.
final class SoakCounters: Sendable {
    /// Messages written by the publisher.
    let sent = Atomic<Int>(0)
    /// Messages each subscriber received (one entry per subscriber).
    private let received: Mutex<[Int]>
    /// Messages that arrived with a sequence number not above the previous one on that subscriber
    /// (a duplicate or a reordering; neither may happen on one publisher's connection).
    let outOfOrder = Atomic<Int>(0)
    /// Subscribers that received a probe: interest has reached the publisher's node.
    let probedSubscribers = Atomic<Int>(0)
    /// End-to-end latencies (nanoseconds) since the reporting thread last took them.
    private let latencies = Mutex<[UInt64]>([])
    /// Set to stop the publisher; `stopSubscribers` ends the subscribers.
    let stopPublishing = Atomic<Bool>(false)
    /// Set by the publisher once it stopped and flushed (or failed): `sent` is final.
    let publisherDone = Atomic<Bool>(false)
    let stopSubscribers = Atomic<Bool>(false)
    private let failures = Mutex<[String]>([])

    init(subscribers: Int) {
        received = Mutex(Array(repeating: 0, count: subscribers))
    }

    /// Messages received so far, per subscriber.
    var receivedCounts: [Int] { received.withLock { $0 } }

    func addReceived(_ count: Int, subscriber: Int) {
        guard count > 0 else { return }
        received.withLock { $0[subscriber] += count }
    }

    func addLatencies(_ samples: [UInt64]) {
        guard !samples.isEmpty else { return }
        latencies.withLock { $0 += samples }
    }

    /// The latencies recorded since the last call.
    func takeLatencies() -> [UInt64] {
        latencies.withLock { current in
            defer { current.removeAll(keepingCapacity: true) }
            return current
        }
    }

    func fail(_ reason: String) { failures.withLock { $0.append(reason) } }

    var firstFailure: String? { failures.withLock { $0.first } }
}

/// The soak's load generators, each on its own thread with its own connection.
enum SoakTraffic {
    /// Subscribes on every subscriber port (returning once each has flushed its SUB), then starts the
    /// publisher once a probe published on the publisher's node reached every subscriber. The returned
    /// semaphore is signalled once per thread as it exits.
    static func start(_ workload: SoakWorkload, counters: SoakCounters, timeoutSeconds: Double) throws -> DispatchSemaphore {
        let ready = DispatchSemaphore(value: 0)
        let exited = DispatchSemaphore(value: 0)
        for (index, port) in workload.subscriberPorts.enumerated() {
            Thread.detachNewThread {
                defer { exited.signal() }
                subscribe(port: port, index: index, counters: counters, ready: ready)
            }
        }
        for _ in workload.subscriberPorts {
            guard ready.wait(timeout: .now() + timeoutSeconds) == .success else {
                throw BenchError("soak subscribers not connected after \(Int(timeoutSeconds)) s")
            }
        }
        if let failure = counters.firstFailure { throw BenchError(failure) }
        let subscriberCount = workload.subscriberPorts.count
        try probe(port: workload.publisherPort, until: { counters.probedSubscribers.load(ordering: .acquiring) == subscriberCount },
                  counters: counters, timeoutSeconds: timeoutSeconds)
        Thread.detachNewThread {
            defer { exited.signal() }
            publish(workload, counters: counters, timeoutSeconds: timeoutSeconds)
        }
        return exited
    }

    /// Publishes an unstamped probe (sid 2 on the subscribers) every 10 ms until `done` holds.
    private static func probe(port: Int, until done: () -> Bool, counters: SoakCounters, timeoutSeconds: Double) throws {
        let socket = try ClientSocket(port: port, timeoutSeconds: 10)
        var scanner = InboundScanner()
        try socket.handshake(scanner: &scanner)
        let limit = deadline(after: timeoutSeconds)
        while !done() {
            if let failure = counters.firstFailure { throw BenchError(failure) }
            guard monotonicNanos() < limit else { throw BenchError("soak interest never reached the publisher's node") }
            try socket.write("PUB \(SoakWorkload.subject).probe 0\r\n\r\n")
            usleep(10_000)
        }
    }

    /// Publisher thread: writes stamped `PUB` frames so that `rate × elapsed` messages have gone out
    /// at every moment (catching up in batches after a scheduling delay), answering server PINGs;
    /// flushes with PING/PONG once told to stop.
    private static func publish(_ workload: SoakWorkload, counters: SoakCounters, timeoutSeconds: Double) {
        do {
            let socket = try ClientSocket(port: workload.publisherPort, timeoutSeconds: 10)
            var scanner = InboundScanner()
            try socket.handshake(scanner: &scanner)
            let header = Array("PUB \(SoakWorkload.subject) \(workload.payloadSize)\r\n".utf8)
            var frame = header + [UInt8](repeating: UInt8(ascii: "x"), count: workload.payloadSize) + [13, 10]
            // At most 10 ms of messages in one write, so a catch-up after a stall stays paced.
            let batchLimit = max(1, workload.rate / 100)
            var batch: [UInt8] = []
            batch.reserveCapacity(batchLimit * frame.count)
            // The pause between rounds doubles as the wait for server PINGs.
            socket.setReadTimeout(seconds: 0.001)
            var answeredPings = scanner.pings
            let start = monotonicNanos()
            var sent = 0
            while !counters.stopPublishing.load(ordering: .relaxed) {
                let due = Int(Double(monotonicNanos() - start) * Double(workload.rate) / 1e9)
                let count = min(due - sent, batchLimit)
                if count > 0 {
                    batch.removeAll(keepingCapacity: true)
                    let now = monotonicNanos()
                    for offset in 1...count {
                        SoakStamp(sequence: UInt64(sent + offset), sentNanos: now).encode(into: &frame, at: header.count)
                        batch += frame
                    }
                    try socket.write(batch)
                    sent += count
                    counters.sent.store(sent, ordering: .relaxed)
                }
                if count < batchLimit { _ = try socket.readOnce(into: &scanner) }
                if let error = scanner.error { throw BenchError("server said: \(error)") }
                while answeredPings < scanner.pings {
                    try socket.write("PONG\r\n")
                    answeredPings += 1
                }
            }
            try socket.flush(scanner: &scanner, timeoutSeconds: timeoutSeconds)
        } catch {
            counters.fail("publisher: \(error)")
        }
        counters.publisherDone.store(true, ordering: .releasing)
    }

    /// Subscriber thread: `SUB` data (sid 1) and probe (sid 2), then records the latency and order of
    /// every stamped message until told to stop.
    private static func subscribe(
        port: Int, index: Int, counters: SoakCounters, ready: DispatchSemaphore
    ) {
        var announcedReady = false
        defer { if !announcedReady { ready.signal() } }
        do {
            let socket = try ClientSocket(port: port, timeoutSeconds: 10)
            var scanner = InboundScanner()
            scanner.captureStamps = true
            try socket.handshake(
                extra: "SUB \(SoakWorkload.subject) 1\r\nSUB \(SoakWorkload.subject).probe 2\r\n", scanner: &scanner
            )
            announcedReady = true
            ready.signal()
            socket.setReadTimeout(seconds: 0.05)
            var sawProbe = false
            var lastSequence: UInt64 = 0
            var answeredPings = scanner.pings
            var samples: [UInt64] = []
            while !counters.stopSubscribers.load(ordering: .relaxed) {
                guard try socket.readOnce(into: &scanner) else { continue }
                let now = monotonicNanos()
                if let error = scanner.error { throw BenchError("server said: \(error)") }
                if !sawProbe, scanner.probeMessages > 0 {
                    sawProbe = true
                    counters.probedSubscribers.add(1, ordering: .releasing)
                }
                let stamps = scanner.takeStamps()
                samples.removeAll(keepingCapacity: true)
                for stamp in stamps {
                    if stamp.sequence <= lastSequence { counters.outOfOrder.add(1, ordering: .relaxed) }
                    lastSequence = max(lastSequence, stamp.sequence)
                    samples.append(now &- stamp.sentNanos)
                }
                counters.addLatencies(samples)
                counters.addReceived(stamps.count, subscriber: index)
                while answeredPings < scanner.pings {
                    try socket.write("PONG\r\n")
                    answeredPings += 1
                }
            }
        } catch {
            counters.fail("subscriber \(index + 1) on port \(port): \(error)")
        }
    }
}
