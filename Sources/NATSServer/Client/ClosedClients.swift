import NATSJSON
import NATSProtocol
import UVLoop

/// One subscription as /connz `subs=detail` and /routez `subs=detail` list it (nats-server's `SubDetail`).
package struct SubscriptionDetail: Sendable {
    package var subject: String
    package var queue: String?
    package var sid: String
    /// Messages delivered so far.
    package var messages: Int
    /// The auto-unsubscribe limit; 0 for none.
    package var maxMessages: Int
    package var cid: UInt64
    /// The account whose index holds the subscription.
    package var account: String

    /// Copies `subscription` of the connection `cid`; call on the loop that owns it.
    package init(_ subscription: Subscription, cid: UInt64) {
        subject = String(decoding: subscription.subject, as: UTF8.self)
        queue = subscription.queue.map { String(decoding: $0, as: UTF8.self) }
        sid = subscription.sid.string
        messages = subscription.delivered
        maxMessages = subscription.maxMessages
        self.cid = cid
        account = subscription.account.name
    }
}

/// What /connz `state=closed` shows of a client connection after it closed: its figures when it closed,
/// copied once on its loop (nats-server's `closedClient`).
package struct ClosedClient: Sendable {
    package var cid: UInt64
    package var remoteHost: String
    package var remotePort: Int
    /// Loop times in milliseconds (every loop's clock counts from the same monotonic origin).
    package var startedAt: UInt64
    package var lastActivity: UInt64
    package var stoppedAt: UInt64
    /// nats-server's text for why it closed (`ClosedState.String()`), e.g. `Client Closed`.
    package var reason: String
    package var rttNanoseconds: UInt64
    package var pendingBytes: Int
    package var counters: MessageCounters
    package var subscriptions: [SubscriptionDetail]
    package var connectOptions: ConnectOptions
    /// The user the client logged in as (`ClientConnection.authorizedUser`).
    package var login: String
    package var accountName: String

    /// Copies `client`, which is closing for `reason`, before its subscriptions are dropped.
    init(_ client: ClientConnection, reason: CloseReason) {
        cid = client.id
        remoteHost = client.connection.remoteHost
        remotePort = client.connection.remotePort
        startedAt = client.startedAt
        lastActivity = client.lastActivity
        stoppedAt = client.connection.loop.now
        self.reason = reason.rawValue
        rttNanoseconds = client.rttNanoseconds
        pendingBytes = client.connection.pendingBytes
        counters = client.counters
        subscriptions = client.subscriptions.values.map { SubscriptionDetail($0, cid: client.id) }
        connectOptions = client.connectOptions
        login = client.authorizedUser
        accountName = client.account.name
    }
}

/// The last `capacity` closed client connections, oldest first (nats-server's `closedRingBuffer`,
/// `max_closed_clients`, 10 000 by default). Clients close on every loop, so the ring is behind a lock;
/// it is taken once per closed connection and per /connz request, never per message.
package final class ClosedClientRing: Sendable {
    private struct Storage {
        var entries: [ClosedClient] = []
        /// Where the next entry goes once the ring is full (the oldest entry).
        var next = 0
    }

    package let capacity: Int
    private let storage = LockedValue(Storage())

    /// - Parameter capacity: entries kept; at least 1.
    package init(capacity: Int) {
        self.capacity = max(capacity, 1)
    }

    /// Keeps `client`, dropping the oldest entry when the ring is full.
    package func append(_ client: ClosedClient) {
        storage.withLock { storage in
            if storage.entries.count < capacity {
                storage.entries.append(client)
            } else {
                storage.entries[storage.next] = client
                storage.next = (storage.next + 1) % capacity
            }
        }
    }

    /// The kept connections, oldest first.
    package func snapshot() -> [ClosedClient] {
        storage.withLock { storage in
            Array(storage.entries[storage.next...] + storage.entries[..<storage.next])
        }
    }
}
