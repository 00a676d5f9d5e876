import NATSProtocol

/// Local interest as routes see it (the counts are the `InterestIndex`'s). Each peer hears it on one
/// connection (`RoutePeer.interestSlot(forClient:)`); a connection that joins a pool later gets the
/// interest of its slot when it registers.
extension Cluster {
    var interest: InterestIndex { server.interest }

    func localInterestAdded(_ subscription: Subscription) {
        if let change = interest.localAdded(subject: subscription.subject, queue: subscription.queue,
                                            owner: subscription.clientID) {
            announce(change)
        }
    }

    func localInterestRemoved(_ subscription: Subscription) {
        if let change = interest.localRemoved(subject: subscription.subject, queue: subscription.queue) { announce(change) }
    }

    /// A newly registered connection gets, in one write, all current local interest its slot carries.
    func sendAllLocalInterest(to route: RouteConnection) {
        guard let peer = route.peer else { return }
        let slot = route.poolSlot ?? 0
        var batch: [UInt8] = []
        interest.forEachLocal { change in
            if peer.interestSlot(forClient: change.owner) == slot { batch += change.line(account: interest.account) }
        }
        if !batch.isEmpty { route.send(batch) }
    }

    /// Sends an RS+/RS- to every peer on the connection of its slot; a peer whose connection for that slot
    /// is down hears the current state when it comes back (`sendAllLocalInterest`).
    private func announce(_ change: InterestChange) {
        let line = change.line(account: interest.account)
        for peer in peers.values {
            peer.pool[peer.interestSlot(forClient: change.owner)]?.send(line)
        }
    }
}
