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
            ("subscriptions", .int(sublist.count)),
            ("http_req_stats", .object(requestCounts.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
        ]
        return .object(fields)
    }

    /// /connz: the open client connections, sorted and paged by `options`. `total` counts every open
    /// client connection (also with a `cid` filter, as nats-server does); `offset` and `limit` echo the
    /// effective options; `num_connections` is the size of the page.
    func connz(options: ConnzOptions) -> JSON {
        let showSubscriptions = options.listsSubscriptions
        let all = clientSnapshots(withSubjects: showSubscriptions)
        var selected = all
        if let cid = options.cid { selected = selected.filter { $0.metrics.cid == cid } }
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
            if showSubscriptions && !client.subjects.isEmpty {
                fields.append(("subscriptions_list", .array(client.subjects.map { .string($0) })))
            }
            return .object(fields)
        }
        return .object([
            ("server_id", .string(serverID)), ("now", .string(MonitorTime.rfc3339(Date()))),
            ("num_connections", .int(connections.count)), ("total", .int(all.count)),
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

    /// /subsz; `listsSubscriptions` adds `subscriptions_list`.
    func subsz(listsSubscriptions: Bool) -> JSON {
        let stats = subscriptionStatistics()
        let hitRate = stats.matches == 0 ? 0 : Double(stats.cacheHits) / Double(stats.matches)
        var fields: [(String, JSON)] = [
            ("server_id", .string(serverID)), ("now", .string(MonitorTime.rfc3339(Date()))),
            ("num_subscriptions", .int(stats.count)), ("num_cache", .int(stats.cacheEntries)),
            ("num_inserts", .int(Int(stats.inserts))), ("num_removes", .int(Int(stats.removes))),
            ("num_matches", .int(Int(stats.matches))), ("cache_hit_rate", .double(hitRate)),
            ("max_fanout", .int(stats.maxFanout)), ("avg_fanout", .double(stats.averageFanout)),
        ]
        if listsSubscriptions {
            var list: [JSON] = []
            for subscription in subscriptionSnapshots() {
                var entry: [(String, JSON)] = [("account", .string("$G")), ("subject", .string(subscription.subject))]
                if let queue = subscription.queue { entry.append(("qgroup", .string(queue))) }
                entry += [("sid", .string(subscription.sid)), ("msgs", .int(subscription.delivered)),
                          ("cid", .int(Int(subscription.cid)))]
                if subscription.maxMessages > 0 { entry.append(("max", .int(subscription.maxMessages))) }
                list.append(.object(entry))
            }
            fields += [("total", .int(list.count)), ("offset", .int(0)), ("limit", .int(list.count)), ("subscriptions_list", .array(list))]
        }
        return .object(fields)
    }

    /// The sublist's figures with every loop's matcher (matches, cache) added up.
    func subscriptionStatistics() -> SublistStats {
        let parts = onEveryLoop { $0.matcher.stats }
        var total = parts.first ?? SublistStats()
        var fanoutSum = total.averageFanout * Double(total.cacheEntries)
        for part in parts.dropFirst() {
            total.matches += part.matches
            total.cacheHits += part.cacheHits
            total.cacheEntries += part.cacheEntries
            total.maxFanout = max(total.maxFanout, part.maxFanout)
            fanoutSum += part.averageFanout * Double(part.cacheEntries)
        }
        total.averageFanout = total.cacheEntries == 0 ? 0 : fanoutSum / Double(total.cacheEntries)
        return total
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
