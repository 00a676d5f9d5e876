import NATSProtocol
import NATSSublist

extension LoopWorker {
    /// Routes one message published by a local client: every matching local plain subscriber, one
    /// member of every matching queue group cluster-wide, one RMSG per peer that has interest, the
    /// service imports the subject triggers, and — if nobody received it — a no-responders status to the
    /// requester. Receivers served by another loop get the message through that loop's handoff batch
    /// (`HandoffBatch`).
    func publish(from publisher: ClientConnection, subject: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) {
        let result = publisher.matcher.match(subject)
        var deliveries = deliverPublished(result, publisher: publisher, publisherID: publisher.id, subject: subject, reply: reply,
                                          headerSize: headerSize, payload: payload)
        if pendingServiceCalls != 0 { deliveries &+= runServiceCalls() }
        if deliveries == 0 && !reply.isEmpty && publisher.connectOptions.noResponders && publisher.supportsHeaders {
            sendNoResponders(to: publisher, reply: reply, subject: subject)
        }
    }

    /// A message published into `account` by a service or stream import rather than by a client of it
    /// (nats-server's `processServiceImport`): delivered and forwarded as a client's would be, with no
    /// publisher to skip. Returns the deliveries. `publisherID` keeps the original client's pool slot.
    func publishImported(in account: Account, publisherID: UInt64, subject: ByteSlice, reply: ByteSlice, headerSize: Int,
                         payload: ByteSlice) -> Int {
        let result = account.matcher(onLoop: index).match(subject)
        return deliverPublished(result, publisher: nil, publisherID: publisherID, subject: subject, reply: reply,
                                headerSize: headerSize, payload: payload)
    }

    /// Delivers one published message to what `result` matched; returns the deliveries (local receivers,
    /// peers forwarded to, service imports triggered).
    @inline(__always)
    private func deliverPublished(_ result: SublistResult<Subscription>, publisher: ClientConnection?, publisherID: UInt64,
                                  subject: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) -> Int {
        publishSerial &+= 1
        var deliveries = 0
        var forwardCount = 0
        result.plain.forEachBorrowed { subscription in
            if let receiver = subscription.clientReference {
                if subscription.loopIndex != index {
                    handOff(subscription, subject: subject, reply: reply, headerSize: headerSize, payload: payload)
                    deliveries &+= 1
                    return
                }
                receiver._withUnsafeGuaranteedRef { receiver in
                    if let publisher, receiver === publisher && !publisher.echo { return }
                    if deliver(to: subscription, receiver: receiver, subject: subject, reply: reply, headerSize: headerSize,
                               payload: payload) {
                        deliveries &+= 1
                    }
                }
            } else if subscription.routeReference != nil {
                forwardCount &+= subscription.filtersExport
                    ? markForwardIfExported(subscription, subject: subject) : markForward(subscription, queue: nil)
            } else {
                deliveries &+= queueServiceCall(subscription, publisherID: publisherID, subject: subject, reply: reply,
                                                headerSize: headerSize, payload: payload)
            }
        }
        if !result.queueGroups.isEmpty {
            for group in result.queueGroups {
                guard let member = pickQueueMember(group, publisher: publisher, subject: subject) else { continue }
                if let receiver = member.clientReference {
                    if member.loopIndex != index {
                        handOff(member, pickHops: 1, subject: subject, reply: reply, headerSize: headerSize, payload: payload)
                        deliveries &+= 1
                    } else if receiver._withUnsafeGuaranteedRef({ receiver in
                        deliver(to: member, receiver: receiver, subject: subject, reply: reply, headerSize: headerSize,
                                payload: payload)
                    }) {
                        deliveries &+= 1
                    }
                } else if let queue = member.queueBytes {
                    forwardCount &+= markForward(member, queue: queue.slice)
                }
            }
        }
        if forwardCount > 0 {
            deliveries &+= forwardCount
            forwardToRoutes(publisher: publisherID, subject: subject, reply: reply, headerSize: headerSize, payload: payload)
        }
        return deliveries
    }

    /// `markForward` for remote interest that export-denied subjects match (`cluster.permissions`): only
    /// when `subject` may be exported. Out of line, so the common path carries none of it.
    @inline(never)
    private func markForwardIfExported(_ subscription: Subscription, subject: ByteSlice) -> Int {
        exportDenies(subject) ? 0 : markForward(subscription, queue: nil)
    }

