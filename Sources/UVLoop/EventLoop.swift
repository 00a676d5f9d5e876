import CLibUV
import Synchronization

/// A libuv event loop plus the loop-wide buffers the TCP read and write paths share.
///
/// Loop-confined: every method except through `LoopWaker` must be called on the thread running
/// the loop, so the class is deliberately not `Sendable`.
public final class EventLoop {
    /// The libuv loop, at a stable heap address.
    public let rawLoop: UnsafeMutablePointer<uv_loop_t>

    /// One read buffer for every connection: libuv's alloc callback hands it out and the read
    /// callback consumes it before the next alloc, so idle connections own no read memory.
    @usableFromInline let readBuffer: UnsafeMutableRawPointer
    /// Size of `readBuffer` in bytes.
    @usableFromInline let readBufferSize: Int

    /// Where TLS connections read ciphertext, before it is decrypted into `readBuffer` (or a
    /// connection's private buffer); allocated by the first TLS read, so plaintext servers never hold it.
    var tlsReadBuffer: UnsafeMutableRawPointer?

    /// Outbound chunk size: writes are queued in blocks of this size, recycled via `freeChunks`.
    @usableFromInline let chunkSize = 64 * 1024
    /// Recycled outbound chunks (each `chunkSize` bytes).
    var freeChunks: ContiguousArray<UnsafeMutableRawPointer> = []
    /// How many free chunks are kept for reuse; the rest are returned to malloc.
    let maxFreeChunks = 256

    /// Scratch iovec array for vectored writes; libuv copies it, so one per loop is enough.
    let iovecs: UnsafeMutablePointer<uv_buf_t>
    /// Capacity of `iovecs` (IOV_MAX on Linux).
    let iovecCapacity = 1024

    /// Where writes to an already closing connection go: accepted and thrown away.
    var discardBuffer: UnsafeMutableRawPointer
    var discardBufferSize: Int

    /// Connections with queued output, flushed once per loop turn (FIFO, intrusive, each once).
    var pendingHead: TCPConnection?
    var pendingTail: TCPConnection?

    /// Runs the flush right after the I/O callbacks of a turn.
    let checkHandle: UnsafeMutablePointer<uv_check_t>
    /// Runs the flush before the loop blocks, to catch output queued by timers and close callbacks.
    let prepareHandle: UnsafeMutablePointer<uv_prepare_t>

    /// Connections whose reading is paused, until when (loop milliseconds), and the timer resuming them
    /// (TCPConnection+Deadlines.swift).
    var pausedReaders: [PausedReader] = []
    var resumeTimer: LoopTimer?

    /// Runs at the end of every loop turn, before queued output is flushed (and so before the loop
    /// blocks): the server hands the messages it batched for other loops over here.
    public var turnEndHook: (() -> Void)?

    /// Number of flush passes that had at least one connection to flush (test hook).
    var flushPassCount = 0
    /// Set by a `shutdown()` that closed every handle and the libuv loop (uv_loop_close returned 0).
    public private(set) var isShutDown = false
    /// The thread that runs the loop, recorded when `run`/`runOnce` first runs (nil before: set-up code
    /// may touch the loop from the thread that created it).
    /// Atomic because other threads read it (`isRunningOnCurrentThread` when posting to this loop);
    /// relaxed is enough: a thread only ever finds its own id there by having stored it itself.
    private let runningThread = Atomic<UInt>(0)

    /// Creates a loop with a shared read buffer of `readBufferSize` bytes.
    public init(readBufferSize: Int = 256 * 1024) throws(UVError) {
        precondition(readBufferSize >= 1024, "read buffer too small")
        let loop = allocateUVObject(uv_loop_t.self)
        if let error = uvStatus(uv_loop_init(loop)) {
            loop.deallocate()
            throw error
        }
        rawLoop = loop
        self.readBufferSize = readBufferSize
        readBuffer = .allocate(byteCount: readBufferSize, alignment: 16)
        iovecs = .allocate(capacity: 1024)
        discardBufferSize = 64 * 1024
        discardBuffer = .allocate(byteCount: discardBufferSize, alignment: 16)
        checkHandle = allocateUVObject(uv_check_t.self)
        prepareHandle = allocateUVObject(uv_prepare_t.self)
        freeChunks.reserveCapacity(maxFreeChunks)

        // The loop owns these two handles itself, so their `data` is unretained: a retain would be
        // a cycle, and shutdown() keeps `self` alive until their close callbacks ran.
        let me = Unmanaged.passUnretained(self).toOpaque()
        checkHandle.pointee.data = me
        prepareHandle.pointee.data = me
        // uv_check_init / uv_prepare_init cannot fail on Unix; they only link the handle in.
        _ = uvStatus(uv_check_init(loop, checkHandle))
        _ = uvStatus(uv_prepare_init(loop, prepareHandle))
        _ = uvStatus(uv_check_start(checkHandle) { handle in
            EventLoop.owner(data: handle!.pointee.data).flushPending()
        })
        _ = uvStatus(uv_prepare_start(prepareHandle) { handle in
            EventLoop.owner(data: handle!.pointee.data).flushPending()
        })
        // They must not keep uv_run alive on their own.
        uv_unref(CLibUV_check_as_handle(checkHandle))
        uv_unref(CLibUV_prepare_as_handle(prepareHandle))
    }

