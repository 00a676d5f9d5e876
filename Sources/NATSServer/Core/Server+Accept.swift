import NATSConfig
import NATSJSON
import NATSProtocol
import UVLoop

extension Server {
    /// A new TCP connection on the client port.
    func accept(_ connection: TCPConnection) {
        guard !isShuttingDown else {
            connection.close()
            return
        }
        let client = ClientConnection(server: self, id: nextID(), connection: connection)
        statistics.totalConnections += 1
        if clients.count >= options.maxConnections {
            client.connection.delegate = client
            client.send(clientInfoLine(for: client))
            logger.error("\(client.label) - Client connection closed: maximum connections exceeded")
            client.fail("maximum connections exceeded", reason: .maxConnectionsExceeded)
            return
        }
        clients[client.id] = client
        client.start()
    }

    /// Called once when a client closes, whatever the reason.
    func clientClosed(_ client: ClientConnection) {
        clients.removeValue(forKey: client.id)
    }

    /// The INFO line a client gets on accept (and, with `connectInfo`, after its first PONG).
    func clientInfoLine(for client: ClientConnection, connectInfo: Bool = false) -> [UInt8] {
        var info = baseClientInfo()
        info.clientID = client.id
        info.clientIP = client.connection.remoteHost
        if connectInfo {
            info.connectInfo = true
            info.remoteAccount = "$G"
        }
        return info.line()
    }

    /// The INFO fields clients and routes share.
    func commonInfo(proto: Int) -> ServerInfo {
        var info = ServerInfo()
        info.serverID = serverID
        info.serverName = serverName
        info.version = Server.version
        info.proto = proto
        info.goVersion = Server.goVersion
        info.headers = !options.noHeaderSupport
        info.maxPayload = Int32(clamping: options.maxPayload)
        return info
    }

    /// The client INFO fields every client shares.
    func baseClientInfo() -> ServerInfo {
        var info = commonInfo(proto: 1)
        let advertised = advertisedClientHostPort()
        info.host = advertised.host
        info.port = advertised.port
        info.authRequired = authenticator.clientsNeedCredentials
        if options.cluster.isEnabled || !options.cluster.routes.isEmpty {
            info.cluster = cluster.name
            info.connectURLs = clientConnectURLs() ?? []
        }
        return info
    }

    /// The host and port clients are told (client_advertise, else the bound listener).
    func advertisedClientHostPort() -> (host: String, port: Int) {
        if let advertised = Server.advertisedAddress(options.clientAdvertise, listeningPort: clientPort) {
            return advertised
        }
        return (options.host, clientPort)
    }
}