    /// Adds the peer behind a remote subscription to this message's forward targets once (with the
    /// queue group it won, if any); returns 1 when the peer is newly added. Peers are told apart by
    /// `peerKey`, so a route served by another loop is never touched here, and a peer whose interest came
    /// over several pool connections still gets the message once. The subscription is held unretained:
    /// the match result keeps it alive until the message is forwarded.
    /// Remote interest is in the index only while its route is registered (added on RS+ of a registered
    /// route, removed first thing when it closes), so the route itself is not looked at here; a route that
    /// closed during this very publish is skipped when the message is written (`forward(to:)`).
    @inline(__always)
    private func markForward(_ subscription: Subscription, queue: ByteSlice?) -> Int {
        let peerKey = subscription.peerKey
        var target = 0
        while target < forwardTargets.count && forwardTargets[target]._withUnsafeGuaranteedRef({ $0.peerKey }) != peerKey {
            target &+= 1
        }
        let isNew = target == forwardTargets.count
        if isNew { forwardTargets.append(Unmanaged.passUnretained(subscription)) }
        if let queue { forwardQueues.append((target, queue)) }
        return isNew ? 1 : 0
    }

    /// One RMSG/HMSG per target peer, naming the queue groups that peer won, on the pool connection that
    /// carries `publisher`'s messages (`forward(to:)`); routes served by another loop get it through that
    /// loop's handoff batch.
    private func forwardToRoutes(publisher: UInt64, subject: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) {
        if forwardQueues.count == 0 {
            // Most messages win no queue group.
            var target = 0
            while target < forwardTargets.count {
                forward(to: forwardTargets[target], queues: UnsafeBufferPointer(start: nil, count: 0), publisher: publisher,
                        subject: subject, reply: reply, headerSize: headerSize, payload: payload)
                target &+= 1
            }
        } else {
            var target = 0
            while target < forwardTargets.count {
                forwardQueueNames.count = 0
                for entry in forwardQueues.elements where entry.target == target { forwardQueueNames.append(entry.queue) }
                forward(to: forwardTargets[target], queues: forwardQueueNames.elements, publisher: publisher,
                        subject: subject, reply: reply, headerSize: headerSize, payload: payload)
                target &+= 1
            }
            forwardQueues.count = 0
        }
        forwardTargets.count = 0
    }

    /// One RMSG/HMSG to the peer behind `subscription`: towards a natsd peer with several pool slots on
    /// `publisher`'s slot (`RouteSlots`: usually a connection this loop serves), else on the route the
    /// interest came from; handed to the loop serving that connection when it is not this one.
    @inline(__always)
    private func forward(to subscription: Unmanaged<Subscription>, queues: UnsafeBufferPointer<ByteSlice>, publisher: UInt64,
                         subject: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) {
        subscription._withUnsafeGuaranteedRef { subscription in
            if subscription.spreadsByClient {
                let slot = RouteSlots.slot(forClient: publisher, onLoop: index, poolSize: subscription.poolSize,
                                           offset: subscription.peerOffset, loops: loopCount)
                let serving = RouteSlots.loop(ofSlot: slot, offset: subscription.peerOffset, loops: loopCount)
                if serving != index {
                    handOffToPeer(subscription, to: serving, mode: 0, queues: queues, publisher: publisher, subject: subject,
                                  reply: reply, headerSize: headerSize, payload: payload)
                    return
                }
                if let route = hostedRoute(peer: subscription.peerKey, slot: slot) {
                    route._withUnsafeGuaranteedRef {
                        $0.forward(account: subscription.account.nameBytes.slice, subject: subject, reply: reply, queues: queues, headerSize: headerSize, payload: payload)
                    }
                    return
                }
            }
            forwardOnInterestRoute(subscription, queues: queues, publisher: publisher, subject: subject, reply: reply,
                                   headerSize: headerSize, payload: payload)
        }
    }

