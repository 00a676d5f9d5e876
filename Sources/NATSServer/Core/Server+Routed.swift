import NATSProtocol

extension Server {
    /// A message that arrived over a route: delivered to local clients only (one hop). Queue groups
    /// get it only when the sender named them, and then one local member each.
    func deliverRouted(_ message: RoutedMessage) {
        let result = sublist.match(message.subject)
        for subscription in result.plain {
            guard let receiver = subscription.client else { continue }
            _ = deliver(to: subscription, receiver: receiver, subject: message.subject, reply: message.reply,
                        headerSize: message.headerSize, payload: message.payload)
        }
        guard !message.queues.isEmpty else { return }
        for group in result.queueGroups {
            guard let queue = group.first?.queueBytes, message.queues.contains(where: { $0.elementsEqual(queue.slice) }) else {
                continue
            }
            if let member = pickLocalQueueMember(group), let receiver = member.client {
                _ = deliver(to: member, receiver: receiver, subject: message.subject, reply: message.reply,
                            headerSize: message.headerSize, payload: message.payload)
            }
        }
    }

    /// A random local member of a queue group (remote members never take a routed message).
    @inline(__always)
    private func pickLocalQueueMember(_ group: ContiguousArray<Subscription>) -> Subscription? {
        let start = group.count > 1 ? random.next(below: group.count) : 0
        return firstMember(of: group, from: start) { member in
            guard let receiver = member.client else { return false }
            return !receiver.isClosed
        }
    }
}
