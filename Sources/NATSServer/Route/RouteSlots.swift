/// Which loop serves each pool connection, and which connection a local client's traffic takes, when
/// routes are spread over the server's loops (issue 7 point 5). Pure functions of the pool size, the
/// loop count and a per-peer offset, so the loop that announces a client's interest and the loop that
/// forwards its messages agree without asking each other.
///
/// A peer's slot `s` is served by loop `(s + offset) % loops`; the offset (from the peer's join order)
/// starts different peers' pools on different loops. A client served by loop `j` sends everything (its
/// messages and the RS+/RS- of the interest it creates) on one slot: one of the slots loop `j` serves
/// when there is one, so its messages leave from its own loop with no hand-over; otherwise (more loops
/// than slots) a slot chosen by its id, on whichever loop serves that. One slot per client keeps its
/// order, including a SUB before the PUB that relies on it (a request's reply subscription).
enum RouteSlots {
    /// The loop serving slot `slot` of a pool whose peer has `offset`.
    @inline(__always)
    static func loop(ofSlot slot: Int, offset: Int, loops: Int) -> Int {
        loops <= 1 ? 0 : (slot &+ offset) % loops
    }

    /// The slot that carries client `client`'s traffic, the client being served by loop `loop`.
    /// - Parameters:
    ///   - poolSize: the pair's pool size (1 in the no-pool dialect).
    ///   - offset: the peer's offset (`loop(ofSlot:offset:loops:)`).
    /// - Returns: a slot in `0..<poolSize`; with one loop, `client % poolSize`; with several, chosen
    ///   by the client's ordinal on its loop (see `ordinal(ofClient:loops:)`).
    @inline(__always)
    static func slot(forClient client: UInt64, onLoop loop: Int, poolSize: Int, offset: Int, loops: Int) -> Int {
        guard poolSize > 1 else { return 0 }
        guard loops > 1 else { return Int(truncatingIfNeeded: client % UInt64(truncatingIfNeeded: poolSize)) }
        // The ids of one loop's clients step by the loop count: taken as they are, they would all fall on
        // the same slot.
        let mixed = ordinal(ofClient: client, loops: loops)
        // The slots this loop serves are r, r + loops, r + 2·loops, ... below poolSize.
        let first = (loop &- offset % loops &+ loops) % loops
        if first < poolSize {
            let count = (poolSize &- first &+ loops &- 1) / loops
            return first &+ loops &* Int(truncatingIfNeeded: mixed % UInt64(truncatingIfNeeded: count))
        }
        return Int(truncatingIfNeeded: mixed % UInt64(truncatingIfNeeded: poolSize))
    }

    /// The ordinal of a client among its loop's clients: client ids and accepting loops both advance
    /// once per accepted connection (round robin, Server+Accept.swift), so the ids of one loop's clients
    /// step by the loop count, and the id divided by it counts that loop's clients one by one; taken
    /// modulo the slots they choose from, consecutive clients of a loop take consecutive slots.
    @inline(__always)
    static func ordinal(ofClient id: UInt64, loops: Int) -> UInt64 {
        id / UInt64(truncatingIfNeeded: loops)
    }
}
