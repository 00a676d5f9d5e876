import NATSProtocol
import NATSSublist

extension LoopWorker {
    /// A message that arrived over a route: delivered to local clients only (one hop). Queue groups
    /// get it only when the sender named them, and then one local member each. `matcher` is this loop's
    /// matcher of the account the message names.
    func deliverRouted(_ message: RoutedMessage, matcher: SublistMatcher<Subscription>) {
        let result = matcher.match(message.subject)
        publishSerial &+= 1
        result.plain.forEachBorrowed { subscription in
            guard let receiver = subscription.clientReference else {
                // Responses for a service this node imported come back here; a service import's own
                // subscription is never triggered from a route (the publishing node ran it).
                if subscription.importRole?.responses != nil {
                    _ = queueServiceCall(subscription, publisherID: 0, subject: message.subject, reply: message.reply,
                                         headerSize: message.headerSize, payload: message.payload)
                }
                return
            }
            if subscription.loopIndex != index {
                handOff(subscription, subject: message.subject, reply: message.reply, headerSize: message.headerSize,
                        payload: message.payload)
                return
            }
            receiver._withUnsafeGuaranteedRef { receiver in
                _ = deliver(to: subscription, receiver: receiver, subject: message.subject, reply: message.reply,
                            headerSize: message.headerSize, payload: message.payload)
            }
        }
        if pendingServiceCalls != 0 { _ = runServiceCalls() }
        guard !message.queues.isEmpty else { return }
        for group in result.queueGroups {
            guard let queue = group.first?.queueBytes, message.queues.contains(where: { $0.elementsEqual(queue.slice) }) else {
                continue
            }
            guard let member = pickLocalQueueMember(group, subject: message.subject), let receiver = member.clientReference else { continue }
            if member.loopIndex != index {
                handOff(member, pickHops: 1, subject: message.subject, reply: message.reply, headerSize: message.headerSize,
                        payload: message.payload)
            } else {
                receiver._withUnsafeGuaranteedRef { receiver in
                    _ = deliver(to: member, receiver: receiver, subject: message.subject, reply: message.reply,
                                headerSize: message.headerSize, payload: message.payload)
                }
            }
        }
    }

    /// A local member of a queue group, uniformly at random among those that can take the message
    /// (remote members never take a routed message). The group also holds one entry per route with
    /// members of that group; a random start that goes on to the next local member would give the
    /// member listed after each route entry a double share (issue 6 point 6). A member served by another
    /// loop is never touched here (its client may be closing there, or gone): it counts as eligible,
    /// and its loop picks again if it has gone (`pickAgain`).
    @inline(__always)
    func pickLocalQueueMember(_ group: ContiguousArray<Subscription>, subject: ByteSlice) -> Subscription? {
        let picked = random.uniformIndex(count: group.count) { candidate in
            let member = group[candidate]
            guard let receiver = member.clientReference else { return false }
            if member.importRole != nil && !shadowAccepts(member, subject: subject) { return false }
            if member.loopIndex != index { return true }
            return receiver._withUnsafeGuaranteedRef {
                !$0.isClosed && !($0.filtersDeliveries && $0.deniesDelivery(of: subject, to: member))
            }
        }
        return picked.map { group[$0] }
    }
}

extension FastRandom {
    /// Draws tried before counting: a group rarely has more route entries than local members, so
    /// one or two draws almost always land on an eligible index.
    static let uniformIndexDraws = 4

    /// An index in `0..<count` drawn uniformly among those `eligible` accepts; nil when none does.
    ///
    /// Draws a random index until one is eligible (expected draws: count / eligible ones); after
    /// `uniformIndexDraws` misses it counts the eligible indexes and takes a random one of them. Each
    /// way yields every eligible index with the same probability, so the mix of the two does too.
    @inline(__always)
    mutating func uniformIndex(count: Int, where eligible: (Int) -> Bool) -> Int? {
        guard count > 0 else { return nil }
        if count == 1 { return eligible(0) ? 0 : nil }
        var draws = 0
        while draws < FastRandom.uniformIndexDraws {
            let index = next(below: count)
            if eligible(index) { return index }
            draws &+= 1
        }
        var eligibleCount = 0
        var index = 0
        while index < count {
            if eligible(index) { eligibleCount &+= 1 }
            index &+= 1
        }
        guard eligibleCount > 0 else { return nil }
        var ticket = next(below: eligibleCount)
        index = 0
        while index < count {
            if eligible(index) {
                if ticket == 0 { return index }
                ticket &-= 1
            }
            index &+= 1
        }
        return nil
    }
}
