import CLibUV

/// A libuv timer calling a closure on the loop thread. The handle retains the timer until
/// `close()` (or loop shutdown) completes, so it keeps firing even if nobody else holds it.
public final class LoopTimer: LoopHandleOwner {
    let handle: UnsafeMutablePointer<uv_timer_t>
    let fire: () -> Void
    /// True once `close()` ran.
    public private(set) var isClosing = false

    /// Creates a stopped timer on `loop`; `fire` runs each time it expires.
    public init(loop: EventLoop, _ fire: @escaping () -> Void) {
        handle = allocateUVObject(uv_timer_t.self)
        self.fire = fire
        // uv_timer_init only links the handle into the loop; it cannot fail.
        uvMustSucceed(uv_timer_init(loop.rawLoop, handle), "uv_timer_init")
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    /// (Re)starts the timer: first after `afterMilliseconds`, then every `repeatMilliseconds` if non-zero.
    public func start(afterMilliseconds: UInt64, repeatMilliseconds: UInt64 = 0) {
        guard !isClosing else { return }
        uvMustSucceed(uv_timer_start(handle, { handle in
            Unmanaged<LoopTimer>.fromOpaque(handle!.pointee.data).takeUnretainedValue().fire()
        }, afterMilliseconds, repeatMilliseconds), "uv_timer_start")
    }

    /// Whether this timer alone keeps `EventLoop.run()` going (libuv's uv_ref/uv_unref). A timer
    /// that does not still fires while other handles keep the loop running: a grace deadline at
    /// shutdown must bound the wait for slow peers without itself delaying the exit.
    public var keepsLoopAlive = true {
        didSet {
            guard !isClosing, keepsLoopAlive != oldValue else { return }
            if keepsLoopAlive {
                uv_ref(CLibUV_timer_as_handle(handle))
            } else {
                uv_unref(CLibUV_timer_as_handle(handle))
            }
        }
    }

    /// Stops the timer; it can be started again.
    public func stop() {
        guard !isClosing else { return }
        _ = uvStatus(uv_timer_stop(handle))
    }

    /// Closes the timer for good (idempotent).
    public func close() {
        guard !isClosing else { return }
        isClosing = true
        uv_close(CLibUV_timer_as_handle(handle)) { handle in
            let timer = Unmanaged<LoopTimer>.fromOpaque(handle!.pointee.data).takeRetainedValue()
            timer.handle.deallocate()
        }
    }

    func closeForShutdown() {
        close()
    }
}
