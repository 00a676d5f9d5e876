import NATSProtocol
import UVLoop

/// Which pool slot of a peer hears the interest a local client creates (set when a connection is placed).
enum RouteInterestRule: Equatable {
    /// The no-pool dialect: the one connection.
    case single
    /// A natsd peer with several slots: the client's own slot (`RouteSlots`).
    case byClient
    /// A nats-server peer: every interest of an account on the account's slot (`Account.slot`).
    case account(poolSize: Int)
}

/// RS+/RS- lines counted for one live connection and not yet written, in counting order (under the
/// cluster's `interestLock`). Why a queue: lines from other loops travel through the serving loop's inbox
/// while the serving loop's own changes are written at once; written straight, a newer RS+ could pass an
/// older RS- still in the inbox and the peer would end without interest it should have. Whoever writes
/// takes the whole queue, so the peer sees the counting order whichever loop gets there first.
final class PendingInterest {
    var lines: [UInt8] = []
}

/// A live route connection as interest announcements see it.
struct LiveRoute {
    let route: RouteConnection
    /// Lines waiting for the serving loop (`interestLock`).
    let pending = PendingInterest()
    /// The loop serving it.
    let loop: Int
    let slot: Int
    let rule: RouteInterestRule
    let poolSize: Int
    let peerOffset: Int

    /// Whether a client of loop `ownerLoop` with id `owner` announces its interest in `account` on this
    /// connection.
    func carriesInterest(of owner: UInt64, onLoop ownerLoop: Int, in account: Account, loops: Int) -> Bool {
        switch rule {
        case .single: return true
        case .account(let poolSize): return slot == account.slot(poolSize: poolSize)
        case .byClient:
            return slot == RouteSlots.slot(forClient: owner, onLoop: ownerLoop, poolSize: poolSize, offset: peerOffset, loops: loops)
        }
    }
}

/// Local interest as routes see it (the counts are the `InterestIndex`'s), announced by the loop where it
/// changes. Each peer hears a client's interest on one connection (`RouteInterestRule`); a connection that
/// goes live later gets the current interest of its slot then.
///
/// Order: the counts and the list of live connections change only under `interestLock`, and every RS+/RS-
/// is appended under it to the connection's `PendingInterest`; the queue is written whole, at once when
/// the calling loop serves the connection, else by a write posted to the loop serving it. So each
/// connection gets a key's changes in the order they were counted, and a client's RS+ is written before
/// anything it publishes afterwards (its messages take the same connection, directly or through the same
/// inbox, behind it).
extension Cluster {
    /// A local subscription was added on `worker`'s loop (in the subscription's account).
    func localInterestAdded(_ subscription: Subscription, on worker: LoopWorker) {
        let account = subscription.account
        let writes = interestLock.withLock {
            account.interest.localAdded(subject: subscription.subject, queue: subscription.queue,
                                        owner: subscription.clientID, ownerLoop: subscription.loopIndex)
                .map { announce($0, in: account, from: worker) } ?? []
        }
        post(writes)
    }

    /// A local subscription was removed on `worker`'s loop.
    func localInterestRemoved(_ subscription: Subscription, on worker: LoopWorker) {
        let account = subscription.account
        let writes = interestLock.withLock {
            account.interest.localRemoved(subject: subscription.subject, queue: subscription.queue)
                .map { announce($0, in: account, from: worker) } ?? []
        }
        post(writes)
    }

    /// A registered connection is live on `worker`'s loop: it gets, in one write, all current local interest
    /// its slot carries, and every later change.
    func routeWentLive(_ route: RouteConnection, on worker: LoopWorker) {
        let live = LiveRoute(route: route, loop: worker.index, slot: route.poolSlot ?? 0, rule: route.interestRule,
                             poolSize: route.poolSize, peerOffset: route.peerOffset)
        let loops = worker.loopCount
        interestLock.withLock {
            liveRoutes.append(live)
            var batch: [UInt8] = []
            for account in interestAccounts {
                account.interest.forEachLocal { change in
                    if announces(change.subject)
                        && live.carriesInterest(of: change.owner, onLoop: change.ownerLoop, in: account, loops: loops) {
                        batch += change.line(account: account.interest.account)
                    }
                }
            }
            if !batch.isEmpty { route.send(batch) }
        }
    }

    /// A live connection closed (on its serving loop).
    func routeWentDown(_ route: RouteConnection) {
        interestLock.withLock { liveRoutes.removeAll { $0.route === route } }
    }

    /// A write of a connection's pending lines, to post to its serving loop once `interestLock` is released
    /// (a post may run at once on that loop's own thread, and the write takes the lock).
    struct PendingWrite {
        let loop: Int
        let pending: PendingInterest
        let route: RouteConnection
    }

    /// Queues an RS+/RS- on every live connection that carries its owner's interest (under `interestLock`):
    /// written at once on the calling loop's connections; for the others, the writes to post.
    private func announce(_ change: InterestChange, in account: Account, from worker: LoopWorker) -> [PendingWrite] {
        guard announces(change.subject) else { return [] }
        let line = change.line(account: account.interest.account)
        let loops = worker.loopCount
        var writes: [PendingWrite] = []
        for live in liveRoutes where live.carriesInterest(of: change.owner, onLoop: change.ownerLoop, in: account, loops: loops) {
            if let write = enqueue(line, on: live, fromLoop: worker.index) { writes.append(write) }
        }
        return writes
    }

    /// Queues `lines` on a live connection (under `interestLock`): written at once when the calling loop
    /// (`loop`) serves it; otherwise the write to post, if the queue was empty (one write per non-empty
    /// queue: later lines join it until it runs).
    func enqueue(_ lines: [UInt8], on live: LiveRoute, fromLoop loop: Int) -> PendingWrite? {
        let wasEmpty = live.pending.lines.isEmpty
        live.pending.lines += lines
        if live.loop == loop {
            writePending(live.pending, to: live.route)
            return nil
        }
        return wasEmpty ? PendingWrite(loop: live.loop, pending: live.pending, route: live.route) : nil
    }

    /// Posts each write to its connection's serving loop (not under `interestLock`).
    func post(_ writes: [PendingWrite]) {
        for write in writes {
            server.workers[write.loop].post { [self] in
                interestLock.withLock { writePending(write.pending, to: write.route) }
            }
        }
    }

    /// Writes and empties `pending` on its connection's serving loop (under `interestLock`).
    private func writePending(_ pending: PendingInterest, to route: RouteConnection) {
        guard !pending.lines.isEmpty else { return }
        route.send(pending.lines)
        pending.lines.removeAll(keepingCapacity: false)
    }
}
