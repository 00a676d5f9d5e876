import NATSConfig
import NATSProtocol

extension Server {
    /// A local subscription was added: routes learn about new interest here (issue 3).
    func localInterestAdded(_ subscription: Subscription) { cluster.localInterestAdded(subscription) }

    /// A local subscription was removed (UNSUB, auto-unsubscribe, client close).
    func localInterestRemoved(_ subscription: Subscription) { cluster.localInterestRemoved(subscription) }
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
        guard !options.cluster.noAdvertise, !isShuttingDown else { return }
        for client in clients.values where client.sentFirstPong && client.connectOptions.protocolVersion >= 1 && !client.isClosed {
            client.send(clientInfoLine(for: client))
        }
    }
}
