import UVLoop
import NATSConfig
import NATSJSON
import NATSServer
import Foundation
import NATSProtocol
import NATSSublist

/// The JSON documents of the monitoring endpoints, with nats-server's field names.
extension Server {
    /// Wall-clock time of a loop timestamp (milliseconds of uv_now).
    func date(ofLoopTime milliseconds: UInt64) -> Date {
        startDate.addingTimeInterval(Double(Int64(milliseconds) - Int64(startLoopTime)) / 1000)
    }

    private var uptimeSeconds: Double { Date().timeIntervalSince(startDate) }

    func varz(requestCounts: [String: Int]) -> JSON {
        var fields: [(String, JSON)] = [
            ("server_id", .string(serverID)), ("server_name", .string(serverName)),
            ("version", .string(Server.version)), ("proto", .int(1)), ("go", .string(Server.goVersion)),
            ("host", .string(options.host)), ("port", .int(clientPort)),
            ("auth_required", .bool(authenticator.isRequired)), ("max_connections", .int(options.maxConnections)),
            ("ping_interval", .int(Int(options.pingIntervalSeconds * 1_000_000_000))), ("ping_max", .int(options.pingMax)),
            ("http_host", .string(options.monitoringHost)), ("http_port", .int(monitor?.port ?? 0)),
            ("auth_timeout", .double(options.authTimeoutSeconds)), ("max_control_line", .int(options.maxControlLine)),
            ("max_payload", .int(options.maxPayload)), ("max_pending", .int(options.maxPending)),
        ]
        if let urls = clientConnectURLs() { fields.append(("connect_urls", .array(urls.map { .string($0) }))) }
        if options.cluster.isEnabled || !options.cluster.routes.isEmpty {
            var clusterFields: [(String, JSON)] = [("name", .string(cluster.name))]
            if options.cluster.isEnabled {
                clusterFields += [("addr", .string(options.cluster.host.isEmpty ? "0.0.0.0" : options.cluster.host)),
                                  ("cluster_port", .int(cluster.port))]
            }
            clusterFields += [("auth_timeout", .double(options.cluster.authTimeoutSeconds)),
                              ("urls", .array(options.cluster.routes.map { .string("\(hostPort($0.host, $0.port))") })),
                              ("pool_size", .int(options.cluster.routePoolSize ?? options.cluster.poolSize))]
            fields.append(("cluster", .object(clusterFields)))
        }
        let processInfo = ProcessInfo.processInfo
        let statistics = totalStatistics()
        let connections = onEveryLoop { $0.clients.count }.reduce(0, +)
        fields += [
            ("start", .string(MonitorTime.rfc3339(startDate))), ("now", .string(MonitorTime.rfc3339(Date()))),
            ("uptime", .string(MonitorTime.uptime(uptimeSeconds))), ("mem", .int(Server.residentMemoryBytes())),
            ("cores", .int(processInfo.activeProcessorCount)),
            ("connections", .int(connections)), ("total_connections", .int(statistics.totalConnections)),
            // As nats-server: `routes` counts route connections (every pool slot), `remotes` the peer servers.
            ("routes", .int(cluster.registeredRoutes.count)), ("remotes", .int(cluster.peers.count)),
            ("in_msgs", .int(statistics.inMessages)), ("out_msgs", .int(statistics.outMessages)),
            ("in_bytes", .int(statistics.inBytes)), ("out_bytes", .int(statistics.outBytes)),
            ("slow_consumers", .int(statistics.slowConsumers)), ("stale_connections", .int(statistics.staleConnections)),
            ("subscriptions", .int(subscriptionCount)),
            ("http_req_stats", .object(requestCounts.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
        ]
        // nats-server always has a system account (`$SYS` unless configured) and names it here; natsd makes
        // one only when `system_account` names it, and runs no system services in it, so without one the
        // field is left out (as nats-server leaves it out when it has none).
        if let system = systemAccountName { fields.append(("system_account", .string(system))) }
        return .object(fields)
    }

    /// /connz: the open client connections, sorted and paged by `options`. `total` counts every open
    /// client connection, or with `acc` every one of that account (also with a `cid` or `user` filter, as
    /// nats-server does); `offset` and `limit` echo the effective options; `num_connections` is the size
    /// of the page. An unknown `acc` is answered as nats-server answers it: no server id and a null list.
    func connz(options: ConnzOptions) -> JSON {
        let showSubscriptions = options.listsSubscriptions
        if let name = options.account, accounts.account(named: name) == nil {
            return .object([
                ("server_id", .string("")), ("now", .string(MonitorTime.rfc3339(Date()))),
                ("num_connections", .int(0)), ("total", .int(0)),
                ("offset", .int(options.offset)), ("limit", .int(options.limit)), ("connections", .null),
            ])
        }
        let all = clientSnapshots(withSubjects: showSubscriptions)
        let inAccount = options.account.map { name in all.filter { $0.accountName == name } } ?? all
        var selected = inAccount
        if let cid = options.cid {
            selected = all.filter { $0.metrics.cid == cid }
        } else if let user = options.user {
            selected = selected.filter { $0.authorizedUser == user }
        }
        let sorted = options.sorted(selected) { $0.metrics }
        let page = sorted[options.page(total: sorted.count)]
        let connections: [JSON] = page.map { client in
            let metrics = client.metrics
            let now = max(client.now, client.lastActivity, client.startedAt)
            var fields: [(String, JSON)] = [
                ("cid", .int(Int(metrics.cid))), ("kind", .string("Client")), ("type", .string("nats")),
                ("ip", .string(client.remoteHost)), ("port", .int(client.remotePort)),
                ("start", .string(MonitorTime.rfc3339(date(ofLoopTime: client.startedAt)))),
                ("last_activity", .string(MonitorTime.rfc3339(date(ofLoopTime: client.lastActivity)))),
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
            if options.showsAuthorization {
                if !client.authorizedUser.isEmpty { fields.append(("authorized_user", .string(client.authorizedUser))) }
                // nats-server names the account only when it is not the global one.
                if client.accountName != AccountConfig.globalName { fields.append(("account", .string(client.accountName))) }
            }
            if showSubscriptions && !client.subjects.isEmpty {
                fields.append(("subscriptions_list", .array(client.subjects.map { .string($0) })))
            }
            // Accounts have no name tags in natsd (no JWT): nats-server's tag is then the account name.
            if options.showsAuthorization { fields.append(("name_tag", .string(client.accountName))) }
            return .object(fields)
        }
        return .object([
            ("server_id", .string(serverID)), ("now", .string(MonitorTime.rfc3339(Date()))),
            ("num_connections", .int(connections.count)), ("total", .int(inAccount.count)),
            ("offset", .int(options.offset)), ("limit", .int(options.limit)), ("connections", .array(connections)),
        ])
    }

    /// /routez: every route connection, each pool slot on its own as nats-server lists them;
    /// `listsSubscriptions` adds each route's `subscriptions_list`. `pool_idx` (the connection's slot,
    /// absent in the no-pool dialect) is natsd's: nats-server 2.15.1 does not show the slot.
    func routez(listsSubscriptions showSubscriptions: Bool) -> JSON {
        let now = loop.now
        // What only the serving loops may read comes from their snapshots; a connection still moving
        // to its loop shows zeros.
        let served = routeSnapshots(withSubjects: showSubscriptions)
        let routes: [JSON] = cluster.registeredRoutes.map { route in
            let snapshot = served[route.id]
            let counters = snapshot?.counters ?? MessageCounters()
            var fields: [(String, JSON)] = [
                ("rid", .int(Int(route.id))), ("remote_id", .string(route.remoteID)),
                ("remote_name", .string(route.remoteName)), ("did_solicit", .bool(route.didSolicit)),
                ("is_configured", .bool(route.isExplicit)),
                ("ip", .string(route.remoteHost)), ("port", .int(route.remotePort)),
                ("start", .string(MonitorTime.rfc3339(date(ofLoopTime: route.startedAt)))),
                ("uptime", .string(MonitorTime.uptime(Double(now - route.startedAt) / 1000))),
                ("pending_size", .int(snapshot?.pendingBytes ?? 0)),
                ("in_msgs", .int(counters.inMessages)), ("out_msgs", .int(counters.outMessages)),
                ("in_bytes", .int(counters.inBytes)), ("out_bytes", .int(counters.outBytes)),
                ("subscriptions", .int(snapshot?.subscriptionCount ?? 0)),
            ]
            if let slot = route.poolSlot { fields.append(("pool_idx", .int(slot))) }
            if showSubscriptions {
                fields.append(("subscriptions_list", .array((snapshot?.subjects ?? []).map { .string($0) })))
            }
            return .object(fields)
        }
        return .object([
            ("server_id", .string(serverID)), ("server_name", .string(serverName)),
            ("now", .string(MonitorTime.rfc3339(Date()))), ("num_routes", .int(routes.count)), ("routes", .array(routes)),
        ])
    }

    /// Resident set size from /proc (what /varz `mem` reports).
    static func residentMemoryBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.filter(\.isNumber)
            return (Int(digits) ?? 0) * 1024
        }
        return 0
    }
}
