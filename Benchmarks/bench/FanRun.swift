import Dispatch
import Foundation
import Glibc
import Synchronization

/// The shape of one scaling-table run: one publisher per subject on one server, and
/// `subscribersPerSubject` subscribers on each subject on another (or the same) server.
struct FanWorkload: Sendable, Equatable {
    let publisherPort: Int
    let subscriberPort: Int
    /// Publisher i publishes on `subjects[i]` only.
    let subjects: [String]
    let subscribersPerSubject: Int
    let payloadSize: Int
    /// How long the publishers publish; the window then lasts until the last message is delivered.
    let publishSeconds: Double

    var subscriberCount: Int { subjects.count * subscribersPerSubject }
}

/// What one run measured.
struct FanRunResult: Sendable, Equatable {
    /// Messages received by all subscribers together (a fan-out to 8 counts each publish 8 times).
    let delivered: Int
    /// First publish → last delivery, in seconds.
    let seconds: Double
    /// CPU seconds the servers used over the window (all nodes summed); nil when unreadable.
    let cpuSeconds: Double?

    /// Delivered messages per second.
    var rate: Double { Double(delivered) / seconds }

    var cpuSecondsPerMillion: Double? {
        cpuSeconds.flatMap { ProcessCPU.secondsPerMillion(cpuSeconds: $0, messages: delivered) }
    }
}

/// Many raw publishers and subscribers at once, each on its own thread and connection, for the
/// scaling table: the work is spread over connections so that a server with several event loops
/// (or Go threads) can spread it over cores.
///
/// Publishers publish pipelined 256 KiB batches of `PUB` frames for `publishSeconds`, then PING
/// and wait for the PONG; each subscriber counts `MSG` frames until it has every message published
/// on its subject. Before the window, a probe subject is published on the publishers' server until
/// every subscriber has seen it (interest has crossed the cluster). Subscription interest and the
/// probe travel the same way `ThroughputRun`'s do.
struct FanRun {
    let workload: FanWorkload
    /// Bound on each phase (connecting, probing, draining) beyond the publishing time.
    let timeoutSeconds: Double

    static let probeSubject = "bench.probe"

    /// Runs once. `sampleCPU` reads the servers' CPU counters (nil when it cannot); it is called
    /// just before the first publish and after the last delivery.
    func run(sampleCPU: () -> [ProcessCPU]?) throws -> FanRunResult {
        let state = FanRunState(publishers: workload.subjects.count)
        var started = 0
        defer {
            // Wake and join every thread started (each is bounded by its own deadline).
            state.aborted.store(true, ordering: .releasing)
            for _ in workload.subjects { state.go.signal() }
            if !Self.wait(state.exited, times: started, until: deadline(after: timeoutSeconds + 5)) {
                log("fan run: some load-generator threads did not stop in time")
            }
        }

        for subjectIndex in workload.subjects.indices {
            for _ in 0..<workload.subscribersPerSubject {
                let (workload, timeout) = (workload, timeoutSeconds)
                Thread.detachNewThread {
                    Self.subscribe(workload, subjectIndex: subjectIndex, timeoutSeconds: timeout, state: state)
                }
                started += 1
            }
        }
        try awaitReady(state, count: workload.subscriberCount, what: "subscribers")
        for index in workload.subjects.indices {
            let (workload, timeout) = (workload, timeoutSeconds)
            Thread.detachNewThread { Self.publish(workload, index: index, timeoutSeconds: timeout, state: state) }
            started += 1
        }
        try awaitReady(state, count: workload.subjects.count, what: "publishers")
        try probe(state)

        let cpuBefore = sampleCPU()
        let start = monotonicNanos()
        state.startTime.store(start, ordering: .releasing)
        for _ in workload.subjects { state.go.signal() }

        let publishLimit = deadline(after: workload.publishSeconds + timeoutSeconds)
        guard Self.wait(state.published, times: workload.subjects.count, until: publishLimit) else {
            throw state.firstFailure ?? BenchError("publishers timed out")
        }
        if let failure = state.firstFailure { throw failure }
        let counts = state.publishedCounts.withLock { $0 }.map { $0 ?? 0 }
        state.expected.withLock { $0 = counts }
        guard Self.wait(state.delivered, times: workload.subscriberCount, until: deadline(after: timeoutSeconds)) else {
            throw state.firstFailure ?? BenchError("subscribers timed out")
        }
        let cpuAfter = sampleCPU()
        if let failure = state.firstFailure { throw failure }

        let end = state.lastDelivery.withLock { $0 }
        guard end > start else { throw BenchError("nothing was delivered") }
        let cpu = cpuBefore.flatMap { before in cpuAfter.flatMap { ProcessCPU.seconds(from: before, to: $0) } }
        return FanRunResult(
            delivered: counts.reduce(0, +) * workload.subscribersPerSubject,
            seconds: Double(end - start) / 1e9, cpuSeconds: cpu
        )
    }

