import NATSProtocol

/// One `subject` or `subject queue` local clients are interested in, as routes are told about it.
struct LocalInterest {
    /// Local subscriptions on the key.
    var count: Int
    /// The client whose subscription created the interest: towards a natsd peer with a pool, every RS+/RS-
    /// of the key travels on this client's slot, so the peer sees them in order (see RoutePeer).
    let owner: UInt64
}

/// Local interest as routes see it: RS+ on a subject's first local subscription and RS- on its last;
/// for queue groups every change, carrying the member count as weight. Each peer hears it on one
/// connection (`RoutePeer.interestSlot(forClient:)`); a connection that joins a pool later gets the
/// interest of its slot when it registers.
extension Cluster {
    func interestKey(_ subscription: Subscription) -> [UInt8] {
        guard let queue = subscription.queue else { return subscription.subject }
        return subscription.subject + [UInt8(ascii: " ")] + queue
    }

    func localInterestAdded(_ subscription: Subscription) {
        let key = interestKey(subscription)
        var interest = localInterest[key] ?? LocalInterest(count: 0, owner: subscription.clientID)
        interest.count += 1
        localInterest[key] = interest
        if subscription.queue != nil || interest.count == 1 {
            announce(FrameEncoder.routeSubscribe(account: Cluster.globalAccount, subject: subscription.subject,
                                                 queue: subscription.queue, weight: interest.count), owner: interest.owner)
        }
    }

    func localInterestRemoved(_ subscription: Subscription) {
        let key = interestKey(subscription)
        guard var interest = localInterest[key] else { return }
        interest.count -= 1
        if interest.count <= 0 {
            localInterest.removeValue(forKey: key)
            announce(FrameEncoder.routeUnsubscribe(account: Cluster.globalAccount, subject: subscription.subject,
                                                   queue: subscription.queue), owner: interest.owner)
        } else {
            localInterest[key] = interest
            if subscription.queue != nil {
                announce(FrameEncoder.routeSubscribe(account: Cluster.globalAccount, subject: subscription.subject,
                                                     queue: subscription.queue, weight: interest.count), owner: interest.owner)
            }
        }
    }

    /// A newly registered connection gets, in one write, all current local interest its slot carries.
    func sendAllLocalInterest(to route: RouteConnection) {
        guard let peer = route.peer else { return }
        let slot = route.poolSlot ?? 0
        var batch: [UInt8] = []
        for (key, interest) in localInterest where peer.interestSlot(forClient: interest.owner) == slot {
            if let space = key.firstIndex(of: UInt8(ascii: " ")) {
                batch += FrameEncoder.routeSubscribe(account: Cluster.globalAccount, subject: Array(key[..<space]),
                                                     queue: Array(key[(space + 1)...]), weight: interest.count)
            } else {
                batch += FrameEncoder.routeSubscribe(account: Cluster.globalAccount, subject: key, queue: nil, weight: 1)
            }
        }
        if !batch.isEmpty { route.send(batch) }
    }

    /// Sends an RS+/RS- to every peer on the connection of its slot; a peer whose connection for that slot
    /// is down hears the current state when it comes back (`sendAllLocalInterest`).
    private func announce(_ line: [UInt8], owner: UInt64) {
        for peer in peers.values {
            peer.pool[peer.interestSlot(forClient: owner)]?.send(line)
        }
    }
}
