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

    /// /varz: nats-server's fields for the features natsd has. Left out, as Tests/BlackBox/test_varz.py
    /// lists with reasons: gateway, leaf, mqtt, websocket and jetstream (natsd has none of them),
    /// JetStream's `feature_flags` and `disk_io_wait_stats`, `git_commit`, `config_digest` (a hash of
    /// nats-server's in-memory options), `system_account` without one configured (natsd creates none).
    /// `tls_cert_not_after` (and the cluster's) is the loaded certificate's expiry, read by OpenSSL.
    /// `go` names natsd's Swift compiler and `gomaxprocs` counts its event loops.
    func varz(requestCounts: [String: Int]) -> JSON {
        var fields: [(String, JSON)] = [
            ("server_id", .string(serverID)), ("server_name", .string(serverName)),
            ("version", .string(Server.version)), ("proto", .int(1)), ("go", .string(Server.goVersion)),
            ("host", .string(options.host)), ("port", .int(clientPort)),
        ]
        // nats-server leaves these flags out while false.
        if authenticator.isRequired { fields.append(("auth_required", .bool(true))) }
        if let tls = options.tls {
            fields.append(("tls_required", .bool(true)))
            if tls.verify { fields.append(("tls_verify", .bool(true))) }
        }
        if let urls = clientConnectURLs(), !urls.isEmpty { fields.append(("connect_urls", .array(urls.map { .string($0) }))) }
        fields += [
            ("max_connections", .int(options.maxConnections)),
        ]
        if options.maxSubscriptions > 0 { fields.append(("max_subscriptions", .int(options.maxSubscriptions))) }
        fields += [
            ("ping_interval", .int(Int(options.pingIntervalSeconds * 1_000_000_000))), ("ping_max", .int(options.pingMax)),
            ("http_host", .string(options.monitoringHost)), ("http_port", .int(monitor?.port ?? 0)),
            // natsd serves monitoring on plain HTTP at the root only.
            ("http_base_path", .string("")), ("https_port", .int(0)),
            ("auth_timeout", .double(options.authTimeoutSeconds)), ("max_control_line", .int(options.maxControlLine)),
            ("max_payload", .int(options.maxPayload)), ("max_pending", .int(options.maxPending)),
        ]
        // nats-server shows an empty object without a cluster.
        fields.append(("cluster", options.cluster.isEnabled || !options.cluster.routes.isEmpty ? clusterVarz() : .object([])))
        fields += [
            ("tls_timeout", .double(options.tls?.timeoutSeconds ?? 2)),
            ("write_deadline", .int(Int(options.writeDeadlineSeconds * 1_000_000_000))),
        ]
        let statistics = totalStatistics()
        let loopCounts = onEveryLoop { worker in
            (clients: worker.clients.count,
             counters: worker.clients.values.reduce(into: worker.closedClientCounters.values.reduce(into: MessageCounters()) {
                 $0.add($1)
             }) { $0.add($1.counters) })
        }
        var clientCounters = MessageCounters()
        for part in loopCounts { clientCounters.add(part.counters) }
        let uptime = uptimeSeconds
        fields += [
            ("start", .string(MonitorTime.rfc3339(startDate))), ("now", .string(MonitorTime.rfc3339(Date()))),
            ("uptime", .string(MonitorTime.uptime(uptime))), ("mem", .int(Server.residentMemoryBytes())),
            ("cores", .int(ProcessInfo.processInfo.activeProcessorCount)),
            // Go's scheduler threads have no counterpart; the event loops are natsd's parallelism.
            ("gomaxprocs", .int(workers.count)),
            ("cpu", .double(Server.cpuPercent(uptimeSeconds: uptime))),
            ("connections", .int(loopCounts.reduce(0) { $0 + $1.clients })),
            ("total_connections", .int(statistics.totalConnections)),
            // As nats-server: `routes` counts route connections (every pool slot), `remotes` the peer servers.
            ("routes", .int(cluster.registeredRoutes.count)), ("remotes", .int(cluster.peers.count)),
            ("leafnodes", .int(0)),
            ("in_msgs", .int(statistics.inMessages)), ("in_bytes", .int(statistics.inBytes)),
            ("in_client_msgs", .int(clientCounters.inMessages)), ("in_client_bytes", .int(clientCounters.inBytes)),
            ("out_msgs", .int(statistics.outMessages)), ("out_bytes", .int(statistics.outBytes)),
            ("out_client_msgs", .int(clientCounters.outMessages)), ("out_client_bytes", .int(clientCounters.outBytes)),
            ("slow_consumers", .int(statistics.slowConsumers)), ("stale_connections", .int(statistics.staleConnections)),
            // natsd pauses fast producers per subscription but does not count the pauses.
            ("stalled_clients", .int(0)),
            ("subscriptions", .int(subscriptionCount)),
            ("http_req_stats", .object(requestCounts.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
            ("config_load_time", .string(MonitorTime.rfc3339(configLoadDate))),
        ]
        // nats-server always has a system account (`$SYS` unless configured) and names it here; natsd makes
        // one only when `system_account` names it, and runs no system services in it, so without one the
        // field is left out (as nats-server leaves it out when it has none).
        if let system = systemAccountName { fields.append(("system_account", .string(system))) }
        fields += [
            ("slow_consumer_stats", Server.connectionKindCounts(clients: statistics.slowConsumers - statistics.slowConsumerRoutes,
                                                                 routes: statistics.slowConsumerRoutes)),
            ("stale_connection_stats", Server.connectionKindCounts(clients: statistics.staleConnections - statistics.staleRoutes,
                                                                    routes: statistics.staleRoutes)),
        ]
        if let expiry = clientCertificateNotAfter { fields.append(("tls_cert_not_after", Server.certificateTime(expiry))) }
        return .object(fields)
    }

    /// /varz `cluster`, as nats-server fills it: `tls_timeout` is the cluster TLS block's (2 s by default).
    private func clusterVarz() -> JSON {
        var fields: [(String, JSON)] = [("name", .string(cluster.name))]
        if options.cluster.isEnabled {
            fields += [("addr", .string(options.cluster.host.isEmpty ? "0.0.0.0" : options.cluster.host)),
                       ("cluster_port", .int(cluster.port))]
        }
        fields += [("auth_timeout", .double(options.cluster.authTimeoutSeconds))]
        if !options.cluster.routes.isEmpty {
            fields.append(("urls", .array(options.cluster.routes.map { .string("\(hostPort($0.host, $0.port))") })))
        }
        fields.append(("tls_timeout", .double(options.cluster.tls?.timeoutSeconds ?? 2)))
        if options.cluster.tls != nil { fields += [("tls_required", .bool(true)), ("tls_verify", .bool(true))] }
        fields.append(("pool_size", .int(options.cluster.routePoolSize ?? options.cluster.poolSize)))
        if let expiry = routeCertificateNotAfter { fields.append(("tls_cert_not_after", Server.certificateTime(expiry))) }
        return .object(fields)
    }

    /// A certificate's expiry as Go writes a whole-second time: `2026-12-04T14:00:00Z`.
    private static func certificateTime(_ unixSeconds: Int64) -> JSON {
        .string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(unixSeconds))))
    }

    /// nats-server's per-kind counts (`slow_consumer_stats`, `stale_connection_stats`); natsd has no
    /// gateways or leaf nodes.
    private static func connectionKindCounts(clients: Int, routes: Int) -> JSON {
        .object([("clients", .int(clients)), ("routes", .int(routes)), ("gateways", .int(0)), ("leafs", .int(0))])
    }

    /// CPU use of the process since it started, in percent of one core (nats-server reports `ps`'s
    /// `pcpu`, which is this figure): user and system time from /proc/self/stat over the uptime.
    static func cpuPercent(uptimeSeconds: Double) -> Double {
        guard uptimeSeconds > 0, let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        // Fields after the command name: state is field 3, utime 14 and stime 15 (proc(5)).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let percent = (user + system) / ticksPerSecond / uptimeSeconds * 100
        return (percent * 10).rounded() / 10
    }

    /// /routez: every route connection, each pool slot on its own as nats-server lists them;
    /// `subs` adds each route's `subscriptions_list`, `subs=detail` its `subscriptions_list_detail`.
    /// `pool_idx` (the connection's slot, absent in the no-pool dialect) is natsd's: nats-server 2.15.1
    /// does not show the slot. `account` (pinned account routes) never appears: natsd refuses them.
    func routez(listsSubscriptions showSubscriptions: Bool, detailsSubscriptions showDetails: Bool = false) -> JSON {
        let now = loop.now
        // What only the serving loops may read comes from their snapshots; a connection still moving
        // to its loop shows zeros.
        let served = routeSnapshots(withSubjects: showSubscriptions && !showDetails, withDetails: showDetails)
        let routes: [JSON] = cluster.registeredRoutes.map { route in
            let snapshot = served[route.id]
            let counters = snapshot?.counters ?? MessageCounters()
            let lastActivity = snapshot?.lastActivity ?? route.startedAt
            let servedNow = max(snapshot?.now ?? now, lastActivity)
            var fields: [(String, JSON)] = [
                ("rid", .int(Int(route.id))), ("remote_id", .string(route.remoteID)),
                ("remote_name", .string(route.remoteName)), ("did_solicit", .bool(route.didSolicit)),
                ("is_configured", .bool(route.isExplicit)),
                ("ip", .string(route.remoteHost)), ("port", .int(route.remotePort)),
                ("start", .string(MonitorTime.rfc3339(date(ofLoopTime: route.startedAt)))),
                ("last_activity", .string(MonitorTime.rfc3339(date(ofLoopTime: lastActivity)))),
                ("rtt", .string(MonitorTime.roundTrip(nanoseconds: snapshot?.rttNanoseconds ?? 0))),
                ("uptime", .string(MonitorTime.uptime(Double(max(now, route.startedAt) - route.startedAt) / 1000))),
                ("idle", .string(MonitorTime.uptime(Double(servedNow - lastActivity) / 1000))),
                ("pending_size", .int(snapshot?.pendingBytes ?? 0)),
                ("in_msgs", .int(counters.inMessages)), ("out_msgs", .int(counters.outMessages)),
                ("in_bytes", .int(counters.inBytes)), ("out_bytes", .int(counters.outBytes)),
                ("subscriptions", .int(snapshot?.subscriptionCount ?? 0)),
            ]
            if showDetails, let details = snapshot?.subscriptionDetails, !details.isEmpty {
                fields.append(("subscriptions_list_detail", .array(details.map { Server.subscriptionDetail($0, withAccount: false) })))
            } else if showSubscriptions, let subjects = snapshot?.subjects, !subjects.isEmpty {
                fields.append(("subscriptions_list", .array(subjects.map { .string($0) })))
            }
            // natsd does not compress routes (nats-server shows "off" for an uncompressed one).
            fields.append(("compression", .string("off")))
            if let slot = route.poolSlot { fields.append(("pool_idx", .int(slot))) }
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
