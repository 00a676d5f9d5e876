import NATSProtocol
import NATSSublist

extension Server {
    /// Routes one message published by a local client: every matching local plain subscriber, one
    /// member of every matching queue group cluster-wide, one RMSG per peer that has interest, and —
    /// if nobody received it — a no-responders status to the requester.
    func publish(from publisher: ClientConnection, subject: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) {
        let result = sublist.match(subject)
        var deliveries = 0
        var forwardCount = 0
        for subscription in result.plain {
            if let receiver = subscription.client {
                if receiver === publisher && !publisher.echo { continue }
                if deliver(to: subscription, receiver: receiver, subject: subject, reply: reply, headerSize: headerSize, payload: payload) {
                    deliveries &+= 1
                }
            } else if let route = subscription.route {
                forwardCount &+= markForward(route.forwardConnection(forPublisher: publisher.id))
            }
        }
        for group in result.queueGroups {
            guard let member = pickQueueMember(group, publisher: publisher) else { continue }
            if let receiver = member.client {
                if deliver(to: member, receiver: receiver, subject: subject, reply: reply, headerSize: headerSize, payload: payload) {
                    deliveries &+= 1
                }
            } else if let route = member.route, let queue = member.queueBytes {
                let target = route.forwardConnection(forPublisher: publisher.id)
                forwardCount &+= markForward(target)
                target.forwardQueues.append(queue.slice)
            }
        }
        if forwardCount > 0 {
            deliveries &+= forwardCount
            forwardToRoutes(subject: subject, reply: reply, headerSize: headerSize, payload: payload)
        }
        if deliveries == 0 && !reply.isEmpty && publisher.connectOptions.noResponders && publisher.supportsHeaders {
            sendNoResponders(to: publisher, reply: reply, subject: subject)
        }
    }

    /// Adds a route to this message's forward targets once; returns 1 when newly added.
    @inline(__always)
    private func markForward(_ route: RouteConnection) -> Int {
        if route.isForwardTarget || route.state != .registered { return 0 }
        route.isForwardTarget = true
        cluster.forwardTargets.append(route)
        return 1
    }

    /// One RMSG/HMSG per target route, naming the queue groups that route won.
    private func forwardToRoutes(subject: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) {
        for route in cluster.forwardTargets {
            route.forwardQueues.withUnsafeBufferPointer { queues in
                route.forward(subject: subject, reply: reply, queues: queues, headerSize: headerSize, payload: payload)
            }
            route.isForwardTarget = false
            route.forwardQueues.removeAll(keepingCapacity: true)
        }
        cluster.forwardTargets.removeAll(keepingCapacity: true)
    }

    /// Picks one member of a queue group, remote members weighted by their member count. The start is
    /// random; a member that cannot take the message is skipped.
    @inline(__always)
    func pickQueueMember(_ group: ContiguousArray<Subscription>, publisher: ClientConnection?) -> Subscription? {
        let count = group.count
        guard count > 0 else { return nil }
        var start = 0
        if count > 1 {
            var totalWeight = 0
            for member in group { totalWeight &+= member.weight }
            var ticket = random.next(below: totalWeight)
            while start < count - 1 && ticket >= group[start].weight {
                ticket &-= group[start].weight
                start &+= 1
            }
        }
        return firstMember(of: group, from: start) { member in
            if let receiver = member.client {
                return !receiver.isClosed && (receiver !== publisher || publisher?.echo == true)
            }
            return member.route?.state == .registered
        }
    }

    /// The first member, going round from `start`, that `accepts` takes.
    @inline(__always)
    func firstMember(of group: ContiguousArray<Subscription>, from start: Int,
                     where accepts: (Subscription) -> Bool) -> Subscription? {
        let count = group.count
        var offset = 0
        while offset < count {
            var index = start &+ offset
            if index >= count { index &-= count }
            if accepts(group[index]) { return group[index] }
            offset &+= 1
        }
        return nil
    }

    /// Delivers to one local subscription, honouring its auto-unsubscribe limit. False when skipped.
    @inline(__always)
    func deliver(to subscription: Subscription, receiver: ClientConnection, subject: ByteSlice, reply: ByteSlice,
                 headerSize: Int, payload: ByteSlice) -> Bool {
        if receiver.isClosed { return false }
        // Every delivery is counted: a later `UNSUB sid max` compares max with it.
        subscription.delivered &+= 1
        let limit = subscription.maxMessages
        if limit > 0 && subscription.delivered > limit { return false }
        receiver.deliver(subject: subject, sid: subscription.sid.slice, reply: reply, headerSize: headerSize, payload: payload)
        if limit > 0 && subscription.delivered == limit { receiver.removeSubscription(subscription) }
        statistics.outMessages &+= 1
        statistics.outBytes &+= payload.count
        return true
    }

    /// The `NATS/1.0 503` status a requester with no_responders gets on its own reply subscription.
    /// Only a plain subscription counts: a requester whose only subscription on the reply subject is a
    /// queue subscription gets nothing, as from nats-server (its `subForReply` looks at plain ones only).
    func sendNoResponders(to publisher: ClientConnection, reply: ByteSlice, subject: ByteSlice) {
        let result = sublist.matchUncached(reply)
        guard let subscription = result.plain.first(where: { $0.client === publisher }) else { return }
        let frame = FrameEncoder.noRespondersMessage(subject: reply, sid: subscription.sid.slice, originalSubject: subject)
        publisher.send(frame)
    }
}
