import CLibUV

/// What a delegate did with the bytes it was handed.
public struct ReadDisposition: Sendable {
    /// Bytes consumed from the front of the region; the rest is kept as the unparsed tail.
    public var consumed: Int
    /// Total bytes the remaining incomplete frame needs (tail included), 0 = unknown.
    public var needed: Int

    /// Creates a disposition.
    public init(consumed: Int, needed: Int) {
        self.consumed = consumed
        self.needed = needed
    }
}

/// Receives the bytes and the end of a `TCPConnection`. Called on the loop thread only.
public protocol TCPConnectionDelegate: AnyObject {
    /// `bytes` is the unparsed tail plus the new bytes. The delegate may call `close()` inside.
    func connectionDidRead(_ connection: TCPConnection, bytes: UnsafeRawBufferPointer) -> ReadDisposition
    /// Called exactly once: peer EOF, read/write error, or after close()/closeAfterFlush() completed.
    /// error is nil for EOF and for a local close.
    func connectionDidClose(_ connection: TCPConnection, error: UVError?)
    /// Called once when the TLS handshake started with `startTLS` completed, before any decrypted byte
    /// is delivered.
    func connectionDidCompleteTLSHandshake(_ connection: TCPConnection)
}

extension TCPConnectionDelegate {
    /// Nothing to do by default.
    public func connectionDidCompleteTLSHandshake(_ connection: TCPConnection) {}
}

/// One outbound block queued behind the open one: `used` bytes were written into it.
@usableFromInline
struct OutboundBlock {
    @usableFromInline var base: UnsafeMutableRawPointer
    @usableFromInline var capacity: Int
    @usableFromInline var used: Int

    @inlinable
    init(base: UnsafeMutableRawPointer, capacity: Int, used: Int) {
        self.base = base
        self.capacity = capacity
        self.used = used
    }
}

/// A TCP stream on an `EventLoop` with the shared-buffer read path and the chunked,
/// once-per-turn vectored write path. Loop-confined, not `Sendable`.
///
/// Connections created by `connect` or a `TCPListener` start with `delegate` nil and reading
/// stopped. The libuv handle retains the connection until its close callback, so a connection
/// lives until it is closed even if nobody else holds it.
public final class TCPConnection: LoopHandleOwner {
    /// Receives reads and the close. Held strongly until the close callback drops it, so a delegate that
    /// owns its connection forms a cycle only while the connection is open. (A weak reference would
    /// give every delegate a side table and put slow-path refcounting on the per-message path.)
    public var delegate: (any TCPConnectionDelegate)?
    /// The loop this connection runs on.
    /// The loop outlives its connections; unowned(unsafe) keeps refcounting off the per-message path.
    public unowned(unsafe) let loop: EventLoop
    /// The peer's numeric IP address ("" if it could not be read), computed once.
    public let remoteHost: String
    /// The peer's port (0 if it could not be read).
    public let remotePort: Int

    /// The libuv handle, at a stable address; its `data` holds this connection retained.
    let handle: UnsafeMutablePointer<uv_tcp_t>
    /// The one write request: at most one `uv_write` is in flight per connection.
    let writeRequest: UnsafeMutablePointer<uv_write_t>

    /// True once `close()` ran (or a failure closed the connection).
    public private(set) var isClosing = false
    var isReading = false
    var closeAfterFlushRequested = false
    var closeError: UVError?

    // MARK: Read state (see TCPConnection+Read.swift)

    /// The loop's shared read buffer, cached to avoid an unowned load per read.
    let sharedReadBuffer: UnsafeMutableRawPointer
    let sharedReadBufferSize: Int
    /// The unparsed tail kept between reads, allocated on demand and freed when empty.
    var tail: UnsafeMutableRawPointer?
    var tailCount = 0
    var tailCapacity = 0
    /// A private buffer used while a frame too large for the shared buffer arrives.
    var privateBuffer: UnsafeMutableRawPointer?
    var privateCount = 0
    var privateCapacity = 0
    /// What the delegate last said the incomplete remainder needs in total (0 = unknown).
    var neededBytes = 0

    // MARK: Write state (see TCPConnection+Write.swift)

    /// The block writers reserve space in; mirrored in three fields so `reserve`/`commit` inline.
    @usableFromInline var openBase: UnsafeMutableRawPointer?
    @usableFromInline var openUsed = 0
    @usableFromInline var openCapacity = 0
    /// Committed bytes not yet accepted by the kernel.
    @usableFromInline var pendingByteCount = 0
    /// Whether the connection is on the loop's flush list.
    @usableFromInline var isOnPendingList = false
    /// Next connection on the loop's flush list.
    @usableFromInline var nextPending: TCPConnection?
    /// Full blocks queued before the open block; those before `sealedHead` are already released.
    var sealed: ContiguousArray<OutboundBlock> = []
    var sealedHead = 0
    /// Bytes of the first queued block already handed to the kernel.
    var headOffset = 0
    /// Bytes covered by the `uv_write` in flight.
    var inflightBytes = 0
    /// Bytes the kernel has accepted so far: a caller compares it over time to tell a slow peer from
    /// one that stopped reading (nats-server's write deadline).
    public internal(set) var bytesWritten = 0
    var writeInFlight = false
    /// Number of `uv_try_write` calls made (test hook: one per flush).
    var writeCallCount = 0

