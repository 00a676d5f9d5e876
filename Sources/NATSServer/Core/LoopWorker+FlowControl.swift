import UVLoop

/// Fast-producer flow control, nats-server's "stall": when a receiver's pending output passes three
/// quarters of max_pending (capped at `stallCeiling`), the connection whose input produced it — a client
/// or a route — stops being read for a few milliseconds so the receiver can drain, instead of the
/// receiver being cut off as a slow consumer. A receiver that does not drain at all still reaches
/// max_pending and is closed.
extension Server {
    /// Pending bytes above which producers are paused; small enough to keep memory bounded, large
    /// enough to keep a loopback socket busy.
    static let stallCeiling = 8 * 1024 * 1024
    static let stallMilliseconds: UInt64 = 2
    static let longStallMilliseconds: UInt64 = 5
}

extension LoopWorker {
    /// Runs one read's worth of protocol processing for `reader`, then pauses it if a delivery asked to.
    /// `inputTime` is the loop's time during it.
    @inline(__always)
    func processingInput<Result>(from reader: TCPConnection, _ body: () -> Result) -> Result {
        currentReader = reader
        inputTime = loop.now
        let result = body()
        currentReader = nil
        if handedOffDuringRead { checkHandoffsAfterRead() }
        if requestedStall > 0 { stall(reader) }
        return result
    }

    /// A receiver is backed up: ask for the current reader to be paused (never the receiver itself).
    @inline(__always)
    func receiverBackedUp(_ receiver: TCPConnection, pending: Int, maxPending: Int) {
        guard let reader = currentReader else {
            // Delivering another loop's batch: that loop pauses the reader that produced it.
            if handoffSource >= 0 { peers[handoffSource].returns.backpressure.store(true, ordering: .relaxed) }
            return
        }
        guard reader !== receiver else { return }
        let wanted = pending >= maxPending / 4 * 3 ? Server.longStallMilliseconds : Server.stallMilliseconds
        if wanted > requestedStall { requestedStall = wanted }
    }

    private func stall(_ reader: TCPConnection) {
        let duration = requestedStall
        requestedStall = 0
        reader.pauseReading(forMilliseconds: duration)
    }
}
