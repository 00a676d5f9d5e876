import NATSConfig
import NATSJSON
import NATSProtocol
import Synchronization
import UVLoop

extension Server {
    /// A new TCP connection on the client port (main loop).
    func accept(_ connection: TCPConnection) {
        guard !isShuttingDown else {
            connection.close()
            return
        }
        let id = nextID()
        let target = nextAcceptWorker
        nextAcceptWorker = target + 1 == workers.count ? 0 : target + 1
        if target == 0 { return mainWorker.adopt(connection, id: id) }
        // Another loop serves it: its socket moves there (libuv handles cannot change loops).
        guard let socket = connection.detachSocket() else { return }
        let worker = workers[target]
        worker.post { worker.adopt(socket: socket, id: id) }
    }
}

extension LoopWorker {
    /// Serves a new client connection on this loop: INFO, then reading; or the -ERR of a full server.
    func adopt(_ connection: TCPConnection, id: UInt64) {
        assertOnLoop()
        guard !isShuttingDown else { return connection.close() }
        let client = ClientConnection(worker: self, id: id, connection: connection)
        statistics.totalConnections += 1
        // max_connections counts the clients of every loop.
        if server.openClients.load(ordering: .relaxed) >= options.maxConnections {
            client.connection.delegate = client
            client.send(server.clientInfoLine(for: client))
            client.refuseOverMaxConnections()
            return
        }
        clients[client.id] = client
        server.openClients.add(1, ordering: .relaxed)
        client.start()
    }

    /// Serves a socket the main loop accepted and handed over.
    func adopt(socket: Int32, id: UInt64) {
        do {
            adopt(try TCPConnection(loop: loop, socket: socket), id: id)
        } catch {
            server.logger.error("Error accepting client connection: \(error)")
        }
    }

    /// Called once when a client closes, whatever the reason.
    func clientClosed(_ client: ClientConnection) {
        if clients.removeValue(forKey: client.id) != nil { server.openClients.subtract(1, ordering: .relaxed) }
        closedClientCounters[client.account.name, default: MessageCounters()].add(client.counters)
    }
}

extension Server {

    /// The INFO line a client gets on accept (and, with `connectInfo`, after its first PONG).
    /// Callable on any loop: the cluster-dependent fields come from `clientInfoTemplate`. Only the first
    /// INFO carries the client's `nonce` (nats-server's later INFOs have none); `lameDuck` marks the one
    /// INFO that announces lame duck mode (`"ldm":true`).
    func clientInfoLine(for client: ClientConnection, connectInfo: Bool = false, nonce: [UInt8] = [],
                        lameDuck: Bool = false) -> [UInt8] {
        var info = clientInfoTemplate.withLock { $0 }
        info.ldm = lameDuck
        info.clientID = client.id
        info.clientIP = client.connection.remoteHost
        info.nonce = String(decoding: nonce, as: UTF8.self)
        if connectInfo {
            info.connectInfo = true
            info.remoteAccount = client.account.name
        }
        return info.line()
    }

    /// Rebuilds the client INFO template from the main loop's state (cluster name, peers' client URLs):
    /// at start and whenever those change.
    func refreshClientInfo() {
        let info = baseClientInfo()
        clientInfoTemplate.withLock { $0 = info }
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
        info.tlsRequired = options.tls != nil
        info.tlsVerify = options.tls?.verify ?? false
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