    deinit {
        // Without shutdown() handles may still point at their owners, which reach this loop;
        // leaking the libuv loop is the only safe choice then.
        guard isShutDown else { return }
        readBuffer.deallocate()
        tlsReadBuffer?.deallocate()
        iovecs.deallocate()
        discardBuffer.deallocate()
        rawLoop.deallocate()
    }

    /// The loop a check or prepare handle's `data` points at (unretained, see `init`).
    private static func owner(data: UnsafeMutableRawPointer?) -> EventLoop {
        Unmanaged<EventLoop>.fromOpaque(data!).takeUnretainedValue()
    }

    /// Runs until `stop()` or until no active handles remain.
    public func run() {
        runningThread.store(UInt(pthread_self()), ordering: .relaxed)
        flushPending()
        _ = uv_run(rawLoop, UV_RUN_DEFAULT)
    }

    /// Runs one turn of the loop; with `wait` false it does not block for I/O. Returns whether
    /// active handles or requests remain.
    @discardableResult
    public func runOnce(wait: Bool = true) -> Bool {
        if runningThread.load(ordering: .relaxed) == 0 { runningThread.store(UInt(pthread_self()), ordering: .relaxed) }
        flushPending()
        return uv_run(rawLoop, wait ? UV_RUN_ONCE : UV_RUN_NOWAIT) != 0
    }

    /// True on the thread running this loop, or before it first ran. For debug assertions that
    /// loop-confined state stays on its loop (as NIOLoopBound checks).
    public var isOnLoopThread: Bool {
        let running = runningThread.load(ordering: .relaxed)
        return running == 0 || running == UInt(pthread_self())
    }

    /// True on the thread running this loop (false before it first ran): whether loop-confined work
    /// can be done right here rather than posted to the loop.
    public var isRunningOnCurrentThread: Bool {
        runningThread.load(ordering: .relaxed) == UInt(pthread_self())
    }

    /// Makes `run()` return at the end of the current turn.
    public func stop() {
        uv_stop(rawLoop)
    }

    /// Milliseconds of the loop's cached clock (uv_now).
    public var now: UInt64 {
        uv_now(rawLoop)
    }

    /// Nanoseconds of the monotonic clock, read now (uv_hrtime): for round-trip times, which the
    /// cached millisecond clock cannot resolve on a local network.
    public static var monotonicNanoseconds: UInt64 {
        uv_hrtime()
    }

    /// Closes every remaining handle, runs the loop until their close callbacks ran, then
    /// uv_loop_close. Returns the uv_loop_close status (0 = clean). Used at shutdown and by tests.
    @discardableResult
    public func shutdown() -> Int32 {
        if isShutDown { return 0 }
        uv_close(CLibUV_check_as_handle(checkHandle)) { handle in
            CLibUV_handle_as_check(handle)!.deallocate()
        }
        uv_close(CLibUV_prepare_as_handle(prepareHandle)) { handle in
            CLibUV_handle_as_prepare(handle)!.deallocate()
        }
        // Close callbacks may start new handles (a delegate reacting to a close); a few rounds
        // catch those without risking an endless loop.
        for _ in 0..<8 {
            uv_walk(rawLoop, { handle, _ in
                guard let handle, uv_is_closing(handle) == 0 else { return }
                guard let data = handle.pointee.data else {
                    uv_close(handle, nil)
                    return
                }
                let owner = Unmanaged<AnyObject>.fromOpaque(data).takeUnretainedValue()
                if let owner = owner as? any LoopHandleOwner {
                    owner.closeForShutdown()
                } else {
                    uv_close(handle, nil)
                }
            }, nil)
            _ = uv_run(rawLoop, UV_RUN_DEFAULT)
            if uv_loop_alive(rawLoop) == 0 { break }
        }
        pausedReaders.removeAll()
        // Nothing can be flushed any more; drop the list's references.
        while let connection = pendingHead {
            pendingHead = connection.nextPending
            connection.nextPending = nil
            connection.isOnPendingList = false
        }
        pendingTail = nil
        let status = uv_loop_close(rawLoop)
        if status == 0 {
            isShutDown = true
            for chunk in freeChunks { chunk.deallocate() }
            freeChunks.removeAll()
        }
        return status
    }
}