    /// One RMSG/HMSG on the route `subscription`'s interest came from (a nats-server peer's account slot,
    /// a no-pool peer, or a natsd peer whose connection for the publisher's slot is down), on its loop.
    /// Out of line: inlined into the forwarding loop, its frame set-up would be hoisted ahead of every
    /// forward on a pool slot too.
    @inline(never)
    func forwardOnInterestRoute(_ subscription: Subscription, queues: UnsafeBufferPointer<ByteSlice>, publisher: UInt64,
                                subject: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) {
        if subscription.loopIndex == index {
            guard !subscription.isRemoved, let route = subscription.routeReference else { return }
            route._withUnsafeGuaranteedRef { route in
                guard route.state == .registered else { return }
                route.forward(account: subscription.account.nameBytes.slice, subject: subject, reply: reply, queues: queues, headerSize: headerSize, payload: payload)
            }
        } else {
            handOffToPeer(subscription, to: subscription.loopIndex, mode: LoopWorker.interestRouteTarget, queues: queues,
                          publisher: publisher, subject: subject, reply: reply, headerSize: headerSize, payload: payload)
        }
    }

    /// `handOff` for remote interest, kept out of line: inlined, its set-up (record sizes) would be
    /// computed ahead of every direct forward too.
    @inline(never)
    private func handOffToPeer(_ subscription: Subscription, to destination: Int, mode: Int, queues: UnsafeBufferPointer<ByteSlice>,
                               publisher: UInt64, subject: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) {
        handOff(subscription, to: destination, queues: queues, publisher: publisher, pickHops: mode, subject: subject,
                reply: reply, headerSize: headerSize, payload: payload)
    }

    /// Picks one member of a queue group, remote members weighted by their member count. The start is
    /// random; a member that cannot take the message (closed, the publisher without echo, or one whose
    /// deny list refuses the subject) is skipped, as nats-server tries the next member. Members served by another loop are
    /// taken as they are (their loop drops the message if the member is gone by then).
    @inline(__always)
    func pickQueueMember(_ group: ContiguousArray<Subscription>, publisher: ClientConnection?, subject: ByteSlice) -> Subscription? {
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
            if member.filtersExport && exportDenies(subject) { return false }
            if member.importRole != nil && !shadowAccepts(member, subject: subject) { return false }
            if member.loopIndex != index { return true }
            if let receiver = member.client {
                return !receiver.isClosed && (receiver !== publisher || publisher?.echo == true)
                    && !(receiver.filtersDeliveries && receiver.deniesDelivery(of: subject, to: member))
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

    /// Delivers to one subscription of this loop, honouring its auto-unsubscribe limit. False when skipped.
    @inline(__always)
    func deliver(to subscription: Subscription, receiver: ClientConnection, subject: ByteSlice, reply: ByteSlice,
                 headerSize: Int, payload: ByteSlice) -> Bool {
        if receiver.isClosed { return false }
        // A stream import's shadow: the message goes out under the imported subject (LoopWorker+Imports).
        if subscription.importRole != nil {
            return deliverImported(to: subscription, receiver: receiver, subject: subject, reply: reply, headerSize: headerSize,
                                   payload: payload)
        }
        return deliverCounted(to: subscription, receiver: receiver, subject: subject, reply: reply, headerSize: headerSize,
                              payload: payload)
    }

    /// Delivers `subject` (as the receiver sees it) for `subscription`, a client's own: its subscribe deny
    /// list, then its auto-unsubscribe limit. False when skipped.
    @inline(__always)
    func deliverCounted(to subscription: Subscription, receiver: ClientConnection, subject: ByteSlice, reply: ByteSlice,
                        headerSize: Int, payload: ByteSlice) -> Bool {
        // Subscribe deny list of the receiver (issue 8, ClientConnection+Permissions.swift).
        if receiver.filtersDeliveries && receiver.deniesDelivery(of: subject, to: subscription) { return false }
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
        let result = publisher.matcher.matchUncached(reply)
        // Compared by address: a subscription of another loop's client is never touched (it may be gone).
        let publisherAddress = Unmanaged.passUnretained(publisher).toOpaque()
        guard let subscription = result.plain.first(where: { $0.clientReference?.toOpaque() == publisherAddress }) else {
            return
        }
        let frame = FrameEncoder.noRespondersMessage(subject: reply, sid: subscription.sid.slice, originalSubject: subject)
        publisher.send(frame)
    }
}
