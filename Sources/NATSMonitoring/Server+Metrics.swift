import Foundation
import NATSServer
import Prometheus

/// /metrics: the server's figures in Prometheus' text format (natsd's own: nats-server needs a separate
/// exporter). Everything is read when the endpoint is scraped, from the counters the loops already keep;
/// nothing is added to the per-message path. Every scrape fills a fresh registry, so counters carry the
/// totals as they stand.
extension Server {
    /// What one loop reports for a scrape, gathered on that loop.
    struct LoopMetrics: Sendable {
        var index: Int
        var statistics: ServerStatistics
        var clients: Int
        var routes: Int
        /// Per account name: open clients, their subscriptions, and the message counters of the open
        /// and the closed clients together (monotonic).
        var accounts: [String: AccountMetrics]
        var routeSnapshots: [UInt64: RouteSnapshot]
    }

    struct AccountMetrics: Sendable {
        var connections = 0
        var subscriptions = 0
        var counters = MessageCounters()
    }

    /// The /metrics document (text format 0.0.4).
    func metricsText() -> String {
        let loops = onEveryLoop { worker in
            var accounts: [String: AccountMetrics] = [:]
            for (name, counters) in worker.closedClientCounters { accounts[name, default: AccountMetrics()].counters.add(counters) }
            for client in worker.clients.values {
                var account = accounts[client.account.name, default: AccountMetrics()]
                account.connections += 1
                account.subscriptions += client.subscriptions.count
                account.counters.add(client.counters)
                accounts[client.account.name] = account
            }
            let routes = worker.hostedRoutes.map { hosted in
                hosted.route._withUnsafeGuaranteedRef { ($0.id, RouteSnapshot($0, withSubjects: false)) }
            }
            return LoopMetrics(index: worker.index, statistics: worker.statistics, clients: worker.clients.count,
                               routes: worker.hostedRoutes.count, accounts: accounts,
                               routeSnapshots: Dictionary(routes, uniquingKeysWith: { first, _ in first }))
        }
        let registry = PrometheusCollectorRegistry()
        addServerMetrics(registry, loops: loops)
        addLoopMetrics(registry, loops: loops)
        addAccountMetrics(registry, loops: loops)
        addRouteMetrics(registry, loops: loops)
        return registry.emitToString()
    }

    private func addServerMetrics(_ registry: PrometheusCollectorRegistry, loops: [LoopMetrics]) {
        let total = loops.reduce(into: ServerStatistics()) { $0.add($1.statistics) }
        let open = loops.reduce(0) { $0 + $1.clients }
        registry.gauge("info", labels: [("server_id", serverID), ("server_name", serverName), ("version", Server.version),
                                        ("built_with", Server.goVersion)],
                       help: "The server's identity; always 1.", value: 1)
        registry.gauge("start_time_seconds", help: "When the server started (Unix time).",
                       value: startDate.timeIntervalSince1970)
        registry.gauge("resident_memory_bytes", help: "Resident set size of the process.",
                       value: Double(Server.residentMemoryBytes()))
        registry.gauge("connections", help: "Open client connections.", value: Double(open))
        registry.counter("connections_total", help: "Client connections accepted since start.", total: total.totalConnections)
        registry.gauge("subscriptions", help: "Subscriptions in every account's index.", value: Double(subscriptionCount))
        registry.gauge("routes", help: "Route connections (every pool connection).", value: Double(cluster.registeredRoutes.count))
        registry.gauge("remotes", help: "Peer servers with a route.", value: Double(cluster.peers.count))
        addMessageCounters(registry, prefix: "", labels: [], help: "by the server", total.messages)
        registry.counter("slow_consumers_total", help: "Connections cut off as slow consumers.", total: total.slowConsumers)
        registry.counter("stale_connections_total", help: "Connections closed as stale (unanswered PINGs).",
                         total: total.staleConnections)
    }

    /// Per event loop: how the load spreads over the loops.
    private func addLoopMetrics(_ registry: PrometheusCollectorRegistry, loops: [LoopMetrics]) {
        for loop in loops {
            let labels = [("loop", String(loop.index))]
            registry.gauge("loop_connections", labels: labels, help: "Open client connections per event loop.",
                           value: Double(loop.clients))
            registry.gauge("loop_routes", labels: labels, help: "Route connections served per event loop.",
                           value: Double(loop.routes))
            addMessageCounters(registry, prefix: "loop_", labels: labels, help: "per event loop", loop.statistics.messages)
        }
    }

