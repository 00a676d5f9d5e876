import NATSProtocol

/// One registered route connection a loop serves: its peer (`RouteConnection.peerKey`), its pool slot,
/// the connection unretained (the cluster holds it; the loop drops the entry when it closes).
package struct HostedRoute {
    /// `HostedRoute.key(peer:slot:)`: one compare per entry when looking up.
    let key: UInt64
    package let route: Unmanaged<RouteConnection>

    /// Peer and slot in one word: peer keys are route ids (far below 2⁴⁸), slots below 2¹⁶ (pools
    /// are at most 256 connections).
    @inline(__always)
    static func key(peer peerKey: UInt64, slot: Int) -> UInt64 {
        peerKey << 16 | UInt64(truncatingIfNeeded: slot) & 0xFFFF
    }
}

extension LoopWorker {
    /// The connection of pool slot `slot` to peer `peerKey`, when this loop serves it. A linear scan:
    /// a loop serves a handful of route connections; no hashing, no reference counting.
    @inline(__always)
    func hostedRoute(peer peerKey: UInt64, slot: Int) -> Unmanaged<RouteConnection>? {
        let key = HostedRoute.key(peer: peerKey, slot: slot)
        return hostedRoutes.withUnsafeBufferPointer { hosted in
            var position = 0
            while position < hosted.count {
                if hosted[position].key == key { return hosted[position].route }
                position &+= 1
            }
            return nil
        }
    }

    /// A route connection started being served here (registered, moved to this loop).
    func hostRoute(_ route: RouteConnection) {
        assertOnLoop()
        hostedRoutes.append(HostedRoute(key: HostedRoute.key(peer: route.peerKey, slot: route.poolSlot ?? 0),
                                        route: .passUnretained(route)))
    }

    /// A route connection served here closed.
    func unhostRoute(_ route: RouteConnection) {
        assertOnLoop()
        hostedRoutes.removeAll { $0.route.toOpaque() == Unmanaged.passUnretained(route).toOpaque() }
    }
}
