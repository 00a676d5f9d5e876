import UVLoop

/// Fast-producer flow control, nats-server's "stall": when a receiver's pending output passes three
/// quarters of max_pending (capped at `stallCeiling`), the connection whose input produced it — a client
/// or a route — stops being read so the receiver can drain, instead of the receiver being cut off as a
/// slow consumer: at least a few milliseconds, and on while the receiver stays above that mark (at most
/// `stallLimitMilliseconds`). A receiver that does not drain at all still reaches max_pending and is
/// closed. A receiver on another loop is watched by that loop, which holds the producer's loop back
/// (`HandoffReturns.backedUpReceivers`) until it drained.
extension Server {
    /// Pending bytes above which producers are paused; small enough to keep memory bounded, large
    /// enough to keep a loopback socket busy.
    static let stallCeiling = 8 * 1024 * 1024
    static let stallMilliseconds: UInt64 = 2
    static let longStallMilliseconds: UInt64 = 5
    /// The longest one pause lasts while its receiver does not drain; then the producer reads again,
    /// and a receiver that still cannot keep up reaches max_pending.
    static let stallLimitMilliseconds: UInt64 = 1000
}

extension LoopWorker {
    /// Runs one read's worth of protocol processing for `reader`, then pauses it if a delivery asked to.
    /// `inputTime` is the loop's time during it.
    @inline(__always)
    func processingInput<Result>(from reader: TCPConnection, _ body: () -> Result) -> Result {
        // Messages other loops handed over come first: they were published before anything this read
        // can depend on (per-sender order across loops; see LoopInbox.drainIfPosted).
        if let inbox { inbox.drainIfPosted() }
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
            if let subscription = handoffSubscription { watchBackedUpReceiver(receiver, subscription: subscription) }
            return
        }
        guard reader !== receiver else { return }
        let wanted = pending >= maxPending / 4 * 3 ? Server.longStallMilliseconds : Server.stallMilliseconds
        if wanted > requestedStall { requestedStall = wanted }
        stalledOn = receiver
    }

    private func stall(_ reader: TCPConnection) {
        let duration = requestedStall
        requestedStall = 0
        let threshold = stallThreshold
        defer {
            stalledOn = nil
            crossLoopStall = false
            backedUpTarget = nil
        }
        if let receiver = stalledOn {
            reader.pauseReading(forMilliseconds: duration, atMostMilliseconds: Server.stallLimitMilliseconds) {
                !receiver.isClosing && receiver.pendingBytes > threshold
            }
        } else if crossLoopStall {
            let returns = self.returns
            let limit = handoffBytesLimit
            let target = backedUpTarget
            reader.pauseReading(forMilliseconds: duration, atMostMilliseconds: Server.stallLimitMilliseconds) {
                target?.isBackedUp.load(ordering: .relaxed) == true
                    || returns.bytesInFlight.load(ordering: .relaxed) > limit
            }
        } else {
            reader.pauseReading(forMilliseconds: duration)
        }
    }
}