    /// Per account: its clients (open and closed alike for the message counters).
    private func addAccountMetrics(_ registry: PrometheusCollectorRegistry, loops: [LoopMetrics]) {
        var accounts: [String: AccountMetrics] = [:]
        for loop in loops {
            for (name, part) in loop.accounts {
                var account = accounts[name, default: AccountMetrics()]
                account.connections += part.connections
                account.subscriptions += part.subscriptions
                account.counters.add(part.counters)
                accounts[name] = account
            }
        }
        for (name, account) in accounts.sorted(by: { $0.key < $1.key }) {
            let labels = [("account", name)]
            registry.gauge("account_connections", labels: labels, help: "Open client connections per account.",
                           value: Double(account.connections))
            registry.gauge("account_subscriptions", labels: labels, help: "Client subscriptions per account.",
                           value: Double(account.subscriptions))
            addMessageCounters(registry, prefix: "account_", labels: labels, help: "by the account's clients", account.counters)
        }
    }

    /// Per route connection (each pool connection on its own), while it is up.
    private func addRouteMetrics(_ registry: PrometheusCollectorRegistry, loops: [LoopMetrics]) {
        var snapshots: [UInt64: RouteSnapshot] = [:]
        for loop in loops { snapshots.merge(loop.routeSnapshots) { first, _ in first } }
        for route in cluster.registeredRoutes {
            guard let snapshot = snapshots[route.id] else { continue }  // still moving to its loop
            let labels = [("rid", String(route.id)), ("remote_id", route.remoteID), ("remote_name", route.remoteName),
                          ("pool_idx", route.poolSlot.map(String.init) ?? "")]
            registry.gauge("route_rtt_seconds", labels: labels,
                           help: "Round-trip time of the route's last answered PING (0 before the first).",
                           value: Double(snapshot.rttNanoseconds) / 1e9)
            registry.gauge("route_pending_bytes", labels: labels, help: "Bytes queued for the route.",
                           value: Double(snapshot.pendingBytes))
            registry.gauge("route_subscriptions", labels: labels, help: "Interest the peer announced on the route.",
                           value: Double(snapshot.subscriptionCount))
            addMessageCounters(registry, prefix: "route_", labels: labels, help: "on the route", snapshot.counters)
        }
    }

    /// `natsd_<prefix>in_messages_total`, `…in_bytes_total`, `…out_messages_total` and `…out_bytes_total`.
    private func addMessageCounters(_ registry: PrometheusCollectorRegistry, prefix: String, labels: [(String, String)],
                                    help: String, _ counters: MessageCounters) {
        let values = [("in_messages", counters.inMessages, "Messages received"), ("in_bytes", counters.inBytes, "Payload bytes received"),
                      ("out_messages", counters.outMessages, "Messages sent"), ("out_bytes", counters.outBytes, "Payload bytes sent")]
        for (name, value, what) in values {
            registry.counter("\(prefix)\(name)_total", labels: labels, help: "\(what) \(help).", total: value)
        }
    }
}

extension ServerStatistics {
    /// The message counters among these statistics.
    fileprivate var messages: MessageCounters {
        var counters = MessageCounters()
        counters.inMessages = inMessages
        counters.inBytes = inBytes
        counters.outMessages = outMessages
        counters.outBytes = outBytes
        return counters
    }
}

extension PrometheusCollectorRegistry {
    /// Sets the gauge `natsd_<name>` with `labels` to `value`.
    fileprivate func gauge(_ name: String, labels: [(String, String)] = [], help: String, value: Double) {
        makeGauge(descriptor: MetricNameDescriptor(namespace: "natsd", metricName: name, unitName: "", helpText: help),
                  labels: labels).set(value)
    }

    /// Sets the counter `natsd_<name>` with `labels` to `total` (the registry is new for every scrape).
    fileprivate func counter(_ name: String, labels: [(String, String)] = [], help: String, total: Int) {
        makeCounter(descriptor: MetricNameDescriptor(namespace: "natsd", metricName: name, unitName: "", helpText: help),
                    labels: labels).increment(by: Int64(total))
    }
}
