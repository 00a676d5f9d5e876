import NATSAuth
import NATSConfig
import NATSJSON

/// A configuration reload's changes to the `cluster` block besides its routes and TLS (Server+Reload.swift),
/// as nats-server applies them (server/reload.go `clusterOption.Apply`, `reloadAuthorization`,
/// `reloadClusterPermissions`): new routes get the new INFO, credentials and limits; live routes are checked
/// against the new authorization and take the new permissions. Main loop.
extension Cluster {
    /// Takes on `new` (the options' `cluster` block) after a reload whose plan has `parts`; `permissions`:
    /// the new route permissions, compiled, when they changed.
    func reload(to new: ClusterOptions, parts: Set<ReloadPlan.Part>, permissions: RoutePermissionsChange?) {
        clusterOptions = new
        if parts.contains(.clusterAuthorization) { closeUnauthorizedRoutes() }
        if let permissions { reloadPermissions(permissions.rules) }
    }

    /// Accepted routes whose CONNECT credentials the new `cluster { authorization }` refuses get nats-server's
    /// `-ERR 'Authorization Violation'` and are closed. Routes this server dialled stay: their credentials are
    /// the peer's to check (nats-server's `reloadAuthorization` skips solicited routes too).
    private func closeUnauthorizedRoutes() {
        for route in routes.values where !route.didSolicit {
            guard let offered = route.offeredCredentials, !authorizeRoute(user: offered.user, pass: offered.password, certificate: { route.offeredCertificate }) else {
                continue
            }
            // Logged as nats-server's reload logs it, by the user the route offered.
            route.failFromMain("Authorization Violation", reason: .authenticationViolation,
                               logged: .error(RouteHandshake.authenticationErrorLog(user: offered.user)))
        }
    }

    /// New `cluster { permissions }`: every live connection gets an INFO with them (a peer resends interest
    /// our new export admits, `peerPermissionsChanged` on a natsd peer), then RS+ for local interest the new
    /// import admits and the old did not, RS- for the reverse. Rules and lines change under `interestLock`,
    /// so an interest change on another loop is announced under one set of rules or the other, never lost.
    /// The export side (a peer's interest dropped or filtered anew) is each serving loop's
    /// (`RouteConnection.reapplyExport`), posted before this so it runs before the peer can answer the INFO.
    private func reloadPermissions(_ newRules: RoutePermissionRules?) {
        // This server's INFO only (as nats-server sends): the peer list waits for the peer's own INFO.
        let info = routeInfo().line()
        let loops = server.mainWorker.loopCount
        let writes = interestLock.withLock {
            let oldRules = routePermissions
            routePermissions = newRules
            var writes: [PendingWrite] = []
            for live in liveRoutes {
                var lines = info
                for account in server.accounts.all {
                    account.interest.forEachLocal { change in
                        guard live.carriesInterest(of: change.owner, onLoop: change.ownerLoop, in: account, loops: loops) else { return }
                        let wasAnnounced = Cluster.imports(change.subject, oldRules), isAnnounced = Cluster.imports(change.subject, newRules)
                        if isAnnounced && !wasAnnounced {
                            lines += change.line(account: account.interest.account)
                        } else if wasAnnounced && !isAnnounced {
                            lines += change.withdrawal.line(account: account.interest.account)
                        }
                    }
                }
                if let write = enqueue(lines, on: live, fromLoop: 0) { writes.append(write) }
            }
            return writes
        }
        post(writes)
        // Registered connections still moving to their loop get the INFO now; their interest comes when they go
        // live, under the new rules.
        for route in routes.values where route.movingTo != nil { route.sendFromMain(info) }
    }

    /// A peer's INFO carries other route permissions than before (its config was reloaded): local interest
    /// its export now admits and did not before is announced to it again, since it ignored that RS+ then
    /// (nats-server's `updateRemoteRoutePerms`, route.go). Interest it no longer admits it drops itself.
    func peerPermissionsChanged(_ peer: RoutePeer, to info: ServerInfo) {
        let before = Cluster.exportRules(peer.remoteInfo.exportPermissions)
        let now = Cluster.exportRules(info.exportPermissions)
        peer.remoteInfo.importPermissions = info.importPermissions
        peer.remoteInfo.exportPermissions = info.exportPermissions
        let loops = server.mainWorker.loopCount
        let writes = interestLock.withLock {
            var writes: [PendingWrite] = []
            for live in liveRoutes where live.route.peerKey == peer.joinOrder {
                var lines: [UInt8] = []
                for account in server.accounts.all {
                    account.interest.forEachLocal { change in
                        guard announces(change.subject), Cluster.exports(change.subject, now), !Cluster.exports(change.subject, before),
                              live.carriesInterest(of: change.owner, onLoop: change.ownerLoop, in: account, loops: loops) else { return }
                        lines += change.line(account: account.interest.account)
                    }
                }
                if !lines.isEmpty, let write = enqueue(lines, on: live, fromLoop: 0) { writes.append(write) }
            }
            return writes
        }
        post(writes)
    }

    /// A peer's export permissions from its route INFO, compiled; nil: it exports everything.
    static func exportRules(_ permissions: SubjectPermissions?) -> RoutePermissionRules? {
        permissions.map { RoutePermissionRules(RoutePermissions(export: SubjectPermission($0))) }
    }
}

extension InterestChange {
    /// The RS- that takes back this interest.
    var withdrawal: InterestChange {
        InterestChange(kind: .unsubscribe, subject: subject, queue: queue, owner: owner, ownerLoop: ownerLoop)
    }
}

extension RouteConnection {
    /// New export rules on this route's serving loop: a peer's interest they refuse is dropped, as
    /// nats-server drops it; interest they filter differently (`Subscription.filtersExport`) is replaced by
    /// a copy, added before the old one goes, so a message published meanwhile still reaches the peer (once:
    /// forwarding picks a peer once whatever number of its subscriptions match).
    func reapplyExport(_ permissions: RoutePermissionRules?) {
        for (key, subscription) in remoteSubscriptions {
            let verdict = permissions.map { rules in subscription.subject.withUnsafeBytes { rules.exportVerdict($0) } } ?? .accepted
            if verdict == .refused {
                logger.debug("\(label) - Can not export \"\(String(decoding: subscription.subject, as: UTF8.self))\" any more, dropping remote subscription")
                remoteSubscriptions.removeValue(forKey: key)
                subscription.account.interest.remove(subscription)
                continue
            }
            let filtersExport = verdict == .acceptedFiltered
            guard filtersExport != subscription.filtersExport else { continue }
            let replacement = Subscription(route: self, account: subscription.account, subject: subscription.subject,
                                           queue: subscription.queue, weight: subscription.weight, filtersExport: filtersExport)
            guard subscription.account.interest.add(replacement) else { continue }
            remoteSubscriptions[key] = replacement
            subscription.account.interest.remove(subscription)
        }
    }

    /// A reloaded cluster ping interval applies from the next ping on (nats-server reads it at every ping).
    func restartPinging() {
        guard let timer = pingTimer else { return }
        timer.close()
        pingTimer = nil
        startPinging()
    }
}
