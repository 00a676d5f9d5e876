import NATSConfig

/// The `accounts` part of a configuration reload, as nats-server's `reloadAuthorization` applies config-file
/// accounts (server/reload.go): accounts added are usable at once, removed ones lose their clients (a
/// client whose users entry is gone or now in another account is closed, `ClientClosed`, and reconnects into
/// the new one), and changed exports and imports take effect for live connections.
///
/// The main loop builds a new `AccountRegistry` that keeps the Account objects of the accounts that stay, so
/// their subscriptions, interest and matchers carry on untouched (nats-server keeps its `Account` too), and
/// swaps the internal subscriptions of service imports; every loop then takes the registry on its own loop
/// (`LoopWorker.adoptAccounts`), with its own view of each account's sharing, and moves the stream import
/// shadows of its clients' subscriptions. Nothing on the per-message path changes or takes a lock.
extension Server {
    /// Makes the accounts of `new` the main loop's (main loop); returns the registry the loops take on.
    func reloadAccounts(_ new: ServerOptions) -> AccountRegistry {
        let registry = AccountRegistry(options: new, previous: accounts, loopCount: workers.count)
        accounts = registry
        cluster.interestLock.withLock { cluster.interestAccounts = registry.all }
        syncServiceSubscriptions()
        return registry
    }

    /// Makes the internal subscriptions match the accounts in force (main loop): one per service import on
    /// its subject in the importing account (never announced to routes: the node a request is published on
    /// runs the import), one per exporting account on its response wildcard (announced, so responses reach
    /// this node from any other). Those of imports and exporters still there are kept as they are, so no
    /// request is lost or doubled across a reload; the others are removed.
    func syncServiceSubscriptions() {
        var current: [ObjectIdentifier: Subscription] = [:]
        for account in accounts.all {
            let sharing = accounts.sharing(of: account)
            for serviceImport in sharing.serviceImports {
                let key = ObjectIdentifier(serviceImport)
                if let kept = serviceSubscriptions.removeValue(forKey: key) {
                    current[key] = kept
                    continue
                }
                let subscription = Subscription(internalIn: account, subject: Array(serviceImport.config.to.utf8),
                                                role: ImportRole(serviceImport: serviceImport))
                if account.interest.add(subscription) { current[key] = subscription }
            }
            guard let responses = sharing.responses else { continue }
            let key = ObjectIdentifier(responses)
            if let kept = serviceSubscriptions.removeValue(forKey: key) {
                current[key] = kept
                continue
            }
            let subscription = Subscription(internalIn: account, subject: responses.wildcard, role: ImportRole(responses: responses))
            if account.interest.add(subscription) {
                current[key] = subscription
                cluster.localInterestAdded(subscription, on: mainWorker)
            }
        }
        // What is left served an import or an exporter the reload removed.
        for stale in serviceSubscriptions.values {
            stale.account.interest.remove(stale)
            if stale.importRole?.responses != nil { cluster.localInterestRemoved(stale, on: mainWorker) }
        }
        serviceSubscriptions = current
    }
}

extension LoopWorker {
    /// Takes on a reload's registry (on this worker's loop): each account's sharing as this loop sees it,
    /// and routes forget the account they last named (it may be one the reload removed). Returns the
    /// accounts whose stream imports changed, whose subscriptions need their shadows moved
    /// (`ClientConnection.moveShadows`) once the clients were checked against the new authorization.
    func adoptAccounts(_ registry: AccountRegistry) -> Set<ObjectIdentifier> {
        assertOnLoop()
        var changed: Set<ObjectIdentifier> = []
        for account in registry.all {
            let sharing = registry.sharing(of: account)
            if !account.sharing(onLoop: index).streamImports.elementsEqual(sharing.streamImports, by: { $0 === $1 }) {
                changed.insert(ObjectIdentifier(account))
            }
            account.adoptSharing(sharing, onLoop: index)
        }
        accounts = registry
        for hosted in hostedRoutes { hosted.route.takeUnretainedValue().bind(registry.global) }
        return changed
    }
}

extension ClientConnection {
    /// Moves the shadows of the subscriptions made in `changed` accounts to those accounts' stream imports
    /// as this loop now sees them (nats-server's `processSubsOnConfigReload` for accounts whose stream
    /// imports changed): shadows of imports that stay are kept (no message lost), those of removed imports
    /// are removed, and new imports get theirs; each with its RS+/RS- where that is the first or last interest.
    func moveShadows(in changed: Set<ObjectIdentifier>) {
        guard !isClosed else { return }
        for subscription in subscriptions.values where changed.contains(ObjectIdentifier(subscription.account)) {
            let streamImports = subscription.account.sharing(onLoop: worker.index).streamImports
            var kept: [Subscription] = []
            for shadow in subscription.shadows {
                if let streamImport = shadow.importRole?.streamImport, streamImports.contains(where: { $0 === streamImport }) {
                    kept.append(shadow)
                } else {
                    shadow.account.interest.remove(shadow)
                    server.cluster.localInterestRemoved(shadow, on: worker)
                }
            }
            subscription.shadows = kept
            let added = streamImports.filter { streamImport in !kept.contains { $0.importRole?.streamImport === streamImport } }
            if !added.isEmpty { addShadows(of: subscription, through: added) }
        }
    }
}
