import NATSConfig
import NATSProtocol

extension Server {
    /// A local subscription was added on `worker`'s loop: routes learn about new interest here, from that
    /// loop (see Cluster+Interest.swift for the order this keeps).
    func localInterestAdded(_ subscription: Subscription, on worker: LoopWorker) {
        cluster.localInterestAdded(subscription, on: worker)
    }

    /// A local subscription was removed (UNSUB, auto-unsubscribe, client close) on `worker`'s loop.
    func localInterestRemoved(_ subscription: Subscription, on worker: LoopWorker) {
        cluster.localInterestRemoved(subscription, on: worker)
    }
}

extension Server {
    /// All client URLs of the cluster, own first (INFO `connect_urls`); nil when not clustered.
    package func clientConnectURLs() -> [String]? {
        guard options.cluster.isEnabled || !options.cluster.routes.isEmpty, !options.cluster.noAdvertise else { return nil }
        var urls = ownClientURLs()
        for url in cluster.peerClientURLs() where !urls.contains(url) { urls.append(url) }
        return urls
    }

    /// A peer joined or left: clients that can take async INFO learn the new `connect_urls`.
    /// Not while shutting down: the routes closing then would leave this server alone in the list, and
    /// clients (nats.c, nats.go, nats.net) drop every server missing from the latest `connect_urls`,
    /// forgetting the very nodes they should fail over to. nats-server sends nothing either.
    func clusterMembershipChanged() {
        refreshClientInfo()
        guard !options.cluster.noAdvertise, !isShuttingDown else { return }
        for worker in workers {
            worker.post { [unowned self] in
                for client in worker.clients.values
                where client.sentFirstPong && client.connectOptions.protocolVersion >= 1 && !client.isClosed {
                    client.send(self.clientInfoLine(for: client))
                }
            }
        }
    }
}
