import CLibUV

/// Moving an accepted connection to another loop. A libuv handle belongs to the loop it was initialised
/// on, so the socket itself moves: the accepting loop duplicates the descriptor and closes its handle,
/// the serving loop opens the duplicate in a handle of its own. The peer sees nothing of it.
extension TCPConnection {
    /// Gives up the socket of a connection that has not started reading or writing (just accepted):
    /// `detachSocketKeepingInput()` with no input to keep. Nil (and the connection closed) when the
    /// descriptor cannot be copied.
    public func detachSocket() -> Int32? {
        precondition(!isReading && isOutputIdle, "detachSocket on a connection in use")
        return detachSocketKeepingInput()?.descriptor
    }

    /// Serves the connected socket `descriptor` (from `detachSocket()`) on `loop`; takes ownership of it.
    /// - Throws: libuv's error when the handle cannot be set up; the descriptor is closed then.
    public convenience init(loop: EventLoop, socket descriptor: Int32) throws(UVError) {
        let handle = allocateUVObject(uv_tcp_t.self)
        if let error = uvStatus(uv_tcp_init(loop.rawLoop, handle)) {
            handle.deallocate()
            _ = CLibUV_close_socket(descriptor)
            throw error
        }
        if let error = uvStatus(uv_tcp_open(handle, uv_os_sock_t(descriptor))) {
            // The handle is initialised, so it must go through uv_close; the descriptor is not its own yet.
            uv_close(CLibUV_tcp_as_handle(handle)) { handle in
                CLibUV_handle_as_tcp(handle)!.deallocate()
            }
            _ = CLibUV_close_socket(descriptor)
            throw error
        }
        self.init(loop: loop, adopting: handle)
    }
}

/// Moving a connection in use (a route that finished its handshake on the accepting loop): the socket
/// moves with the bytes read but not yet consumed, once everything queued for it was written.
extension TCPConnection {
    /// Nothing queued and no write in flight: the socket may change loops without reordering output.
    public var isOutputIdle: Bool { pendingByteCount == 0 && !writeInFlight && (tls?.pendingCount ?? 0) == 0 }

    /// Gives up the socket of a connection that stopped reading and has written everything queued:
    /// returns a close-on-exec duplicate of its descriptor and the bytes it read but the delegate did
    /// not consume (to be handed to `startReading(replaying:)` on the new loop), and closes the handle
    /// without telling the delegate. Nil (and the connection closed) when the descriptor cannot be copied.
    public func detachSocketKeepingInput() -> (descriptor: Int32, unreadInput: [UInt8])? {
        precondition(!isReading && isOutputIdle, "detachSocketKeepingInput on a connection still reading or writing")
        guard !isClosing else { return nil }
        var input: [UInt8] = []
        if let privateBuffer, privateCount > 0 {
            input = Array(UnsafeRawBufferPointer(start: privateBuffer, count: privateCount))
        } else if let tail, tailCount > 0 {
            input = Array(UnsafeRawBufferPointer(start: tail, count: tailCount))
        }
        delegate = nil
        let copy = CLibUV_tcp_dup_socket(handle)
        close()
        guard copy >= 0 else { return nil }
        return (copy, input)
    }

    /// Starts reading with `input` (from `detachSocketKeepingInput()`) in front of whatever arrives: the
    /// delegate gets it on the next loop turn even if the peer sends nothing more. Not delivered at once,
    /// because the caller is usually handling its inbox, whose later mail must not run inside this read.
    public func startReading(replaying input: [UInt8]) {
        guard !isClosing else { return }
        if !input.isEmpty {
            input.withUnsafeBytes { bytes in
                if bytes.count > sharedReadBufferSize / 2 {
                    startPrivateBuffer(copying: bytes.baseAddress!, count: bytes.count)
                } else {
                    saveTail(bytes.baseAddress!, count: bytes.count)
                }
            }
            let timer = LoopTimer(loop: loop) { [unowned self] in self.replayUnreadInput() }
            timer.start(afterMilliseconds: 0)
            replayTimer = timer
        }
        startReading()
    }

    /// Hands what was kept to the delegate, as a read of no new bytes would. Harmless when a read came
    /// first: it then holds at most an incomplete frame, which the delegate leaves unconsumed again.
    private func replayUnreadInput() {
        replayTimer?.close()
        replayTimer = nil
        guard !isClosing, isReading else { return }
        if let privateBuffer, privateCount > 0 {
            if neededBytes > privateCount { return }
            deliver(privateBuffer, count: privateCount, fromPrivate: true)
        } else if let tail, tailCount > 0 {
            sharedReadBuffer.copyMemory(from: tail, byteCount: tailCount)
            deliver(sharedReadBuffer, count: tailCount, fromPrivate: false)
        }
    }
}

extension TCPConnection {
    /// Closes a descriptor from `detachSocket()`/`detachSocketKeepingInput()` that will not be adopted.
    public static func closeDetachedSocket(_ descriptor: Int32) {
        _ = CLibUV_close_socket(descriptor)
    }
}
