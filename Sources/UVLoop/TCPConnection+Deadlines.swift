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
    /// closed or asked to close meanwhile. With `holdWhile`, the pause goes on past `milliseconds` while
    /// it returns true, up to `atMostMilliseconds` in all (a producer waits for its receiver to drain).
    /// Pausing a paused connection extends the pause. One loop timer serves every paused connection, so
    /// a pause costs no handle of its own.
    public func pauseReading(forMilliseconds milliseconds: UInt64, atMostMilliseconds: UInt64 = 0,
                             holdWhile: (() -> Bool)? = nil) {
        guard !isClosing, !closeAfterFlushRequested else { return }
        stopReading()
        let now = loop.now
        loop.pauseReader(PausedReader(connection: self, until: now + milliseconds,
                                      latest: now + max(milliseconds, atMostMilliseconds), holdWhile: holdWhile))
    }
}

/// A connection whose reading is paused: resumed once `until` passed and `holdWhile` (if any) is false,
/// or at `latest` regardless.
struct PausedReader {
    let connection: TCPConnection
    var until: UInt64
    var latest: UInt64
    var holdWhile: (() -> Bool)?

    func resumes(at now: UInt64) -> Bool {
        guard now >= until else { return false }
        if now >= latest { return true }
        return !(holdWhile?() ?? false)
    }
}

extension EventLoop {
    func pauseReader(_ paused: PausedReader) {
        if let index = pausedReaders.firstIndex(where: { $0.connection === paused.connection }) {
            pausedReaders[index].until = max(pausedReaders[index].until, paused.until)
            pausedReaders[index].latest = max(pausedReaders[index].latest, paused.latest)
            if paused.holdWhile != nil { pausedReaders[index].holdWhile = paused.holdWhile }
            return
        }
        pausedReaders.append(paused)
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
        // Conditions may read other connections; they must not pause or resume readers themselves.
        var resumed: [TCPConnection] = []
        pausedReaders.removeAll { entry in
            if entry.connection.isClosing { return true }
            guard entry.resumes(at: now) else { return false }
            resumed.append(entry.connection)
            return true
        }
        for connection in resumed { connection.startReading() }
        if pausedReaders.isEmpty { resumeTimer?.stop() }
    }
}
