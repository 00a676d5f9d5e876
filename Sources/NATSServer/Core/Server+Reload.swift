import Foundation
import NATSAuth
import NATSConfig
import NATSProtocol
import Synchronization
import UVLoop

/// Configuration reload (SIGHUP, `natsd --signal reload`), as nats-server's `Server.Reload`
/// (server/reload.go): the config file and the command line are read again, the options that changed are
/// applied without dropping unaffected connections, and a config that does not parse or validate, or
/// that changes an option that cannot be reloaded, is logged (`Failed to reload server configuration: …`)
/// while the server keeps running on the old one.
///
/// The main loop owns `Server.options` and what is built from them; every other loop gets a copy of the
/// new settings through its inbox (`LoopWorker.adoptReloaded`), so nothing is shared and nothing on the
/// per-message path takes a lock.
extension Server {
    /// Reads the config file and command line again, as at start-up; natsd's main sets it. nil (or no
    /// `-c` file): reload is refused with nats-server's message.
    public typealias OptionsReader = () throws -> ServerOptions

    /// SIGHUP (main loop).
    func reloadConfiguration() {
        guard !options.configFile.isEmpty, let readOptions = reloadOptionsReader else {
            return logger.error("Failed to reload server configuration: can only reload config when a file is provided using -c or --config")
        }
        do {
            try reload(to: try readOptions())
        } catch {
            logger.error("Failed to reload server configuration: \(error)")
        }
    }

    /// Applies `new` or throws without changing anything (main loop).
    package func reload(to new: ServerOptions) throws {
        var plan = try options.reloadPlan(to: new)
        // Certificates renewed in place: same options, other bytes under the same paths.
        let clientFiles = ClientTLS.fileContents(new.tls), routeFiles = ClientTLS.fileContents(new.cluster.tls)
        if new.tls != nil, !plan.parts.contains(.clientTLS), clientFiles != clientTLSFiles {
            plan.parts.insert(.clientTLS)
            plan.notices.append("tls = enabled")
        }
        if new.cluster.tls != nil, !plan.parts.contains(.routeTLS), routeFiles != routeTLSFiles {
            plan.parts.insert(.routeTLS)
            if !plan.notices.contains("cluster") { plan.notices.append("cluster") }
        }
        // Everything that can fail is built before anything changes.
        try Server.checkSecurity(new)
        let newClientTLS = plan.parts.contains(.clientTLS) ? try new.tls.map { tls throws(ConfigError) in try ClientTLS.makeContext(tls) } : clientTLS
        let newRouteTLS = plan.parts.contains(.routeTLS)
            ? try new.cluster.tls.map { tls throws(ConfigError) in try ClientTLS.makeRouteContexts(tls) } : routeTLS

        let old = options
        options = new
        configLoadDate = Date()
        isTracing = new.trace
        clientTLS = newClientTLS
        routeTLS = newRouteTLS
        clientTLSFiles = clientFiles
        routeTLSFiles = routeFiles
        // nats-server checks every client again when the accounts changed too (its accounts option is an
        // authorization one).
        let recheckClients = plan.parts.contains(.authorization) || plan.parts.contains(.accounts)
        if recheckClients { authenticator = Authenticator(options: new) }
        let newAccounts = plan.parts.contains(.accounts) ? reloadAccounts(new) : nil
        if plan.parts.contains(.logging) { reconfigureLogging?(new) }
        for notice in plan.notices {
            // nats-server's cluster option logs "Cluster name updated to …" as it is applied, before its notice.
            if notice == "cluster" && old.cluster.name != new.cluster.name { cluster.reloadName(new.cluster.name) }
            // Its routes option closes the removed routes, logging each, before its notice too.
            if notice == "cluster routes" { cluster.removeRoutes(plan.routesRemoved) }
            logger.info("Reloaded: \(notice)")
        }
        refreshClientInfo()

        // nats-server closes clients until the count falls within a lowered max_connections (any ones).
        let excess = ExcessClients(count: openClients.load(ordering: .relaxed) - max(0, new.maxConnections))
        if excess.remaining.load(ordering: .relaxed) > 0 {
            logger.info("Closed \(excess.remaining.load(ordering: .relaxed)) connections to fall within max_connections")
        }
        if plan.parts.contains(.pidFile) { rewritePidFile() }
        if plan.parts.contains(.portsFileDir) {
            // nats-server removes the file from the old directory and writes it in the new one.
            if !old.portsFileDir.isEmpty { removePortsFile(in: old.portsFileDir) }
            writePortsFile()
        }
        let routePermissions = plan.parts.contains(.clusterPermissions)
            ? RoutePermissionsChange(rules: new.cluster.permissions.map(RoutePermissionRules.init)) : nil
        let settings = ReloadedSettings(options: new, authenticator: authenticator, clientTLS: clientTLS, accounts: newAccounts,
                                        excessClients: excess,
                                        routePermissions: routePermissions,
                                        routePingChanged: old.cluster.pingIntervalSeconds != new.cluster.pingIntervalSeconds)
        // Every loop has taken the new settings (and closed what they refuse) before the reload is logged
        // as done, as nats-server's synchronous Reload does; the wait is bounded (`onEveryLoop`).
        _ = onEveryLoop { worker in worker.adoptReloaded(settings, recheckClients: recheckClients) }
        // After the loops' posts: a peer answering the new route permissions finds its serving loop using them.
        cluster.reload(to: new.cluster, parts: plan.parts, permissions: routePermissions)
        if plan.parts.contains(.routes) { cluster.addRoutes(plan.routesAdded) }
        logger.info("Reloaded server configuration")
    }
}

