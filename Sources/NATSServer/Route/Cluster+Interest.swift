import NATSProtocol

/// Local interest as routes see it: RS+ on a subject's first local subscription and RS- on its last;
/// for queue groups every change, carrying the member count as weight.
extension Cluster {
    func interestKey(_ subscription: Subscription) -> [UInt8] {
        guard let queue = subscription.queue else { return subscription.subject }
        return subscription.subject + [UInt8(ascii: " ")] + queue
    }

    func localInterestAdded(_ subscription: Subscription) {
        let key = interestKey(subscription)
        let count = (localInterest[key] ?? 0) + 1
        localInterest[key] = count
        if subscription.queue != nil || count == 1 {
            broadcast(FrameEncoder.routeSubscribe(account: Cluster.globalAccount, subject: subscription.subject,
                                                  queue: subscription.queue, weight: count))
        }
    }

    func localInterestRemoved(_ subscription: Subscription) {
        let key = interestKey(subscription)
        guard let current = localInterest[key] else { return }
        let count = current - 1
        if count <= 0 {
            localInterest.removeValue(forKey: key)
            broadcast(FrameEncoder.routeUnsubscribe(account: Cluster.globalAccount, subject: subscription.subject,
                                                    queue: subscription.queue))
        } else {
            localInterest[key] = count
            if subscription.queue != nil {
                broadcast(FrameEncoder.routeSubscribe(account: Cluster.globalAccount, subject: subscription.subject,
                                                      queue: subscription.queue, weight: count))
            }
        }
    }

    /// A new route gets all current local interest in one write.
    func sendAllLocalInterest(to route: RouteConnection) {
        var batch: [UInt8] = []
        for (key, count) in localInterest {
            if let space = key.firstIndex(of: UInt8(ascii: " ")) {
                batch += FrameEncoder.routeSubscribe(account: Cluster.globalAccount, subject: Array(key[..<space]),
                                                     queue: Array(key[(space + 1)...]), weight: count)
            } else {
                batch += FrameEncoder.routeSubscribe(account: Cluster.globalAccount, subject: key, queue: nil, weight: 1)
            }
        }
        if !batch.isEmpty { route.send(batch) }
    }

    private func broadcast(_ line: [UInt8]) {
        for route in routesByServerID.values { route.send(line) }
    }
}
