import CLibUV

/// The write path: writers reserve space in 64 KiB chunks and commit; the loop flushes each
/// connection with queued bytes once per turn with one vectored `uv_try_write`, then a
/// `uv_write` for what the kernel did not take.
extension TCPConnection {
    /// Bytes queued and not yet accepted by the kernel (0 once closing: queued output is dropped).
    @inlinable
    public var pendingBytes: Int {
        isClosing ? 0 : pendingByteCount
    }

    /// Space for `count` bytes in the outbound queue. Write into it, then call `commit(count)`
    /// before any other outbound call. Schedules nothing by itself.
    @inlinable
    public func reserve(_ count: Int) -> UnsafeMutableRawPointer {
        if let base = openBase, openCapacity &- openUsed >= count {
            return base + openUsed
        }
        return reserveSlow(count)
    }

    /// Marks `count` reserved bytes as queued and puts the connection on the loop's flush list.
    @inlinable
    public func commit(_ count: Int) {
        openUsed &+= count
        pendingByteCount &+= count
        if !isOnPendingList {
            scheduleFlush()
        }
    }

    /// Copies `bytes` into the outbound queue.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count).copyMemory(from: source, byteCount: bytes.count)
        commit(bytes.count)
    }

    /// Copies `bytes` into the outbound queue.
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// The open block is full (or absent): queue it behind and open a new one.
    @usableFromInline
    func reserveSlow(_ count: Int) -> UnsafeMutableRawPointer {
        if isClosing {
            // Output of a closing connection is accepted and dropped; see scheduleFlush().
            openUsed = 0
            pendingByteCount = 0
            return loop.discardSpace(count)
        }
        sealOpenBlock()
        if count <= loop.chunkSize {
            openBase = loop.takeChunk()
            openCapacity = loop.chunkSize
        } else {
            // A frame larger than a chunk gets a block of its own, freed once written.
            openBase = .allocate(byteCount: count, alignment: 16)
            openCapacity = count
        }
        openUsed = 0
        return openBase!
    }

    /// Called by `commit` when the connection is not on the flush list yet.
    @usableFromInline
    func scheduleFlush() {
        if isClosing {
            openUsed = 0
            pendingByteCount = 0
            return
        }
        loop.enqueueForFlush(self)
    }

    /// Moves the open block behind the sealed ones (it keeps its queued bytes).
    private func sealOpenBlock() {
        guard let base = openBase else { return }
        sealed.append(OutboundBlock(base: base, capacity: openCapacity, used: openUsed))
        openBase = nil
        openCapacity = 0
        openUsed = 0
    }

    /// Fills the loop's iovec array from the head of the queue; returns entries and bytes.
    func fillIovecs() -> (count: Int32, bytes: Int) {
        let iovecs = loop.iovecs
        let capacity = loop.iovecCapacity
        var count = 0
        var bytes = 0
        var offset = headOffset
        var index = sealedHead
        while index < sealed.count && count < capacity {
            let block = sealed[index]
            let length = block.used - offset
            if length > 0 {
                iovecs[count] = uv_buf_t(base: (block.base + offset).assumingMemoryBound(to: CChar.self), len: length)
                count += 1
                bytes += length
            }
            offset = 0
            index += 1
        }
        if index == sealed.count && count < capacity, let base = openBase, openUsed > offset {
            iovecs[count] = uv_buf_t(base: (base + offset).assumingMemoryBound(to: CChar.self), len: openUsed - offset)
            count += 1
            bytes += openUsed - offset
        }
        return (Int32(count), bytes)
    }

    /// `count` bytes from the head of the queue reached the kernel: release the blocks they fill.
    func advanceHead(by count: Int) {
        pendingByteCount -= count
        bytesWritten &+= count
        var remaining = count
        while sealedHead < sealed.count {
            let block = sealed[sealedHead]
            let length = block.used - headOffset
            if remaining < length { break }
            remaining -= length
            loop.recycle(block.base, capacity: block.capacity)
            sealedHead += 1
            headOffset = 0
        }
        if sealedHead == sealed.count {
            sealed.removeAll(keepingCapacity: true)
            sealedHead = 0
        }
        headOffset += remaining
    }

    /// Everything was written: give the open block back so an idle connection holds no chunk.
    func releaseOpenBlockIfDrained() {
        guard pendingByteCount == 0, !writeInFlight, let base = openBase else { return }
        loop.recycle(base, capacity: openCapacity)
        openBase = nil
        openCapacity = 0
        openUsed = 0
        headOffset = 0
    }

    /// Writes the queue: `uv_try_write` first, then `uv_write` for the rest. Called by the loop's
    /// flush pass, at most once per connection per turn.
    func flush() {
        if let tls { return flushTLS(tls) }
        guard !isClosing, !writeInFlight else { return }
        if pendingByteCount > 0 {
            guard let written = tryWrite(fillIovecs().count) else { return }
            if written > 0 { advanceHead(by: written) }
            if pendingByteCount > 0 {
                let (count, bytes) = fillIovecs()
                startWrite(count, bytes: bytes) { request, status in
                    let data = request!.pointee.data!
                    Unmanaged<TCPConnection>.fromOpaque(data).takeUnretainedValue().writeDidComplete(status)
                }
                return
            }
        }
        releaseOpenBlockIfDrained()
        if closeAfterFlushRequested { queueWasFlushedBeforeClose() }
    }

    /// One `uv_try_write` of the first `count` entries of the loop's iovec array: the bytes the kernel took
    /// (0 when it would block), or nil when the write failed and the connection is closing.
    func tryWrite(_ count: Int32) -> Int? {
        writeCallCount += 1
        let written = uv_try_write(stream, loop.iovecs, UInt32(count))
        if written < 0 && written != UV_EAGAIN.rawValue {
            close(error: UVError(code: written))
            return nil
        }
        return max(Int(written), 0)
    }

    /// Hands the first `count` entries of the loop's iovec array (`bytes` in all) to `uv_write`, whose
    /// `callback` reports the end; closes the connection when libuv refuses.
    func startWrite(_ count: Int32, bytes: Int, callback: uv_write_cb) {
        if let error = uvStatus(uv_write(writeRequest, stream, loop.iovecs, UInt32(count), callback)) {
            close(error: error)
            return
        }
        writeInFlight = true
        inflightBytes = bytes
    }

    /// The `uv_write` callback: the in-flight bytes are written (or failed, or cancelled by close).
    private func writeDidComplete(_ status: Int32) {
        writeInFlight = false
        // After close() the queue was dropped; the blocks are freed by the close callback.
        if isClosing { return }
        if let error = uvStatus(status) {
            close(error: error)
            return
        }
        advanceHead(by: inflightBytes)
        inflightBytes = 0
        if pendingByteCount > 0 {
            if !isOnPendingList { loop.enqueueForFlush(self) }
            return
        }
        releaseOpenBlockIfDrained()
        if closeAfterFlushRequested { queueWasFlushedBeforeClose() }
    }

    /// close(): forget queued output. Blocks a `uv_write` may still reference stay queued until
    /// the close callback; writes from now on go to the loop's discard buffer.
    func dropQueuedOutput() {
        sealOpenBlock()
        pendingByteCount = 0
    }

    /// Close callback: every block goes back to the loop.
    func releaseAllOutbound() {
        sealOpenBlock()
        while sealedHead < sealed.count {
            loop.recycle(sealed[sealedHead].base, capacity: sealed[sealedHead].capacity)
            sealedHead += 1
        }
        sealed.removeAll()
        sealedHead = 0
        headOffset = 0
    }
}
