import CLibUV

/// Ending a connection without losing the last answer: write it, shut down the sending side (the peer
/// reads the answer, then EOF), drain what the peer still sends, close on its EOF or after a bounded linger.
///
/// A plain close with request bytes still unread makes the kernel answer with a TCP reset instead of a
/// FIN, and a peer that is still sending may then lose the answer. Go's net/http does the same for its
/// error answers (`closeWriteAndWait`: flush, CloseWrite, a short wait).
extension TCPConnection {
    /// Writes everything queued, then shuts down the sending side and closes once the peer ends its side
    /// or `lingerMilliseconds` after the shutdown, whichever comes first. From now on the delegate gets no
    /// more reads (bytes the peer sends are read and dropped) and, as always, one `connectionDidClose`.
    /// Nothing may be written after this call. Does nothing once closing or already ending after a flush.
    public func closeGracefully(lingerMilliseconds: UInt64) {
        guard !isClosing, !closeAfterFlushRequested else { return }
        closeAfterFlushRequested = true
        self.lingerMilliseconds = lingerMilliseconds
        discardFurtherReads()
        if isClosing { return }
        if pendingByteCount == 0 && !writeInFlight {
            shutDownWrites()
        } else if !isOnPendingList {
            loop.enqueueForFlush(self)
        }
    }

    /// The queue of a connection ending after a flush is written: close, or begin the graceful end.
    func queueWasFlushedBeforeClose() {
        if lingerMilliseconds == nil || peerEnded {
            close()
        } else {
            shutDownWrites()
        }
    }

    /// Reads on into the loop's shared buffer and drops the bytes, so none stay unread at the close.
    private func discardFurtherReads() {
        if isReading { _ = uvStatus(uv_read_stop(stream)) }
        let status = uv_read_start(stream, { handle, _, buffer in
            let connection = TCPConnection.owner(ofHandle: handle)
            buffer!.pointee = uv_buf_t(base: connection.sharedReadBuffer.assumingMemoryBound(to: CChar.self),
                                       len: connection.sharedReadBufferSize)
        }, { handle, nread, _ in
            TCPConnection.owner(of: handle).didReadWhileEnding(nread)
        })
        if let error = uvStatus(status) {
            close(error: error)
            return
        }
        isReading = true
    }

    private func didReadWhileEnding(_ nread: Int) {
        guard nread < 0 else { return }  // dropped
        guard nread == Int(UV_EOF.rawValue) else {
            close(error: UVError(code: Int32(truncatingIfNeeded: nread)))
            return
        }
        if isShuttingDownWrites {
            close()
        } else {
            // The peer is done sending but the answer is still being written: close right after it.
            peerEnded = true
            stopReading()
        }
    }

    /// Sends the FIN after the queued bytes and starts the linger deadline.
    private func shutDownWrites() {
        guard !isClosing, !isShuttingDownWrites else { return }
        let request = allocateUVObject(uv_shutdown_t.self)
        // Unretained: libuv runs the callback (with UV_ECANCELED if the handle closes first) before the
        // handle's close callback, which holds the connection's retain.
        request.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        let status = uv_shutdown(request, stream) { request, status in
            let connection = Unmanaged<TCPConnection>.fromOpaque(request!.pointee.data).takeUnretainedValue()
            request!.deallocate()
            connection.writesDidShutDown(status)
        }
        if let error = uvStatus(status) {
            request.deallocate()
            close(error: error)
            return
        }
        isShuttingDownWrites = true
        let timer = LoopTimer(loop: loop) { [unowned self] in self.close() }
        timer.start(afterMilliseconds: lingerMilliseconds ?? 0)
        lingerTimer = timer
    }

    private func writesDidShutDown(_ status: Int32) {
        if isClosing { return }  // cancelled by the close; nothing left to do
        if let error = uvStatus(status) { close(error: error) }
    }

    /// Test hook: whether the sending side was shut down.
    var hasShutDownWrites: Bool { isShuttingDownWrites }
}
