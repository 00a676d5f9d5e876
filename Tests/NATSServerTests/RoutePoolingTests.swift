import Testing
@testable import NATSServer

/// nats-server's pool rules: the account slot and the negotiation of a connection's place in a pool
/// (nats-protocol.md §2.7 and §2.10, nats-server route.go `computeRoutePoolIdx` and `addRoute`).
@Suite struct RoutePoolingTests {
    @Test func accountSlotsAreNatsServers() {
        // FNV-1a-32: "$G" = 2059166108, "$SYS" = 47606520 (nats-protocol.md §2.10).
        #expect(RoutePooling.accountSlot(Array("$G".utf8), poolSize: 3) == 2)
        #expect(RoutePooling.accountSlot(Array("$SYS".utf8), poolSize: 3) == 0)
        #expect(RoutePooling.accountSlot(Array("ACC".utf8), poolSize: 3) == 1)
        #expect(RoutePooling.accountSlot(Array("$G".utf8), poolSize: 5) == 2_059_166_108 % 5)
        #expect(RoutePooling.accountSlot(Array("$G".utf8), poolSize: 7) == 2_059_166_108 % 7)
        for size in [-1, 0, 1] { #expect(RoutePooling.accountSlot(Array("$G".utf8), poolSize: size) == 0) }
    }

    @Test func eitherSideWithoutAPoolMakesTheNoPoolDialect() {
        #expect(RoutePooling.negotiate(localPoolSize: nil, remotePoolSize: 3, remoteSlot: 0, didSolicit: true) == .noPool)
        #expect(RoutePooling.negotiate(localPoolSize: 3, remotePoolSize: 0, remoteSlot: 0, didSolicit: false) == .noPool)
        // A no-pool peer's stray slot is not looked at.
        #expect(RoutePooling.negotiate(localPoolSize: 3, remotePoolSize: 0, remoteSlot: 9, didSolicit: false) == .noPool)
    }

    @Test func theLargerPoolWins() {
        #expect(RoutePooling.negotiate(localPoolSize: 1, remotePoolSize: 3, remoteSlot: 0, didSolicit: true) == .pooled(size: 3, slot: nil))
        #expect(RoutePooling.negotiate(localPoolSize: 5, remotePoolSize: 3, remoteSlot: 4, didSolicit: false) == .pooled(size: 5, slot: 4))
        #expect(RoutePooling.negotiate(localPoolSize: 3, remotePoolSize: 3, remoteSlot: 2, didSolicit: false) == .pooled(size: 3, slot: 2))
    }

    @Test func slotsOutsideThePoolAreRefusedWithNatsServersTexts() {
        #expect(RoutePooling.negotiate(localPoolSize: 3, remotePoolSize: 3, remoteSlot: 7, didSolicit: false)
            == .refuse("Invalid route pool index: 7 - pool size is 3"))
        #expect(RoutePooling.negotiate(localPoolSize: 3, remotePoolSize: 2, remoteSlot: -1, didSolicit: false)
            == .refuse("Invalid route pool index: -1 - pool size is 2"))
        // The acceptor's INFO never names a slot.
        #expect(RoutePooling.negotiate(localPoolSize: 3, remotePoolSize: 3, remoteSlot: 1, didSolicit: true)
            == .refuse("Route pool index should not be set but is set to 1"))
    }
}

/// The slot table of one peer: placement, removal, and the O(1) choice of a publisher's connection.
@Suite struct RoutePoolTests {
    final class Member {}

    @Test func dialledConnectionsTakeTheFirstFreeSlot() {
        var pool = RoutePool<Member>(size: 3)
        #expect(pool.firstFreeSlot() == 0 && pool.isEmpty && !pool.isFull && pool.primary == nil)
        let a = Member(), b = Member(), c = Member()
        pool.place(a, at: 1)
        #expect(pool.firstFreeSlot() == 0 && pool.primary === a)
        pool.place(b, at: 0)
        #expect(pool.firstFreeSlot() == 2 && pool.primary === b)
        pool.place(c, at: 2)
        #expect(pool.isFull && pool.firstFreeSlot() == nil && pool.count == 3)
    }

    @Test func replacingAndRemovingKeepCountAndPrimary() {
        var pool = RoutePool<Member>(size: 2)
        let a = Member(), winner = Member(), b = Member()
        pool.place(a, at: 0)
        pool.place(b, at: 1)
        #expect(pool.place(winner, at: 0) === a)
        #expect(pool.count == 2 && pool.primary === winner)
        // The displaced member is no longer in the pool: removing it changes nothing.
        #expect(pool.remove(a) == nil && pool.count == 2)
        #expect(pool.remove(winner) == 0 && pool.primary === b && pool.count == 1)
        #expect(pool.remove(b) == 1 && pool.isEmpty && pool.primary == nil)
    }

    @Test func growsButNeverShrinks() {
        var pool = RoutePool<Member>(size: 1)
        pool.grow(to: 3)
        #expect(pool.size == 3)
        pool.grow(to: 2)
        #expect(pool.size == 3)
        #expect(RoutePool<Member>(size: 0).size == 1)
    }
}
