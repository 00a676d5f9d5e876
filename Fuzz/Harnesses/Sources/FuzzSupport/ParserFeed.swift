import NATSProtocol

/// What feeding one byte stream to the parser produced.
struct FeedOutcome: Equatable {
    /// The ops handled, as `CheckingHandler` records them.
    var events: [[UInt8]]
    /// The error that ended the stream, if any.
    var error: ProtocolError?
    /// Stream offset up to which complete ops were consumed.
    var consumed: Int
}

/// Drives `ProtocolParser` the way the connection layer (UVLoop's TCPConnection read path) does, and
/// checks the result against a single parse of the whole stream.
public enum ParserFeed {
    /// Feeds `stream` in reads ending at `readEnds` (ascending, the last one `stream.count`): each parse call
    /// gets the unconsumed tail of the previous reads followed by the new bytes in one contiguous buffer
    /// (an exact-size copy, see `withExactCopy`), and the consumed prefix is dropped.
    ///
    /// With `waitForNeeded`, a read that leaves the stream short of the `needed` bytes the parser announced
    /// is not parsed (except the last one), as TCPConnection does once a frame has moved to a private
    /// buffer; without it every read is parsed, as on the shared read buffer.
    ///
    /// Checks on every call: `consumed` within the buffer; an announced `needed` larger than what is left
    /// and never together with an error; an announced op completes once its `needed` bytes are there; while
    /// it is short, re-parsing it announces the same `needed`.
    static func feed(
        _ stream: UnsafeRawBufferPointer, readEnds: [Int], waitForNeeded: Bool, kind: ConnectionKind, limits: ParserLimits
    ) -> FeedOutcome {
        let handler = CheckingHandler(kind: kind, limits: limits)
        var pending: [UInt8] = []
        var consumedTotal = 0
        var announced = 0
        var readStart = 0
        for readEnd in readEnds {
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: stream[readStart..<readEnd]))
            readStart = readEnd
            // The last read is always parsed, so that both runs have looked at every byte of the stream.
            if waitForNeeded && announced > pending.count && readEnd < stream.count { continue }
            let result = pending.withUnsafeBytes { bytes in
                withExactCopy(of: bytes) { buffer in
                    handler.window = buffer
                    defer { handler.window = UnsafeRawBufferPointer(start: nil, count: 0) }
                    return ProtocolParser.parse(buffer, kind: kind, limits: limits, handler: handler)
                }
            }
            precondition(result.consumed >= 0 && result.consumed <= pending.count, "consumed outside the buffer")
            if let error = result.error {
                precondition(result.needed == 0, "needed announced together with an error")
                return FeedOutcome(events: handler.events, error: error, consumed: consumedTotal + result.consumed)
            }
            if result.needed > 0 {
                precondition(result.needed > pending.count - result.consumed, "needed announced for bytes already there")
            }
            if announced > 0 {
                if pending.count >= announced {
                    precondition(result.consumed >= announced, "announced op incomplete with all its bytes there")
                } else {
                    precondition(result.consumed == 0 && result.needed == announced, "announcement changed before the op completed")
                }
            }
            pending.removeFirst(result.consumed)
            consumedTotal += result.consumed
            announced = result.needed
        }
        return FeedOutcome(events: handler.events, error: nil, consumed: consumedTotal)
    }

    /// Parses `stream` once whole and once cut into reads chosen by `choices`, and requires the same ops,
    /// the same error and the same consumed offset: a split at any byte must not change what a peer's
    /// bytes mean.
    ///
    /// One difference is allowed: a control line still waiting for its newline is held to the limit on
    /// what has accumulated (the caller would otherwise buffer it without bound), which counts blanks the
    /// complete line would not count, so the split parse may stop earlier with "maximum control line
    /// exceeded", after a prefix of the same ops.
    public static func checkSplitsAgree(
        _ stream: UnsafeRawBufferPointer, choices: inout InputChoices, kind: ConnectionKind, limits: ParserLimits
    ) {
        let whole = feed(stream, readEnds: [stream.count], waitForNeeded: false, kind: kind, limits: limits)
        let readEnds = choices.readEnds(count: stream.count)
        let split = feed(stream, readEnds: readEnds, waitForNeeded: choices.oneIn(2), kind: kind, limits: limits)
        if split == whole { return }
        precondition(
            split.error == .maxControlLineExceeded && whole.events.starts(with: split.events),
            "reads ending at \(readEnds) parse differently from the whole stream: \(split.events.count) ops, error \(String(describing: split.error)) vs \(whole.events.count) ops, error \(String(describing: whole.error))")
    }
}
