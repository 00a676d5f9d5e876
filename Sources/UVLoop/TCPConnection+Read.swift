import CLibUV

/// The read path: one loop-wide buffer, a per-connection unparsed tail, and a private buffer
/// grown on demand for a frame too large for the shared buffer and released after.
extension TCPConnection {
    /// Starts delivering reads to the delegate.
    public func startReading() {
        guard !isClosing, !isReading, !closeAfterFlushRequested else { return }
        let status = uv_read_start(stream, { handle, _, buffer in
            let connection = TCPConnection.owner(ofHandle: handle)
            let space = connection.tls == nil ? connection.readSpace() : connection.tlsReadSpace()
            buffer!.pointee = uv_buf_t(base: space.baseAddress!.assumingMemoryBound(to: CChar.self), len: space.count)
        }, { handle, nread, _ in
            TCPConnection.owner(of: handle).didRead(nread)
        })
        if let error = uvStatus(status) {
            close(error: error)
            return
        }
        isReading = true
    }

    /// Stops delivering reads (the kernel buffers and TCP flow control take over).
    public func stopReading() {
        guard isReading, !isClosing else { return }
        _ = uvStatus(uv_read_stop(stream))
        isReading = false
    }

    /// Capacity of the private read buffer, 0 when the connection uses the shared one (test hook).
    var privateReadBufferCapacity: Int {
        privateBuffer == nil ? 0 : privateCapacity
    }

    /// Bytes of unparsed tail kept between reads (test hook).
    var unparsedTailCount: Int {
        privateBuffer == nil ? tailCount : privateCount
    }

    /// Whether a remainder of `count` bytes whose frame needs `needed` bytes is better read into
    /// a private buffer: when it would not fit into the shared buffer with half of it to spare.
    @inline(__always)
    private func wantsPrivateBuffer(count: Int, needed: Int) -> Bool {
        max(count, needed) > sharedReadBufferSize / 2
    }

    /// The alloc callback's answer: where the next read goes.
    @inline(__always)
    func readSpace() -> UnsafeMutableRawBufferPointer {
        if let buffer = privateBuffer {
            return UnsafeMutableRawBufferPointer(start: buffer + privateCount, count: privateCapacity - privateCount)
        }
        if tailCount > 0, let tail {
            // The tail goes in front of the new bytes so the delegate sees one contiguous region.
            sharedReadBuffer.copyMemory(from: tail, byteCount: tailCount)
            return UnsafeMutableRawBufferPointer(start: sharedReadBuffer + tailCount, count: sharedReadBufferSize - tailCount)
        }
        return UnsafeMutableRawBufferPointer(start: sharedReadBuffer, count: sharedReadBufferSize)
    }

    /// The read callback: `nread` new bytes landed where `readSpace()` said, or an error/EOF.
    @inline(__always)
    func didRead(_ nread: Int) {
        if nread < 0 {
            close(error: nread == Int(UV_EOF.rawValue) ? nil : UVError(code: Int32(truncatingIfNeeded: nread)))
            return
        }
        if nread == 0 { return }
        if tls != nil { return tlsDidRead(nread) }
        didReceive(nread)
    }

    /// `nread` (> 0) new plaintext bytes landed where `readSpace()` said: deliver them with the tail, or
    /// wait for the rest of a large frame in the private buffer.
    @inline(__always)
    func didReceive(_ nread: Int) {
        if let buffer = privateBuffer {
            privateCount += nread
            // Wait until the announced frame is complete: no parse of a half-arrived payload.
            if neededBytes > privateCount { return }
            deliver(buffer, count: privateCount, fromPrivate: true)
        } else {
            deliver(sharedReadBuffer, count: tailCount + nread, fromPrivate: false)
        }
    }

    /// Hands `count` bytes at `base` to the delegate and keeps what it left as the new tail.
    @inline(__always)
    func deliver(_ base: UnsafeMutableRawPointer, count: Int, fromPrivate: Bool) {
        let disposition: ReadDisposition
        if let delegate {
            disposition = delegate.connectionDidRead(self, bytes: UnsafeRawBufferPointer(start: base, count: count))
        } else {
            disposition = ReadDisposition(consumed: count, needed: 0)
        }
        // Closed inside the delegate: buffers are released by the close callback.
        if isClosing { return }
        let consumed = min(max(disposition.consumed, 0), count)
        let remainder = count - consumed
        neededBytes = disposition.needed > remainder ? disposition.needed : 0
        if fromPrivate {
            keepPrivateRemainder(base + consumed, count: remainder)
        } else if remainder == 0 {
            releaseTail()
        } else if wantsPrivateBuffer(count: remainder, needed: neededBytes) {
            releaseTail()
            startPrivateBuffer(copying: base + consumed, count: remainder)
        } else {
            saveTail(base + consumed, count: remainder)
        }
    }

    /// Copies `count` bytes (outside the tail storage) into the tail, growing it if needed.
    func saveTail(_ bytes: UnsafeRawPointer, count: Int) {
        if tailCapacity < count {
            tail?.deallocate()
            tailCapacity = max(count, 1024)
            tail = .allocate(byteCount: tailCapacity, alignment: 16)
        }
        tail!.copyMemory(from: bytes, byteCount: count)
        tailCount = count
    }

    private func releaseTail() {
        tail?.deallocate()
        tail = nil
        tailCount = 0
        tailCapacity = 0
    }

    /// Capacity for a private buffer holding `count` bytes: the whole frame when its size is
    /// known, otherwise room to double (a long frame whose size the delegate cannot tell yet).
    private func privateCapacity(for count: Int) -> Int {
        neededBytes > count ? neededBytes : max(count * 2, sharedReadBufferSize)
    }

    func startPrivateBuffer(copying bytes: UnsafeRawPointer, count: Int) {
        privateCapacity = privateCapacity(for: count)
        privateBuffer = .allocate(byteCount: privateCapacity, alignment: 16)
        privateBuffer!.copyMemory(from: bytes, byteCount: count)
        privateCount = count
    }

    /// After a delivery from the private buffer: keep the remainder there if it is still large,
    /// otherwise move it to the tail and release the private buffer.
    private func keepPrivateRemainder(_ remainder: UnsafeMutableRawPointer, count: Int) {
        guard let buffer = privateBuffer else { return }
        if count == 0 || !wantsPrivateBuffer(count: count, needed: neededBytes) {
            if count > 0 { saveTail(remainder, count: count) }
            buffer.deallocate()
            privateBuffer = nil
            privateCount = 0
            privateCapacity = 0
            return
        }
        let capacity = privateCapacity(for: count)
        if capacity > privateCapacity {
            let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
            grown.copyMemory(from: remainder, byteCount: count)
            buffer.deallocate()
            privateBuffer = grown
            privateCapacity = capacity
        } else if remainder != buffer {
            // Overlapping move to the front (copyMemory is a memmove).
            buffer.copyMemory(from: remainder, byteCount: count)
        }
        privateCount = count
    }

    /// Frees the tail and the private buffer (close callback).
    func releaseReadBuffers() {
        releaseTail()
        privateBuffer?.deallocate()
        privateBuffer = nil
        privateCount = 0
        privateCapacity = 0
    }
}
