import CLibUV

/// Wakes the loop from another thread (the only cross-thread handle; `LoopInbox` puts a queue on top of
/// it). Several `wake()` calls before the loop notices coalesce into one call of `onWake`.
///
/// `@unchecked Sendable` is safe because `wake()` is the only member used off the loop thread,
/// and it touches only `uv_async_send` (documented thread-safe) under `lock` while the
/// handle is open; `close()` flips that flag under the same lock before the handle goes away.
public final class LoopWaker: LoopHandleOwner, @unchecked Sendable {
    let handle: UnsafeMutablePointer<uv_async_t>
    /// Runs on the loop thread after one or more `wake()` calls; set before the first wake.
    var onWake: () -> Void
    /// True once closed; guards `handle` against a `wake()` racing with `close()`.
    private let lock = PThreadLock()
    /// Guarded by `lock`.
    private var isClosed = false

    /// Creates the waker; `wake` runs on the loop thread after one or more `wake()` calls.
    public init(loop: EventLoop, _ wake: @escaping () -> Void) throws(UVError) {
        let handle = allocateUVObject(uv_async_t.self)
        let status = uv_async_init(loop.rawLoop, handle) { handle in
            Unmanaged<LoopWaker>.fromOpaque(handle!.pointee.data).takeUnretainedValue().onWake()
        }
        if let error = uvStatus(status) {
            handle.deallocate()
            throw error
        }
        self.handle = handle
        onWake = wake
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    /// Whether the open waker alone keeps `uv_run` from returning (libuv's ref/unref; on by default).
    public var keepsLoopAlive: Bool {
        get { uv_has_ref(CLibUV_async_as_handle(handle)) != 0 }
        set {
            if newValue { uv_ref(CLibUV_async_as_handle(handle)) } else { uv_unref(CLibUV_async_as_handle(handle)) }
        }
    }

    /// Callable from any thread; does nothing after `close()`.
    public func wake() {
        lock.withLock {
            if !isClosed { _ = uvStatus(uv_async_send(handle)) }
        }
    }

    /// Closes the waker on the loop thread (idempotent).
    public func close() {
        let wasClosed = lock.withLock {
            defer { isClosed = true }
            return isClosed
        }
        guard !wasClosed else { return }
        uv_close(CLibUV_async_as_handle(handle)) { handle in
            let waker = Unmanaged<LoopWaker>.fromOpaque(handle!.pointee.data).takeRetainedValue()
            waker.handle.deallocate()
        }
    }

    func closeForShutdown() {
        close()
    }
}
