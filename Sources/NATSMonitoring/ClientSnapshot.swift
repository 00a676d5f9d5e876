import NATSJSON
import NATSServer

/// What /connz shows of one client, copied on the loop that serves it (monitoring runs on the main loop
/// and must not read another loop's connections directly), or taken from the ring of closed clients.
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
    /// Subscriptions in detail, sorted by sid; empty unless asked for (`subs=detail`).
    var subscriptionDetails: [SubscriptionDetail]
    /// The account the client is bound to.
    var accountName: String
    /// What /connz?auth=1 shows as `authorized_user` (see `authorizedUser(connect:login:)`).
    var authorizedUser: String
    /// Set for a connection from the ring of closed clients.
    var isClosed = false

    init(_ client: ClientConnection, now: UInt64, withSubjects: Bool, withDetails: Bool = false) {
        metrics = ConnzMetrics(cid: client.id, subscriptions: client.subscriptions.count,
                               pendingBytes: client.connection.pendingBytes,
                               inMessages: client.counters.inMessages, outMessages: client.counters.outMessages,
                               inBytes: client.counters.inBytes, outBytes: client.counters.outBytes,
                               lastActivity: client.lastActivity, startedAt: client.startedAt,
                               rttNanoseconds: client.rttNanoseconds)
        remoteHost = client.connection.remoteHost
        remotePort = client.connection.remotePort
        startedAt = client.startedAt
        lastActivity = client.lastActivity
        self.now = now
        name = client.connectOptions.name
        lang = client.connectOptions.lang
        version = client.connectOptions.version
        subjects = withSubjects ? client.subscriptions.values.map { String(decoding: $0.subject, as: UTF8.self) }.sorted() : []
        subscriptionDetails = withDetails
            ? ClientSnapshot.sortedBySid(client.subscriptions.values.map { SubscriptionDetail($0, cid: client.id) }) : []
        accountName = client.account.name
        authorizedUser = ClientSnapshot.authorizedUser(connect: client.connectOptions, login: client.authorizedUser)
    }

    /// A closed connection as it was when it closed: its uptime and idle time end at the close.
    init(_ closed: ClosedClient) {
        metrics = ConnzMetrics(cid: closed.cid, subscriptions: closed.subscriptions.count, pendingBytes: closed.pendingBytes,
                               inMessages: closed.counters.inMessages, outMessages: closed.counters.outMessages,
                               inBytes: closed.counters.inBytes, outBytes: closed.counters.outBytes,
                               lastActivity: closed.lastActivity, startedAt: closed.startedAt, stoppedAt: closed.stoppedAt,
                               reason: closed.reason, rttNanoseconds: closed.rttNanoseconds)
        remoteHost = closed.remoteHost
        remotePort = closed.remotePort
        startedAt = closed.startedAt
        lastActivity = closed.lastActivity
        now = closed.stoppedAt
        name = closed.connectOptions.name
        lang = closed.connectOptions.lang
        version = closed.connectOptions.version
        subjects = closed.subscriptions.map(\.subject).sorted()
        subscriptionDetails = ClientSnapshot.sortedBySid(closed.subscriptions)
        accountName = closed.accountName
        authorizedUser = ClientSnapshot.authorizedUser(connect: closed.connectOptions, login: closed.login)
        isClosed = true
    }

    /// Details in a stable order (nats-server lists them in map order).
    static func sortedBySid(_ details: [SubscriptionDetail]) -> [SubscriptionDetail] {
        details.sorted { $0.sid.count != $1.sid.count ? $0.sid.count < $1.sid.count : $0.sid < $1.sid }
    }

    /// The user a client authenticated as, the way nats-server names it (`getRawAuthUser`): from what the
    /// client's CONNECT offered, whether or not the server checks it (a user name sent to a server without
    /// authentication is shown), in this order: the nkey, the user name, `[REDACTED]` for a token. A client
    /// that offered none of them and was let in as `no_auth_user` shows that user (`login`; nats-server
    /// writes it into the client's options); otherwise it is empty, and /connz leaves the field out.
    static func authorizedUser(connect: ConnectOptions, login: String) -> String {
        if !connect.nkey.isEmpty { return connect.nkey }
        if !connect.user.isEmpty { return connect.user }
        if !connect.authToken.isEmpty { return "[REDACTED]" }
        return login
    }
}

