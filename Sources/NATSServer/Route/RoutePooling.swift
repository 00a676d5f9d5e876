import NATSProtocol

/// nats-server's route pool rules as pure functions (nats-protocol.md §2.10 and §2.7; nats-server
/// route.go `computeRoutePoolIdx` and `addRoute`).
///
/// A pooled server opens `pool_size` connections to every peer and sends each account's interest and
/// messages on one of them, the account's slot. Two servers pool only when both do: either side without a
/// pool (an old server, or `pool_size: -1`) makes the pair speak the no-pool dialect, one connection
/// carrying every account. Since v2.11 the two pool sizes may differ: the pair uses the larger one.
enum RoutePooling {
    /// The slot of an account: FNV-1a (32 bit) of its name modulo the pool size, 0 for a pool of one.
    /// nats-server computes it with its own configured size, so with pool 3 `$G` is slot 2 and `$SYS`
    /// slot 0 (nats-protocol.md §2.10).
    static func accountSlot(_ account: [UInt8], poolSize: Int) -> Int {
        slot(ofHash: account.withUnsafeBytes { accountHash(ByteSlice($0)) }, poolSize: poolSize)
    }

    static func slot(ofHash hash: UInt32, poolSize: Int) -> Int {
        poolSize > 1 ? Int(hash % UInt32(poolSize)) : 0
    }

    /// FNV-1a (32 bit) of an account name, byte by byte in place: a route looks accounts up by it per
    /// message (`AccountRegistry.account(named:)`).
    @inline(__always)
    static func accountHash(_ name: ByteSlice) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        var position = 0
        while position < name.count {
            hash ^= UInt32(name.start[position])
            hash = hash &* 16_777_619
            position &+= 1
        }
        return hash
    }

    enum Negotiation: Equatable {
        /// One connection to the peer, every account named on it.
        case noPool
        /// `size` connections (the larger configured size); `slot` is the one an accepted connection
        /// names in its INFO, nil on a connection we dialled (it takes the first free slot).
        case pooled(size: Int, slot: Int?)
        /// Refuse the connection with this -ERR text.
        case refuse(String)
    }

    /// How a connection whose handshake INFO says `remotePoolSize` / `remoteSlot` joins the peer's pool.
    ///
    /// - Parameters:
    ///   - localPoolSize: this server's pool size, nil without a pool.
    ///   - remotePoolSize: INFO `route_pool_size`, 0 when absent (a no-pool peer).
    ///   - remoteSlot: INFO `route_pool_idx`, 0 when absent.
    ///   - didSolicit: we dialled this connection. The accepting side never names a slot (its INFO goes
    ///     out before it knows one), so a slot in an acceptor's INFO is a protocol violation.
    /// - Returns: nats-server's decision and -ERR texts (`addRoute`): the slot named by a dialler must lie
    ///   within the larger pool; the error text names the dialler's own size.
    static func negotiate(localPoolSize: Int?, remotePoolSize: Int, remoteSlot: Int, didSolicit: Bool) -> Negotiation {
        guard let localPoolSize, remotePoolSize > 0 else { return .noPool }
        let size = max(localPoolSize, remotePoolSize)
        if didSolicit {
            if remoteSlot != 0 { return .refuse("Route pool index should not be set but is set to \(remoteSlot)") }
            return .pooled(size: size, slot: nil)
        }
        guard remoteSlot >= 0, remoteSlot < size else {
            return .refuse("Invalid route pool index: \(remoteSlot) - pool size is \(remotePoolSize)")
        }
        return .pooled(size: size, slot: remoteSlot)
    }

    /// The -ERR a server without that account answers a pinned-account route with (nats-server `addRoute`
    /// looks the account up first). natsd has no system account, so nats-server's pinned `$SYS` route
    /// gets this, as from a nats-server run with `no_sys_acc: true`.
    static func missingAccountError(_ account: String) -> String {
        "Unable to lookup account \"\(account)\": account missing"
    }
}
