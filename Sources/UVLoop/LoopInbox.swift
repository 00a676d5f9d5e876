import Synchronization

/// The one way into a loop from another thread: items posted from any thread are handed, in the order
/// they were posted, to `onDrain` on the loop's thread. A post takes a mutex for an append and wakes the
/// loop (`LoopWaker`, `uv_async_send`); posts that arrive before the loop notices coalesce into one drain.
///
/// Callers batch: a loop posts one item per destination per turn (a batch of messages), not one per
/// message, so the mutex is taken per batch. The drain swaps the posted array with a spare one, so in
/// steady state neither side allocates.
///
/// `@unchecked Sendable`: `post` is the only member used off the loop thread; it touches `posted` under
/// `lock` and the waker, which is itself thread-safe. `spare` and `onDrain` are loop-thread only.
public final class LoopInbox<Item: Sendable>: @unchecked Sendable {
    private struct Posted: Sendable {
        var items: [Item] = []
        var isClosed = false
    }

    private let lock = PThreadLock()
    /// Set by every post, cleared by the drain: lets the loop check for mail before each read without
    /// taking the lock (`drainIfPosted`).
    private let hasPosted = Atomic<Bool>(false)
    /// Guarded by `lock`.
    private var posted = Posted()
    private var waker: LoopWaker!
    private let onDrain: (inout [Item]) -> Void
    /// The array handed to `onDrain`, kept (emptied) between drains for its capacity.
    private var spare: [Item] = []

    /// Creates the inbox on `loop`; `drain` runs on the loop's thread with the items posted since the last
    /// drain, oldest first (what it leaves in the array is dropped).
    /// - Parameter keepsLoopAlive: whether the open inbox alone keeps `uv_run` from returning.
    /// - Throws: libuv's error when the async handle cannot be created.
    public init(loop: EventLoop, keepsLoopAlive: Bool, drain: @escaping (inout [Item]) -> Void) throws(UVError) {
        onDrain = drain
        let waker = try LoopWaker(loop: loop) {}
        waker.keepsLoopAlive = keepsLoopAlive
        self.waker = waker
        // Set after init: the wake callback needs `self`. Unowned: the inbox owns the waker and closes it.
        waker.onWake = { [unowned self] in self.drain() }
    }

    /// Queues `item` for the loop and wakes it. Callable from any thread. Returns false, and drops the
    /// item, once the inbox is closed (its loop is shutting down).
    @discardableResult
    public func post(_ item: Item) -> Bool {
        let accepted = lock.withLock {
            guard !posted.isClosed else { return false }
            posted.items.append(item)
            hasPosted.store(true, ordering: .releasing)
            return true
        }
        if accepted { waker.wake() }
        return accepted
    }

    private func drain() {
        // The spare buffer (empty, with capacity) becomes the one posts go to next; the posted items
        // come out in the same swap.
        var items = spare
        spare = []
        lock.withLock {
            swap(&posted.items, &items)
            hasPosted.store(false, ordering: .relaxed)
        }
        if !items.isEmpty { onDrain(&items) }
        items.removeAll(keepingCapacity: true)
        spare = items
    }

    /// Drains now if anything was posted (one atomic load otherwise). A loop calls it before it handles
    /// a read, so mail posted before that read's bytes were sent is handled first even when the kernel
    /// reports the socket ahead of the wake-up (seen under load: a peer's PING overtaking a message
    /// another loop handed over before the publisher's PONG).
    public func drainIfPosted() {
        if hasPosted.load(ordering: .acquiring) { drain() }
    }

    /// Refuses later posts, drains what was posted before and closes the wake handle (idempotent; on the
    /// loop thread).
    public func close() {
        let wasClosed = lock.withLock {
            defer { posted.isClosed = true }
            return posted.isClosed
        }
        guard !wasClosed else { return }
        drain()
        waker.close()
    }
}
