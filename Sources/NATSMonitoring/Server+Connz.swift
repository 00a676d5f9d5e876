import Foundation
import NATSConfig
import NATSJSON
import NATSServer

/// /connz: open client connections and the ring of closed ones, with nats-server's field names.
extension Server {
    /// /connz: the connections `options.state` selects, sorted and paged by `options`. `total` counts
    /// every selected connection, or with `acc` every one of that account (also with a `cid` or `user`
    /// filter, as nats-server does); `offset` and `limit` echo the effective options; `num_connections`
    /// is the size of the page. An unknown `acc` is answered as nats-server answers it: no server id and
    /// a null list.
    func connz(options: ConnzOptions) -> JSON {
        if let name = options.account, accounts.account(named: name) == nil {
            return .object([
                ("server_id", .string("")), ("now", .string(MonitorTime.rfc3339(Date()))),
                ("num_connections", .int(0)), ("total", .int(0)),
                ("offset", .int(options.offset)), ("limit", .int(options.limit)), ("connections", .null),
            ])
        }
        let open = options.state == .closed ? [] : clientSnapshots(withSubjects: options.listsSubscriptions,
                                                                   withDetails: options.detailsSubscriptions)
        // nats-server keeps a closed client's account only when it is not the global one, so `acc=$G`
        // selects no closed connection.
        let closed = options.state == .open ? [] : closedClients.snapshot().map(ClientSnapshot.init).filter { client in
            options.account.map { $0 != AccountConfig.globalName && $0 == client.accountName } ?? true
        }
        let openInAccount = options.account.map { name in open.filter { $0.accountName == name } } ?? open
        var selected = openInAccount + closed
        if let cid = options.cid {
            // An open connection first; a closed one only when no open one has the cid.
            selected = open.filter { $0.metrics.cid == cid }
            if selected.isEmpty { selected = closed.filter { $0.metrics.cid == cid }.suffix(1) }
        } else if let user = options.user {
            selected = selected.filter { $0.authorizedUser == user }
        }
        let sorted = options.sorted(selected, now: loop.now) { $0.metrics }
        let page = sorted[options.page(total: sorted.count)]
        return .object([
            ("server_id", .string(serverID)), ("now", .string(MonitorTime.rfc3339(Date()))),
            ("num_connections", .int(page.count)), ("total", .int(openInAccount.count + closed.count)),
            ("offset", .int(options.offset)), ("limit", .int(options.limit)),
            ("connections", .array(page.map { connectionInfo($0, options: options) })),
        ])
    }

    /// One entry of /connz `connections` (nats-server's `ConnInfo`, in its field order).
    private func connectionInfo(_ client: ClientSnapshot, options: ConnzOptions) -> JSON {
        let metrics = client.metrics
        let now = max(client.now, client.lastActivity, client.startedAt)
        var fields: [(String, JSON)] = [
            ("cid", .int(Int(metrics.cid))), ("kind", .string("Client")), ("type", .string("nats")),
            ("ip", .string(client.remoteHost)), ("port", .int(client.remotePort)),
            ("start", .string(MonitorTime.rfc3339(date(ofLoopTime: client.startedAt)))),
            ("last_activity", .string(MonitorTime.rfc3339(date(ofLoopTime: client.lastActivity)))),
        ]
        if let stoppedAt = metrics.stoppedAt {
            fields += [("stop", .string(MonitorTime.rfc3339(date(ofLoopTime: stoppedAt)))), ("reason", .string(metrics.reason))]
        }
        fields += [
            ("rtt", .string(MonitorTime.roundTrip(nanoseconds: metrics.rttNanoseconds))),
            ("uptime", .string(MonitorTime.uptime(Double(now - client.startedAt) / 1000))),
            ("idle", .string(MonitorTime.uptime(Double(now - client.lastActivity) / 1000))),
            ("pending_bytes", .int(metrics.pendingBytes)),
            ("in_msgs", .int(metrics.inMessages)), ("out_msgs", .int(metrics.outMessages)),
            ("in_bytes", .int(metrics.inBytes)), ("out_bytes", .int(metrics.outBytes)),
            ("subscriptions", .int(metrics.subscriptions)),
        ]
        if !client.name.isEmpty { fields.append(("name", .string(client.name))) }
        if !client.lang.isEmpty { fields.append(("lang", .string(client.lang))) }
        if !client.version.isEmpty { fields.append(("version", .string(client.version))) }
        let isGlobal = client.accountName == AccountConfig.globalName
        if options.showsAuthorization {
            if !client.authorizedUser.isEmpty { fields.append(("authorized_user", .string(client.authorizedUser))) }
            // nats-server names the account only when it is not the global one.
            if !isGlobal { fields.append(("account", .string(client.accountName))) }
        }
        if options.detailsSubscriptions && !client.subscriptionDetails.isEmpty {
            fields.append(("subscriptions_list_detail", .array(client.subscriptionDetails.map {
                Server.subscriptionDetail($0, withAccount: client.isClosed)
            })))
        } else if options.listsSubscriptions && !client.subjects.isEmpty {
            fields.append(("subscriptions_list", .array(client.subjects.map { .string($0) })))
        }
        // Accounts have no name tags in natsd (no JWT): nats-server's tag is then the account name. A closed
        // connection keeps it only outside the global account (nats-server's saveClosedClient).
        if options.showsAuthorization && (!client.isClosed || !isGlobal) {
            fields.append(("name_tag", .string(client.accountName)))
        }
        return .object(fields)
    }

    /// One `subscriptions_list_detail` entry (nats-server's `SubDetail`). nats-server names the account
    /// (and its tag: the name, natsd's accounts having no tags) for the subscriptions a closed connection
    /// kept and for /subsz, but not for an open connection's or a route's.
    static func subscriptionDetail(_ detail: SubscriptionDetail, withAccount: Bool) -> JSON {
        var entry: [(String, JSON)] = []
        if withAccount { entry += [("account", .string(detail.account)), ("account_tag", .string(detail.account))] }
        entry.append(("subject", .string(detail.subject)))
        if let queue = detail.queue { entry.append(("qgroup", .string(queue))) }
        entry += [("sid", .string(detail.sid)), ("msgs", .int(detail.messages))]
        if detail.maxMessages > 0 { entry.append(("max", .int(detail.maxMessages))) }
        entry.append(("cid", .int(Int(detail.cid))))
        return .object(entry)
    }
}
