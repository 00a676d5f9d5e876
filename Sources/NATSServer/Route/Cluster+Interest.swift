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

/// A live route connection as interest announcements see it.
struct LiveRoute {
    let route: RouteConnection
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
/// is queued under it too (written at once to a connection of the calling loop, else posted to the loop
/// serving it). So each connection gets a key's changes in the order they were counted, and a client's
/// RS+ is queued before anything it publishes afterwards (its messages take the same connection, directly
/// or through the same inbox, behind it).
extension Cluster {
    /// A local subscription was added on `worker`'s loop (in the subscription's account).
    func localInterestAdded(_ subscription: Subscription, on worker: LoopWorker) {
        let account = subscription.account
        interestLock.withLock {
            if let change = account.interest.localAdded(subject: subscription.subject, queue: subscription.queue,
                                                        owner: subscription.clientID, ownerLoop: subscription.loopIndex) {
                announce(change, in: account, from: worker)
            }
        }
    }

    /// A local subscription was removed on `worker`'s loop.
    func localInterestRemoved(_ subscription: Subscription, on worker: LoopWorker) {
        let account = subscription.account
        interestLock.withLock {
            if let change = account.interest.localRemoved(subject: subscription.subject, queue: subscription.queue) {
                announce(change, in: account, from: worker)
            }
        }
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
            for account in server.accounts.all {
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

    /// Queues an RS+/RS- on every live connection that carries its owner's interest (under `interestLock`).
    private func announce(_ change: InterestChange, in account: Account, from worker: LoopWorker) {
        guard announces(change.subject) else { return }
        let line = change.line(account: account.interest.account)
        let loops = worker.loopCount
        for live in liveRoutes where live.carriesInterest(of: change.owner, onLoop: change.ownerLoop, in: account, loops: loops) {
            if live.loop == worker.index {
                live.route.send(line)
            } else {
                let route = live.route
                server.workers[live.loop].post { route.send(line) }
            }
        }
    }
}
