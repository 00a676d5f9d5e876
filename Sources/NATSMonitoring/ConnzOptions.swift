/// The `sort` option of /connz: the keys and directions of nats-server (`server/monitor_sort_opts.go`
/// and the switch in `Server.Connz`): `cid` and `start` ascending, `uptime` ascending (youngest
/// connection first), `reason` ascending by text, every other key descending (largest first).
enum ConnzSortKey: String, CaseIterable, Sendable {
    case cid, start, subs, pending
    case messagesTo = "msgs_to", messagesFrom = "msgs_from", bytesTo = "bytes_to", bytesFrom = "bytes_from"
    case last, idle, uptime, rtt
    /// Closed-connection keys: nats-server accepts them only with `state=closed`.
    case stop, reason
}

/// The `state` option of /connz: which connections are listed (nats-server's `ConnState`).
enum ConnzState: Sendable {
    case open, closed, all
}

/// The values of one connection that /connz sorts on, read from the server when the request is answered.
struct ConnzMetrics: Equatable, Sendable {
    var cid: UInt64
    var subscriptions = 0
    var pendingBytes = 0
    var inMessages = 0
    var outMessages = 0
    var inBytes = 0
    var outBytes = 0
    /// Loop time in milliseconds of the last bytes read from the connection.
    var lastActivity: UInt64 = 0
    /// Loop times in milliseconds of the accept and, for a closed connection, of the close.
    var startedAt: UInt64 = 0
    var stoppedAt: UInt64?
    /// Why a closed connection closed ("" while open).
    var reason = ""
    var rttNanoseconds: UInt64 = 0
}

/// The decoded query of a /connz request, with nats-server's defaults and checks (`HandleConnz`, `Connz`).
struct ConnzOptions: Equatable, Sendable {
    /// nats-server's `DefaultConnListSize`: the page size when `limit` is absent or not positive.
    static let defaultLimit = 1024

    var sort: ConnzSortKey = .cid
    var state: ConnzState = .open
    var listsSubscriptions = false
    /// `subs=detail`: `subscriptions_list_detail` instead of `subscriptions_list`.
    var detailsSubscriptions = false
    /// First connection of the page in sorted order; negative values count as 0.
    var offset = 0
    /// Page size; `cid` forces 1.
    var limit = ConnzOptions.defaultLimit
    /// Only this connection when set (non-zero); looked up among every connection, whatever `account`
    /// says, as nats-server does.
    var cid: UInt64?
    /// `auth`: show each connection's `authorized_user`, `account` (unless `$G`) and `name_tag`.
    var showsAuthorization = false
    /// `user`: only connections whose authorized user is this one.
    var user: String?
    /// `acc`: only the connections bound to this account; `total` then counts only them.
    var account: String?

    init() {}

    /// Decodes `auth`, `subs`, `offset`, `limit`, `cid`, `state`, `user`, `acc` and `sort`, in
    /// nats-server's order, so the first bad one is the one reported.
    /// - Throws: `MonitorRequestError` with nats-server's text: a parameter that does not decode
    ///   (`Error decoding int for 'offset': …`, `Error decoding state for x`), an unknown key
    ///   (`invalid sorting option: foo`), or `stop`/`reason` without `state=closed`
    ///   (`sort by stop only valid on closed connections`).
    init(query: MonitorQuery) throws(MonitorRequestError) {
        showsAuthorization = try query.bool("auth")
        detailsSubscriptions = query.detailsSubscriptions()
        listsSubscriptions = try query.listsSubscriptions()
        offset = max(try query.int("offset") ?? 0, 0)
        if let limit = try query.int("limit"), limit > 0 { self.limit = limit }
        if let cid = try query.uint64("cid"), cid > 0 {
            self.cid = cid
            limit = 1
        }
        let stateText = query.value("state")
        switch stateText.lowercased() {
        case "", "open": state = .open
        case "closed": state = .closed
        case "any", "all": state = .all
        default: throw MonitorRequestError(message: "Error decoding state for \(stateText)")
        }
        let user = query.value("user"), account = query.value("acc")
        self.user = user.isEmpty ? nil : user
        self.account = account.isEmpty ? nil : account
        let sortText = query.value("sort")
        if !sortText.isEmpty {
            guard let key = ConnzSortKey(rawValue: sortText) else {
                throw MonitorRequestError(message: "invalid sorting option: \(sortText)")
            }
            if (key == .stop || key == .reason) && state != .closed {
                throw MonitorRequestError(message: "sort by \(key.rawValue) only valid on closed connections")
            }
            sort = key
        }
    }

    /// `items` in the order of `sort`, uptimes measured up to `now` (loop milliseconds) for open
    /// connections. Ties keep ascending cid, so a page boundary never moves between requests;
    /// nats-server leaves tie order unspecified.
    func sorted<Item>(_ items: [Item], now: UInt64, metrics: (Item) -> ConnzMetrics) -> [Item] {
        let keyed = items.map { (item: $0, metrics: metrics($0)) }
        return keyed.sorted { a, b in
            if let before = ConnzOptions.precedes(a.metrics, b.metrics, by: sort, now: now) { return before }
            return a.metrics.cid < b.metrics.cid
        }.map(\.item)
    }

    /// Whether `a` comes before `b` under `key`; nil when they tie.
    private static func precedes(_ a: ConnzMetrics, _ b: ConnzMetrics, by key: ConnzSortKey, now: UInt64) -> Bool? {
        func descending<Value: Comparable>(_ value: (ConnzMetrics) -> Value) -> Bool? {
            value(a) == value(b) ? nil : value(a) > value(b)
        }
        func ascending<Value: Comparable>(_ value: (ConnzMetrics) -> Value) -> Bool? {
            value(a) == value(b) ? nil : value(a) < value(b)
        }
        switch key {
        case .cid, .start: return ascending(\.cid)
        case .subs: return descending(\.subscriptions)
        case .pending: return descending(\.pendingBytes)
        case .messagesTo: return descending(\.outMessages)
        case .messagesFrom: return descending(\.inMessages)
        case .bytesTo: return descending(\.outBytes)
        case .bytesFrom: return descending(\.inBytes)
        case .last: return descending(\.lastActivity)
        // Idle time is now minus the last activity: most idle first is oldest activity first.
        case .idle: return ascending(\.lastActivity)
        // Uptime runs to the close for a closed connection, to now for an open one; shortest first.
        case .uptime: return ascending { $0.stoppedAt ?? max(now, $0.startedAt) &- $0.startedAt }
        case .stop: return descending { $0.stoppedAt ?? 0 }
        case .reason: return ascending(\.reason)
        case .rtt: return descending(\.rttNanoseconds)
        }
    }

    /// The index range of the requested page among `total` sorted connections (`MonitorPage`).
    func page(total: Int) -> Range<Int> { MonitorPage.range(offset: offset, limit: limit, total: total) }
}