    /// Waits until `count` threads signalled `ready`, then throws the first failure any reported.
    private func awaitReady(_ state: FanRunState, count: Int, what: String) throws {
        guard Self.wait(state.ready, times: count, until: deadline(after: timeoutSeconds)) else {
            throw BenchError("\(what) not connected after \(Int(timeoutSeconds)) s")
        }
        if let failure = state.firstFailure { throw failure }
    }

    /// Publishes the probe subject on the publishers' server every 5 ms until every subscriber saw it.
    private func probe(_ state: FanRunState) throws {
        let socket = try ClientSocket(port: workload.publisherPort, timeoutSeconds: 10)
        var scanner = InboundScanner()
        try socket.handshake(scanner: &scanner)
        let limit = deadline(after: min(10, timeoutSeconds))
        while state.probesSeen.load(ordering: .acquiring) < workload.subscriberCount {
            if let failure = state.firstFailure { throw failure }
            guard monotonicNanos() < limit else { throw BenchError("subscriptions never reached the publishers' server") }
            try socket.write("PUB \(Self.probeSubject) 0\r\n\r\n")
            usleep(5_000)
        }
    }

    /// `times` signals of `semaphore` before `limit` (monotonic nanoseconds).
    private static func wait(_ semaphore: DispatchSemaphore, times: Int, until limit: UInt64) -> Bool {
        for _ in 0..<times {
            let now = monotonicNanos()
            let remaining = limit > now ? limit - now : 0
            guard semaphore.wait(timeout: .now() + .nanoseconds(Int(remaining))) == .success else { return false }
        }
        return true
    }

    /// Publisher thread: connect, wait for the start, publish batches until the time is up, flush.
    private static func publish(_ workload: FanWorkload, index: Int, timeoutSeconds: Double, state: FanRunState) {
        var announcedReady = false
        defer {
            if !announcedReady { state.ready.signal() }
            state.published.signal()
            state.exited.signal()
        }
        do {
            let batch = PublishBatch(subject: workload.subjects[index], payloadSize: workload.payloadSize)
            let socket = try ClientSocket(port: workload.publisherPort, timeoutSeconds: 10)
            var scanner = InboundScanner()
            try socket.handshake(scanner: &scanner)
            announcedReady = true
            state.ready.signal()

            guard state.go.wait(timeout: .now() + timeoutSeconds * 3) == .success,
                  !state.aborted.load(ordering: .acquiring) else { return }
            let stopAt = state.startTime.load(ordering: .acquiring) + UInt64(workload.publishSeconds * 1e9)
            var sent = 0
            while monotonicNanos() < stopAt, !state.aborted.load(ordering: .relaxed) {
                try socket.write(batch.bytes)
                sent += batch.frames
            }
            try socket.flush(scanner: &scanner, timeoutSeconds: timeoutSeconds)
            state.publishedCounts.withLock { $0[index] = sent }
        } catch {
            state.fail("publisher on \(workload.subjects[index]): \(error)")
        }
    }

