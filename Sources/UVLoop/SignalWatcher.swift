import CLibUV

/// Calls a handler on the loop thread when a signal arrives (libuv turns the signal into an I/O
/// event, so the handler may do anything). The handle retains the watcher until `close()`.
public final class SignalWatcher: LoopHandleOwner {
    let handle: UnsafeMutablePointer<uv_signal_t>
    let handler: (Int32) -> Void
    private var isClosing = false

    /// Starts watching `signal` on `loop`.
    public init(loop: EventLoop, signal: Int32, handler: @escaping (Int32) -> Void) throws(UVError) {
        let handle = allocateUVObject(uv_signal_t.self)
        if let error = uvStatus(uv_signal_init(loop.rawLoop, handle)) {
            handle.deallocate()
            throw error
        }
        self.handle = handle
        self.handler = handler
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        let status = uv_signal_start(handle, { handle, signal in
            Unmanaged<SignalWatcher>.fromOpaque(handle!.pointee.data).takeUnretainedValue().handler(signal)
        }, signal)
        if let error = uvStatus(status) {
            close()
            throw error
        }
    }

    /// Whether this watcher alone keeps `EventLoop.run()` going (libuv's uv_ref/uv_unref). A watcher that
    /// does not still handles its signal while other handles keep the loop running: a server keeps its
    /// watchers through shutdown, so a second signal finds a handler, yet the loop ends with its last
    /// connection.
    public var keepsLoopAlive = true {
        didSet {
            guard !isClosing, keepsLoopAlive != oldValue else { return }
            if keepsLoopAlive {
                uv_ref(CLibUV_signal_as_handle(handle))
            } else {
                uv_unref(CLibUV_signal_as_handle(handle))
            }
        }
    }

    /// Stops watching and closes the handle (idempotent). libuv restores the signal's default action
    /// when its last watcher stops.
    public func close() {
        guard !isClosing else { return }
        isClosing = true
        uv_close(CLibUV_signal_as_handle(handle)) { handle in
            let watcher = Unmanaged<SignalWatcher>.fromOpaque(handle!.pointee.data).takeRetainedValue()
            watcher.handle.deallocate()
        }
    }

    func closeForShutdown() {
        close()
    }
}
