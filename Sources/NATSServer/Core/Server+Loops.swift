import Dispatch
import Foundation
import UVLoop

/// Running several event loops: one thread per loop after the first, inboxes between them, and the
/// main loop's synchronous reads of every loop's state (monitoring).
extension Server {
    /// Gives every worker its inbox, its peers and its outbox slots (N > 1 only). Called from `init`.
    func connectLoops() throws {
        for worker in workers {
            // The main loop lives by its listeners; the others by their inbox, until shutdown closes it.
            worker.inbox = try LoopInbox(loop: worker.loop, keepsLoopAlive: worker.index != 0) { [unowned worker] mail in
                worker.drainInbox(&mail)
            }
            worker.peers = workers
            worker.outboxes = Array(repeating: nil, count: workers.count)
            worker.loop.turnEndHook = { [unowned worker] in worker.postHandoffs() }
        }
    }

    /// Starts the threads of loops 1...; each runs its loop until shutdown.
    func startLoopThreads() {
        for worker in workers.dropFirst() {
            loopThreads.append(LoopThread(worker: worker))
        }
    }

    /// Waits for the other loops' threads to end (they are told to stop by `shutdown`), at most a little
    /// longer than their own shutdown grace.
    func joinLoopThreads() {
        let deadline = DispatchTime.now() + .milliseconds(Int(Server.shutdownGraceMilliseconds) + 1000)
        for thread in loopThreads where !thread.finished.wait(deadline: deadline) {
            logger.warning("Event loop \(thread.index) did not stop in time")
            loopsLeftRunning.append(thread.index)
        }
        loopThreads.removeAll()
    }

    /// Runs `body` with every loop's worker, on that loop's thread, and returns the results in worker
    /// order. Called on the main loop, which it blocks until every other loop answered (monitoring and
    /// other control-plane reads of per-loop state; loops never wait for each other otherwise, so this
    /// cannot deadlock). A loop that does not answer within 2 s (shutting down) is left out.
    package func onEveryLoop<T>(_ body: @escaping (LoopWorker) -> T) -> [T] {
        guard workers.count > 1 else { return [body(mainWorker)] }
        let answers = LoopAnswers<T>(count: workers.count)
        var posted = 0
        for worker in workers.dropFirst() {
            let task = LoopTask { answers.set(worker.index, body(worker)) }
            if worker.inbox.post(.task(task)) { posted += 1 }
        }
        answers.set(0, body(mainWorker))
        let deadline = DispatchTime.now() + .seconds(2)
        for _ in 0..<posted where answers.arrived.wait(timeout: deadline) == .timedOut { break }
        return answers.values()
    }
}

extension LoopWorker {
    /// The body of a loop thread: housekeeping, the loop until shutdown ends it, then closing what is left.
    func runLoop() {
        startHousekeeping()
        loop.run()
        loop.shutdown()
    }

    /// Runs `body` on this worker's loop: at once when called there, else through its inbox (after what
    /// was posted before). Dropped when the loop is shutting down.
    func post(_ body: @escaping () -> Void) {
        if inbox == nil || loop.isRunningOnCurrentThread {
            body()
        } else {
            inbox.post(.task(LoopTask(run: body)))
        }
    }
}

/// The answers of `onEveryLoop`, filled by each loop. `@unchecked Sendable`: `slots` is only touched under
/// `lock`; `arrived` is a semaphore.
final class LoopAnswers<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [T?]
    let arrived = DispatchSemaphore(value: 0)

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: T) {
        lock.withLock { slots[index] = value }
        if index != 0 { arrived.signal() }
    }

    func values() -> [T] { lock.withLock { slots.compactMap { $0 } } }
}

/// The thread of one event loop after the first: runs the worker's loop until it ends, then closes what
/// is left on it. `@unchecked Sendable`: the worker is handed to the new thread whole; the starting thread
/// only keeps `finished` and `index`.
final class LoopThread: @unchecked Sendable {
    let index: Int
    let finished = DispatchSemaphore(value: 0)
    private let worker: LoopWorker

    init(worker: LoopWorker) {
        self.worker = worker
        self.index = worker.index
        let thread = Thread { [self] in
            self.worker.runLoop()
            self.finished.signal()
        }
        thread.name = "natsd-loop-\(index)"
        thread.start()
    }
}

extension DispatchSemaphore {
    /// True when signalled before `deadline`.
    func wait(deadline: DispatchTime) -> Bool { wait(timeout: deadline) == .success }
}
