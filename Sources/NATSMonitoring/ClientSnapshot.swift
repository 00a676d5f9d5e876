import NATSServer

/// What /connz and /subsz show of one client, copied on the loop that serves it: monitoring runs on the
/// main loop and must not read another loop's connections directly.
struct ClientSnapshot: Sendable {
    var metrics: ConnzMetrics
    var remoteHost: String
    var remotePort: Int
    /// Loop times in milliseconds (uv_now; every loop's clock counts from the same monotonic origin).
    var startedAt: UInt64
    var lastActivity: UInt64
    /// The serving loop's time when the snapshot was taken.
    var now: UInt64
    var name: String
    var lang: String
    var version: String
    /// Subscription subjects, sorted; empty unless asked for.
    var subjects: [String]

    init(_ client: ClientConnection, now: UInt64, withSubjects: Bool) {
        metrics = ConnzMetrics(cid: client.id, subscriptions: client.subscriptions.count,
                               pendingBytes: client.connection.pendingBytes,
                               inMessages: client.counters.inMessages, outMessages: client.counters.outMessages,
                               inBytes: client.counters.inBytes, outBytes: client.counters.outBytes, lastActivity: client.lastActivity)
        remoteHost = client.connection.remoteHost
        remotePort = client.connection.remotePort
        startedAt = client.startedAt
        lastActivity = client.lastActivity
        self.now = now
        name = client.connectOptions.name
        lang = client.connectOptions.lang
        version = client.connectOptions.version
        subjects = withSubjects ? client.subscriptions.values.map { String(decoding: $0.subject, as: UTF8.self) }.sorted() : []
    }
}

/// What /routez shows of a route connection that only its serving loop may read, copied there.
struct RouteSnapshot: Sendable {
    var pendingBytes: Int
    var counters: MessageCounters
    var subscriptionCount: Int
    /// Remote interest subjects, sorted; empty unless asked for.
    var subjects: [String]

    init(_ route: RouteConnection, withSubjects: Bool) {
        pendingBytes = route.connection.pendingBytes
        counters = route.counters
        subscriptionCount = route.remoteSubscriptions.count
        subjects = withSubjects ? route.remoteSubscriptions.values.map { String(decoding: $0.subject, as: UTF8.self) }.sorted() : []
    }
}

/// One subscription as /subsz lists it, copied on the loop that owns it.
struct SubscriptionSnapshot: Sendable {
    var subject: String
    var queue: String?
    var sid: String
    var delivered: Int
    var maxMessages: Int
    var cid: UInt64
}

extension Server {
    /// Every open client of every loop.
    func clientSnapshots(withSubjects: Bool) -> [ClientSnapshot] {
        onEveryLoop { worker in
            let now = worker.loop.now
            return worker.clients.values.map { ClientSnapshot($0, now: now, withSubjects: withSubjects) }
        }.flatMap { $0 }
    }

    /// The route connections every loop serves, by route id.
    func routeSnapshots(withSubjects: Bool) -> [UInt64: RouteSnapshot] {
        var snapshots: [UInt64: RouteSnapshot] = [:]
        for part in onEveryLoop({ worker in
            worker.hostedRoutes.map { hosted in
                hosted.route._withUnsafeGuaranteedRef { ($0.id, RouteSnapshot($0, withSubjects: withSubjects)) }
            }
        }) {
            for (id, snapshot) in part { snapshots[id] = snapshot }
        }
        return snapshots
    }

    /// Every client subscription of every loop.
    func subscriptionSnapshots() -> [SubscriptionSnapshot] {
        onEveryLoop { worker in
            worker.clients.values.flatMap { client in
                client.subscriptions.values.map { subscription in
                    SubscriptionSnapshot(
                        subject: String(decoding: subscription.subject, as: UTF8.self),
                        queue: subscription.queue.map { String(decoding: $0, as: UTF8.self) },
                        sid: subscription.sid.string, delivered: subscription.delivered,
                        maxMessages: subscription.maxMessages, cid: client.id)
                }
            }
        }.flatMap { $0 }
    }

    /// The counters of every loop, added up.
    func totalStatistics() -> ServerStatistics {
        onEveryLoop { $0.statistics }.reduce(into: ServerStatistics()) { total, part in
            total.inMessages += part.inMessages
            total.inBytes += part.inBytes
            total.outMessages += part.outMessages
            total.outBytes += part.outBytes
            total.totalConnections += part.totalConnections
            total.slowConsumers += part.slowConsumers
            total.staleConnections += part.staleConnections
        }
    }
}