    // MARK: TLS state (see TCPConnection+TLS.swift)

    /// Set by `startTLS`; nil for a plaintext connection (its only cost: one branch per read and flush).
    var tls: TLSSession?

    // MARK: Graceful close state (see TCPConnection+GracefulClose.swift)

    /// Set by `closeGracefully`: once the queue is written, shut down the sending side and wait at most
    /// this long (milliseconds) for the peer's end; nil for a plain close after the flush.
    var lingerMilliseconds: UInt64?
    /// Bounds the wait for the peer's end once the sending side is shut down.
    var lingerTimer: LoopTimer?
    /// Closes the connection when its last flush takes too long (`closeAfterFlush(deadlineMilliseconds:)`).
    var flushDeadline: LoopTimer?
    /// True once `uv_shutdown` was asked for (its request is freed in its callback).
    var isShuttingDownWrites = false
    /// The peer ended its side before the queue was written: close as soon as it is.
    var peerEnded = false
    /// Delivers input carried over from another loop (`startReading(replaying:)`) on the next turn.
    var replayTimer: LoopTimer?

    /// Wraps a TCP handle that is already initialised (and connected or accepted); takes it over.
    init(loop: EventLoop, adopting handle: UnsafeMutablePointer<uv_tcp_t>) {
        self.loop = loop
        self.handle = handle
        sharedReadBuffer = loop.readBuffer
        sharedReadBufferSize = loop.readBufferSize
        writeRequest = allocateUVObject(uv_write_t.self)
        var port: Int32 = 0
        var host = ""
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { ip in
            if CLibUV_tcp_peer(handle, ip.baseAddress!, 64, &port) == 0 {
                host = String(cString: ip.baseAddress!)
            } else {
                port = 0
            }
        }
        remoteHost = host
        remotePort = Int(port)
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        // The request does not retain: its callback always runs before the handle's close callback.
        writeRequest.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    @inline(__always)
    var stream: UnsafeMutablePointer<uv_stream_t> {
        CLibUV_tcp_as_stream(handle)
    }

    /// Recovers the connection from a handle's `data` without touching its retain count.
    @inline(__always)
    static func owner(of stream: UnsafeMutablePointer<uv_stream_t>?) -> TCPConnection {
        Unmanaged<TCPConnection>.fromOpaque(stream!.pointee.data).takeUnretainedValue()
    }

    /// Same for the alloc callback, which receives the handle as `uv_handle_t`.
    @inline(__always)
    static func owner(ofHandle handle: UnsafeMutablePointer<uv_handle_t>?) -> TCPConnection {
        Unmanaged<TCPConnection>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
    }

    /// Enables or disables Nagle's algorithm (TCP_NODELAY).
    public func setNoDelay(_ enabled: Bool) {
        guard !isClosing else { return }
        _ = uvStatus(uv_tcp_nodelay(handle, enabled ? 1 : 0))
    }

    /// Drops queued output and closes now.
    public func close() {
        close(error: nil)
    }

    /// True between `closeAfterFlush()` and the moment the queue is written and the close begins.
    public var isFlushingBeforeClose: Bool { closeAfterFlushRequested && !isClosing }

    /// Stops reading, writes everything queued, then closes (used after a final -ERR).
    public func closeAfterFlush() {
        guard !isClosing else { return }
        stopReading()
        closeAfterFlushRequested = true
        if pendingByteCount == 0 && !writeInFlight && (tls?.pendingCount ?? 0) == 0 {
            close()
        } else if !isOnPendingList {
            loop.enqueueForFlush(self)
        }
    }

    /// Starts closing with `error` reported to the delegate (nil for EOF or a local close).
    func close(error: UVError?) {
        guard !isClosing else { return }
        isClosing = true
        isReading = false
        closeError = error
        if let lingerTimer {
            lingerTimer.close()
            self.lingerTimer = nil
        }
        if let flushDeadline {
            flushDeadline.close()
            self.flushDeadline = nil
        }
        if let replayTimer {
            replayTimer.close()
            self.replayTimer = nil
        }
        if let timer = tls?.handshakeTimer {
            timer.close()
            tls?.handshakeTimer = nil
        }
        dropQueuedOutput()
        uv_close(CLibUV_tcp_as_handle(handle)) { handle in
            // Balances the passRetained of init; the connection may be freed when this returns.
            let connection = Unmanaged<TCPConnection>.fromOpaque(handle!.pointee.data).takeRetainedValue()
            connection.handleDidClose()
        }
    }

    func closeForShutdown() {
        close()
    }

    /// The last step of the connection: frees every buffer and the handle, tells the delegate.
    private func handleDidClose() {
        releaseReadBuffers()
        releaseAllOutbound()
        tls?.release()
        writeRequest.deallocate()
        handle.deallocate()
        let delegate = self.delegate
        self.delegate = nil
        delegate?.connectionDidClose(self, error: closeError)
    }
}