    /// Subscriber thread: subscribe and flush, then count messages on its subject until it has as
    /// many as were published there (known once every publisher is done).
    private static func subscribe(_ workload: FanWorkload, subjectIndex: Int, timeoutSeconds: Double, state: FanRunState) {
        var announcedReady = false
        defer {
            if !announcedReady { state.ready.signal() }
            state.delivered.signal()
            state.exited.signal()
        }
        do {
            let socket = try ClientSocket(port: workload.subscriberPort, timeoutSeconds: 10)
            var scanner = InboundScanner()
            try socket.handshake(
                extra: "SUB \(workload.subjects[subjectIndex]) 1\r\nSUB \(probeSubject) 2\r\n", scanner: &scanner
            )
            announcedReady = true
            state.ready.signal()
            // Short reads, so that the end of the window and an abort are noticed soon.
            socket.setReadTimeout(seconds: 0.05)
            let limit = deadline(after: timeoutSeconds * 3 + workload.publishSeconds)
            var sawProbe = false
            var lastMessage: UInt64 = 0
            var answeredPings = scanner.pings
            while true {
                if state.aborted.load(ordering: .relaxed) { return }
                if let expected = state.expected.withLock({ $0?[subjectIndex] }), scanner.dataMessages >= expected {
                    guard scanner.dataMessages == expected else {
                        throw BenchError("\(scanner.dataMessages) messages on \(workload.subjects[subjectIndex]), \(expected) published")
                    }
                    break
                }
                if let error = scanner.error { throw BenchError("server said: \(error)") }
                if monotonicNanos() > limit {
                    throw BenchError("timed out with \(scanner.dataMessages) messages on \(workload.subjects[subjectIndex])")
                }
                let before = scanner.dataMessages
                try socket.readOnce(into: &scanner)
                if scanner.dataMessages > before { lastMessage = monotonicNanos() }
                if !sawProbe, scanner.probeMessages > 0 {
                    sawProbe = true
                    state.probesSeen.add(1, ordering: .releasing)
                }
                while answeredPings < scanner.pings {
                    try socket.write("PONG\r\n")
                    answeredPings += 1
                }
            }
            state.lastDelivery.withLock { $0 = max($0, lastMessage) }
        } catch {
            state.fail("subscriber on \(workload.subjects[subjectIndex]): \(error)")
        }
    }
}

/// Shared by the coordinating thread and the load-generator threads of one `FanRun`.
private final class FanRunState: Sendable {
    /// One signal per thread once connected (or failed before that).
    let ready = DispatchSemaphore(value: 0)
    /// Released once per publisher to start the window.
    let go = DispatchSemaphore(value: 0)
    /// One signal per publisher once it stopped publishing (or failed).
    let published = DispatchSemaphore(value: 0)
    /// One signal per subscriber once it has its messages (or failed).
    let delivered = DispatchSemaphore(value: 0)
    /// One signal per thread as it returns.
    let exited = DispatchSemaphore(value: 0)
    /// Set when the run ends early or is over: threads stop at their next check.
    let aborted = Atomic<Bool>(false)
    /// Monotonic nanoseconds of the window's start, stored before `go` is released.
    let startTime = Atomic<UInt64>(0)
    /// Subscribers that received a probe.
    let probesSeen = Atomic<Int>(0)
    /// Messages each publisher sent (nil until it is done).
    let publishedCounts: Mutex<[Int?]>
    /// Messages expected on each subject, set once every publisher is done.
    let expected = Mutex<[Int]?>(nil)
    /// Latest time any subscriber received its last message.
    let lastDelivery = Mutex<UInt64>(0)
    private let failures = Mutex<[String]>([])

    init(publishers: Int) {
        publishedCounts = Mutex(Array(repeating: nil, count: publishers))
    }

    func fail(_ reason: String) { failures.withLock { $0.append(reason) } }

    var firstFailure: BenchError? { failures.withLock { $0.first.map(BenchError.init) } }
}