/// What a reload hands every loop. `@unchecked Sendable`: built on the main loop and only read after;
/// `TLSContext` is itself safe to share (see its comment), the registry is immutable (each loop writes
/// only its own slots of the accounts in it), the rest are values.
struct ReloadedSettings: @unchecked Sendable {
    let options: ServerOptions
    let authenticator: Authenticator
    let clientTLS: TLSContext?
    /// The new accounts; nil when they did not change.
    let accounts: AccountRegistry?
    let excessClients: ExcessClients
    /// New `cluster { permissions }`, nil when they did not change.
    let routePermissions: RoutePermissionsChange?
    /// `cluster { ping_interval }` changed: live routes restart their ping timers.
    let routePingChanged: Bool
}

/// New route permissions, compiled once for every loop (`RoutePermissionRules` is immutable and shared).
struct RoutePermissionsChange {
    /// nil: none, every subject crosses routes.
    let rules: RoutePermissionRules?
}

/// How many clients a lowered max_connections still has to close, shared by the loops (each closes its
/// own while the count is above zero).
final class ExcessClients: Sendable {
    let remaining: Atomic<Int>
    init(count: Int) { remaining = Atomic(count) }

    /// Takes one close; false once enough were closed.
    func take() -> Bool { remaining.subtract(1, ordering: .relaxed).newValue >= 0 }
}

extension LoopWorker {
    /// Takes on a reload's settings (on this worker's loop): new clients get them at once, live clients
    /// see the new limits at their next read or housekeeping tick and, when the authorization or the
    /// accounts changed, are checked against them now (`ClientConnection.recheckLogin`, then
    /// `moveShadows` for accounts whose stream imports changed).
    func adoptReloaded(_ settings: ReloadedSettings, recheckClients: Bool) {
        assertOnLoop()
        let changedImports = settings.accounts.map { adoptAccounts($0) } ?? []
        options = settings.options
        let previousAuthenticator = authenticator
        authenticator = settings.authenticator
        clientTLS = settings.clientTLS
        isTracing = settings.options.trace
        clientParserLimits = ParserLimits(clientOptions: settings.options)
        if let change = settings.routePermissions {
            routePermissions = change.rules
            routeExportFilter = change.rules?.makeExportFilter()
            for hosted in hostedRoutes { hosted.route.takeUnretainedValue().reapplyExport(change.rules) }
        }
        if settings.routePingChanged {
            for hosted in hostedRoutes { hosted.route.takeUnretainedValue().restartPinging() }
        }
        if settings.excessClients.remaining.load(ordering: .relaxed) > 0 {
            for client in Array(clients.values) where !client.isClosed {
                guard settings.excessClients.take() else { break }
                client.refuseOverMaxConnections()
            }
        }
        guard recheckClients else { return }
        for client in Array(clients.values) { client.recheckLogin(previous: previousAuthenticator) }
        guard !changedImports.isEmpty else { return }
        for client in Array(clients.values) { client.moveShadows(in: changedImports) }
    }
}

extension ParserLimits {
    /// The limits of a client connection: max_control_line and max_payload.
    init(clientOptions options: ServerOptions) {
        self.init(maxControlLine: options.maxControlLine, maxPayload: options.maxPayload)
    }
}

extension Cluster {
    /// `cluster { routes }` lost `removed`: each one's dialer stops and its connections close, each logged as
    /// nats-server's reload does (`Removed route <url>` per connection closed, the URL as configured, scheme
    /// included), and nothing redials it.
    func removeRoutes(_ removed: [RouteURL]) {
        for url in removed {
            for dialer in explicitDialers where dialer.url == url { dialer.stop() }
            explicitDialers.removeAll { $0.url == url }
            var closing = Array(routes.values).filter { $0.dialer?.url == url }
            if let peer = registeredPeer(listeningAt: url) {
                peer.dialers.removeAll { $0.url == url }
                closing += peer.connections.filter { route in !closing.contains { $0 === route } }
            }
            for route in closing {
                route.closeFromMain(reason: .routeRemoved, flush: true)
                server.logger.info("Removed route \(url.logged)")
            }
        }
    }

    /// `cluster { routes }` gained `added`: each is dialed as a configured route.
    func addRoutes(_ added: [RouteURL]) {
        for url in added {
            let dialer = RouteDialer(cluster: self, url: url, isExplicit: true)
            explicitDialers.append(dialer)
            dialer.start()
        }
    }
}
