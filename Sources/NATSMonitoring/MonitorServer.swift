import NATSConfig
import NATSJSON
import NATSServer
import UVLoop

/// The HTTP monitoring listener (`-m PORT`): one request per connection, answered and closed.
package final class MonitorServer: MonitoringEndpoint {
    /// How long a connection may take to send its whole request: nats-server's monitoring HTTP server
    /// sets `ReadHeaderTimeout` to 5 s (`server/server.go`, `startMonitoring`) and then closes the
    /// socket without an answer. Without it, idle or trickling sockets pile up and starve descriptors.
    package static let defaultRequestDeadlineMilliseconds: UInt64 = 5_000
    /// How long writing the answer may take before the connection is dropped. nats-server sets no write
    /// timeout; natsd bounds it so a peer that never reads a large answer cannot hold its socket forever.
    package static let defaultResponseDeadlineMilliseconds: UInt64 = 30_000
    /// How long an answered connection waits for the client's end after the answer (and a FIN) went out,
    /// reading and dropping what the client still sends: Go's net/http `rstAvoidanceDelay`.
    static let lingerMilliseconds: UInt64 = 500

    unowned let server: Server
    let requestDeadlineMilliseconds: UInt64
    let responseDeadlineMilliseconds: UInt64
    private var listener: TCPListener?
    private var connections: [ObjectIdentifier: MonitorConnection] = [:]
    /// Requests served per endpoint path, for /varz `http_req_stats`; only known paths, so the table stays small.
    var requestCounts: [String: Int] = [:]
    /// `/topologyz` requests waiting for the peers (MonitorServer+Topology.swift).
    let topologyRequests = TopologyRequests()

    /// - Parameters: the deadlines are nats-server's by default; tests shorten them.
    package init(server: Server,
                 requestDeadlineMilliseconds: UInt64 = MonitorServer.defaultRequestDeadlineMilliseconds,
                 responseDeadlineMilliseconds: UInt64 = MonitorServer.defaultResponseDeadlineMilliseconds) {
        self.server = server
        self.requestDeadlineMilliseconds = requestDeadlineMilliseconds
        self.responseDeadlineMilliseconds = responseDeadlineMilliseconds
    }

    package var port: Int { listener?.port ?? 0 }

    /// Monitoring connections not yet closed and freed.
    package var openConnectionCount: Int { connections.count }

    /// Binds `host`:`port` (the port to bind, 0 for one the system picks: `ServerOptions.monitoringListenPort`).
    package func start(host: String, port: Int) throws {
        let listener: TCPListener
        do {
            listener = try server.listen(host: host, port: port) { [unowned self] connection in
                let monitorConnection = MonitorConnection(monitor: self, connection: connection)
                self.connections[ObjectIdentifier(monitorConnection)] = monitorConnection
                monitorConnection.start()
            }
        } catch {
            throw StartupError("Can't start monitoring: can't listen to the monitor port: \(error)")
        }
        self.listener = listener
        server.logger.info("Starting http monitor on \(server.hostPort(host, listener.port))")
    }

    package func stop() {
        listener?.close()
        listener = nil
        // The close callbacks remove the connections from the table, after this loop.
        for connection in connections.values { connection.connection.close() }
    }

    func finished(_ connection: MonitorConnection) {
        connections.removeValue(forKey: ObjectIdentifier(connection))
    }

    /// The response to one request target. Any method is served, as nats-server's handlers do.
    func respond(to target: String) -> MonitorResponse {
        guard let target = MonitorTarget(target) else { return .badRequest }
        let query = target.query
        do {
            switch target.path {
            case "/varz":
                count(target.path)
                return .json(server.varz(requestCounts: requestCounts).rendered())
            case "/connz":
                count(target.path)
                return .json(server.connz(options: try ConnzOptions(query: query)).rendered())
            case "/routez":
                count(target.path)
                return .json(server.routez(listsSubscriptions: try query.listsSubscriptions(),
                                           detailsSubscriptions: query.detailsSubscriptions()).rendered())
            case "/subsz", "/subscriptionsz":
                count("/subsz")
                return .json(server.subsz(options: try SubszOptions(query: query)).rendered())
            case "/accountz":
                count(target.path)
                return .json(try server.accountz(accountName: query.value("acc")).rendered())
            case "/metrics":
                count(target.path)
                return MonitorResponse(status: "200 OK", contentType: "text/plain; version=0.0.4; charset=utf-8",
                                       body: server.metricsText())
            case "/healthz":
                count(target.path)
                return Healthz.respond(to: query)
            case "/":
                count(target.path)
                return MonitorResponse(status: "200 OK", contentType: "text/html; charset=utf-8", body: TopologyPage.html)
            default:
                return .notFound
            }
        } catch {
            return .text("400 Bad Request", error.message)
        }
    }

    private func count(_ path: String) {
        requestCounts[path, default: 0] += 1
    }
}