/// What /routez shows of a route connection that only its serving loop may read, copied there.
struct RouteSnapshot: Sendable {
    var pendingBytes: Int
    var counters: MessageCounters
    var subscriptionCount: Int
    /// Remote interest subjects, sorted; empty unless asked for.
    var subjects: [String]
    /// Remote interest in detail, sorted by subject; empty unless asked for (`subs=detail`).
    var subscriptionDetails: [SubscriptionDetail]
    var rttNanoseconds: UInt64
    /// Loop milliseconds of the last read, and of the serving loop when the snapshot was taken.
    var lastActivity: UInt64
    var now: UInt64

    init(_ route: RouteConnection, withSubjects: Bool, withDetails: Bool = false) {
        pendingBytes = route.connection.pendingBytes
        counters = route.counters
        subscriptionCount = route.remoteSubscriptions.count
        subjects = withSubjects ? route.remoteSubscriptions.values.map { String(decoding: $0.subject, as: UTF8.self) }.sorted() : []
        subscriptionDetails = withDetails ? route.remoteSubscriptions.values.map { RouteSnapshot.detail($0, route: route) }
            .sorted { ($0.account, $0.subject, $0.queue ?? "") < ($1.account, $1.subject, $1.queue ?? "") } : []
        rttNanoseconds = route.rttNanoseconds
        lastActivity = route.lastActivity
        now = route.connection.loop.now
    }
}

extension RouteSnapshot {
    /// Remote interest as nats-server details it: its sid is the RS+ argument without the queue weight,
    /// `<account> <subject>[ <queue>]` (what nats-server shows for a natsd peer's interest; between two
    /// nats-servers, whose RS+ differs, it starts with `R `).
    static func detail(_ subscription: Subscription, route: RouteConnection) -> SubscriptionDetail {
        var detail = SubscriptionDetail(subscription, cid: route.id)
        detail.sid = [detail.account, detail.subject, detail.queue].compactMap { $0 }.joined(separator: " ")
        return detail
    }
}

/// One subscription as /subsz lists it, copied on the loop that owns it.
struct SubscriptionSnapshot: Sendable {
    /// The account whose subscriptions hold it (for `acc`): the exporting account for the shadow of a
    /// stream import's subscriber.
    var account: String
    /// The account of the subscribing client, which nats-server shows as the subscription's `account`
    /// (so a shadow shows the importing account).
    var clientAccount: String
    var subject: String
    var queue: String?
    var sid: String
    var delivered: Int
    var maxMessages: Int
    var cid: UInt64
}

extension Server {
    /// Every open client of every loop.
    func clientSnapshots(withSubjects: Bool, withDetails: Bool = false) -> [ClientSnapshot] {
        onEveryLoop { worker in
            let now = worker.loop.now
            return worker.clients.values.map {
                ClientSnapshot($0, now: now, withSubjects: withSubjects, withDetails: withDetails)
            }
        }.flatMap { $0 }
    }

    /// The route connections every loop serves, by route id.
    func routeSnapshots(withSubjects: Bool, withDetails: Bool = false) -> [UInt64: RouteSnapshot] {
        var snapshots: [UInt64: RouteSnapshot] = [:]
        for part in onEveryLoop({ worker in
            worker.hostedRoutes.map { hosted in
                hosted.route._withUnsafeGuaranteedRef {
                    ($0.id, RouteSnapshot($0, withSubjects: withSubjects, withDetails: withDetails))
                }
            }
        }) {
            for (id, snapshot) in part { snapshots[id] = snapshot }
        }
        return snapshots
    }

    /// Every client subscription of every loop, and the shadows of stream import subscribers in the
    /// exporting accounts (nats-server lists those too: they sit in that account's sublist with the client
    /// as owner). A shadow carries its subscription's sid, queue and counts. Internal subscriptions (service
    /// imports, responses) have no client and are left out, as nats-server leaves out client-less ones.
    func subscriptionSnapshots() -> [SubscriptionSnapshot] {
        onEveryLoop { worker in
            worker.clients.values.flatMap { client in
                client.subscriptions.values.flatMap { subscription in
                    ([subscription] + subscription.shadows).map { held in
                        SubscriptionSnapshot(
                            account: held.account.name, clientAccount: client.account.name,
                            subject: String(decoding: held.subject, as: UTF8.self),
                            queue: subscription.queue.map { String(decoding: $0, as: UTF8.self) },
                            sid: subscription.sid.string, delivered: subscription.delivered,
                            maxMessages: subscription.maxMessages, cid: client.id)
                    }
                }
            }
        }.flatMap { $0 }
    }

    /// The counters of every loop, added up.
    func totalStatistics() -> ServerStatistics {
        onEveryLoop { $0.statistics }.reduce(into: ServerStatistics()) { $0.add($1) }
    }
}
