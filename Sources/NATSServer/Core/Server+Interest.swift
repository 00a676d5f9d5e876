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
    /// Nothing while shutting down: the routes dropped then are not news to clients about to be
    /// closed, and the listener is gone, so the INFO would carry a stale port (-1 under `-p -1`)
    /// that clients add to their reconnect pool (nats-server sends none either).
    func clusterMembershipChanged() {
        guard !options.cluster.noAdvertise, !isShuttingDown else { return }
        for client in clients.values where client.sentFirstPong && client.connectOptions.protocolVersion >= 1 && !client.isClosed {
            client.send(clientInfoLine(for: client))
        }
    }
}
