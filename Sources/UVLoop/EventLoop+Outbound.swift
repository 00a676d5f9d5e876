import CLibUV

/// The loop-wide parts of the write path: the chunk free list, the discard buffer for closing
/// connections, and the list of connections flushed once per loop turn.
extension EventLoop {
    /// A `chunkSize` block from the free list, or a new one.
    @usableFromInline
    func takeChunk() -> UnsafeMutableRawPointer {
        if let chunk = freeChunks.popLast() { return chunk }
        return .allocate(byteCount: chunkSize, alignment: 16)
    }

    /// Returns an outbound block: `chunkSize` blocks are recycled, larger (dedicated) ones freed.
    func recycle(_ chunk: UnsafeMutableRawPointer, capacity: Int) {
        if capacity == chunkSize && freeChunks.count < maxFreeChunks {
            freeChunks.append(chunk)
        } else {
            chunk.deallocate()
        }
    }

    /// Scratch space for output to a connection that is already closing (it will never be sent).
    @usableFromInline
    func discardSpace(_ count: Int) -> UnsafeMutableRawPointer {
        if count > discardBufferSize {
            discardBuffer.deallocate()
            discardBufferSize = count
            discardBuffer = .allocate(byteCount: count, alignment: 16)
        }
        return discardBuffer
    }

    /// Puts `connection` on the flush list; callers check `isOnPendingList` first.
    @usableFromInline
    func enqueueForFlush(_ connection: TCPConnection) {
        connection.isOnPendingList = true
        if let tail = pendingTail {
            tail.nextPending = connection
        } else {
            pendingHead = connection
        }
        pendingTail = connection
    }

    /// Flushes every connection with queued output. Runs from the check and prepare handles, so
    /// all output produced during one turn leaves in one vectored write per connection.
    func flushPending() {
        if let turnEndHook { turnEndHook() }
        guard pendingHead != nil else { return }
        flushPassCount += 1
        // Detach the list first: a flush may close a connection, whose delegate may queue more.
        var next = pendingHead
        pendingHead = nil
        pendingTail = nil
        while let connection = next {
            next = connection.nextPending
            connection.nextPending = nil
            connection.isOnPendingList = false
            connection.flush()
        }
    }
}
