import NATSConfig
import Foundation

extension Server {
    /// This server's client URLs as the cluster advertises them (`host:port`). A wildcard bind
    /// (0.0.0.0, ::) is useless to a remote client, so it is expanded to the machine's non-loopback
    /// IPv4 addresses, as nats-server does; `client_advertise` replaces all of it.
    func ownClientURLs() -> [String] {
        let advertised = advertisedClientHostPort()
        guard options.clientAdvertise.isEmpty, advertised.host == "0.0.0.0" || advertised.host == "::" else {
            return [hostPort(advertised.host, advertised.port)]
        }
        let addresses = Server.nonLoopbackIPv4Addresses()
        if addresses.isEmpty { return [hostPort("127.0.0.1", advertised.port)] }
        return addresses.map { hostPort($0, advertised.port) }
    }

    /// A `client_advertise` / cluster `advertise` value as host and port, nil when empty or unusable.
    /// As nats-server (util.go parseHostPort): a missing port, 0 or -1 all mean the port the listener
    /// bound, so an advertised port is never 0 or negative.
    static func advertisedAddress(_ advertise: String, listeningPort: Int) -> (host: String, port: Int)? {
        let text = advertise.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return nil }
        if let url = RouteURL(parsing: "nats://" + text) {
            return (url.host, url.port > 0 ? url.port : listeningPort)
        }
        if !text.contains(":") || (text.hasPrefix("[") && text.hasSuffix("]")) {
            let host = text.hasPrefix("[") ? String(text.dropFirst().dropLast()) : text
            return host.isEmpty ? nil : (host, listeningPort)
        }
        return nil
    }

    static func nonLoopbackIPv4Addresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                  entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK) == 0, entry.pointee.ifa_flags & UInt32(IFF_UP) != 0
            else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { ipv4 in
                var raw = ipv4.pointee.sin_addr
                _ = inet_ntop(AF_INET, &raw, &text, socklen_t(INET_ADDRSTRLEN))
            }
            let ip = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !addresses.contains(ip) { addresses.append(ip) }
        }
        return addresses
    }
}

extension Server {
    /// All client URLs of the cluster, own first (INFO `connect_urls`); nil when not clustered, and nil
    /// until a peer's client URLs first arrive: nats-server fills the list only when a route brings URLs
    /// (`updateServerINFOAndSendINFOToClients`), so a server that has never had a peer sends none, and
    /// one whose peers all left lists itself. In lame duck mode only the other servers': clients must
    /// not come back here (nats-server's `sendLDMToClients`).
    package func clientConnectURLs() -> [String]? {
        guard options.cluster.isEnabled || !options.cluster.routes.isEmpty, !options.cluster.noAdvertise else { return nil }
        let peerURLs = cluster.peerClientURLs()
        if peerURLs.isEmpty && !hasListedPeerClientURLs { return nil }
        hasListedPeerClientURLs = true
        var urls = isInLameDuckMode ? [] : ownClientURLs()
        for url in peerURLs where !urls.contains(url) { urls.append(url) }
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
                for client in worker.clients.values where client.takesAsyncInfo {
                    client.send(self.clientInfoLine(for: client))
                }
            }
        }
    }
}

extension ClientConnection {
    /// Whether the client may be sent an INFO at any time: it speaks protocol 1 and has had its first
    /// PONG (nats-server's `ClientProtoInfo` and `firstPongSent` check).
    var takesAsyncInfo: Bool {
        sentFirstPong && connectOptions.protocolVersion >= 1 && !isClosed
    }
}
