import CLibUV

/// The transport's own timers: a bound on the last flush before a close, and short read pauses for
/// flow control. They are properties of a connection, so they live here rather than in the protocol
/// code above.
extension TCPConnection {
    /// `closeAfterFlush()`, but the connection is closed regardless once `deadlineMilliseconds` passed
    /// (a peer that stopped reading cannot hold it open; nats-server bounds this with its write deadline).
    public func closeAfterFlush(deadlineMilliseconds: UInt64) {
        closeAfterFlush()
        guard isFlushingBeforeClose, flushDeadline == nil else { return }
        // Unowned: close() closes this timer before the connection can go away.
        let timer = LoopTimer(loop: loop) { [unowned self] in self.close() }
        timer.start(afterMilliseconds: deadlineMilliseconds)
        flushDeadline = timer
    }

    /// Stops reading for `milliseconds` (1 ms resolution), then reads again unless the connection was
    /// closed or asked to close meanwhile. Pausing a paused connection extends the pause. One loop timer
    /// serves every paused connection, so a pause costs no handle of its own.
    public func pauseReading(forMilliseconds milliseconds: UInt64) {
        guard !isClosing, !closeAfterFlushRequested else { return }
        stopReading()
        loop.pauseReader(self, until: loop.now + milliseconds)
    }
}

extension EventLoop {
    func pauseReader(_ connection: TCPConnection, until: UInt64) {
        if let index = pausedReaders.firstIndex(where: { $0.connection === connection }) {
            pausedReaders[index].until = max(pausedReaders[index].until, until)
            return
        }
        pausedReaders.append((connection, until))
        if resumeTimer == nil {
            let timer = LoopTimer(loop: self) { [unowned self] in self.resumePausedReaders() }
            // A pause never keeps the loop running on its own (a shutdown need not wait for it).
            timer.keepsLoopAlive = false
            resumeTimer = timer
        }
        if pausedReaders.count == 1 { resumeTimer?.start(afterMilliseconds: 1, repeatMilliseconds: 1) }
    }

    private func resumePausedReaders() {
        let now = self.now
        pausedReaders.removeAll { entry in
            if entry.connection.isClosing { return true }
            guard now >= entry.until else { return false }
            entry.connection.startReading()
            return true
        }
        if pausedReaders.isEmpty { resumeTimer?.stop() }
    }
}
