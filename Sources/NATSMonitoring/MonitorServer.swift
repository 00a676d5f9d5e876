import NATSConfig
import NATSJSON
import NATSServer
import Foundation
import UVLoop

/// The HTTP monitoring listener (`-m PORT`): one request per connection, answered with JSON and closed.
package final class MonitorServer: MonitoringEndpoint {
    unowned let server: Server
    private var listener: TCPListener?
    private var connections: [ObjectIdentifier: MonitorConnection] = [:]
    /// Requests served per path, for /varz `http_req_stats`.
    var requestCounts: [String: Int] = [:]

    package init(server: Server) {
        self.server = server
    }

    package var port: Int { listener?.port ?? 0 }

    package func start(host: String, port: Int) throws {
        let listener: TCPListener
        do {
            listener = try TCPListener(loop: server.loop, host: host, port: port == -1 ? 0 : port) { [unowned self] connection in
                let monitorConnection = MonitorConnection(monitor: self, connection: connection)
                self.connections[ObjectIdentifier(monitorConnection)] = monitorConnection
                monitorConnection.start()
            }
        } catch {
            let address = server.hostPort(host, port)
            throw StartupError("can't listen to the monitor port: listen tcp \(address): bind: \(error)")
        }
        self.listener = listener
        server.logger.info("Starting http monitor on \(server.hostPort(host, listener.port))")
    }

    package func stop() {
        listener?.close()
        listener = nil
        for connection in connections.values { connection.connection.close() }
    }

    func finished(_ connection: MonitorConnection) {
        connections.removeValue(forKey: ObjectIdentifier(connection))
    }

    /// The response to one request: status line, headers and body.
    func respond(method: String, target: String) -> [UInt8] {
        let (path, query) = MonitorServer.split(target)
        requestCounts[path, default: 0] += 1
        let status: String
        let body: String
        switch path {
        case "/varz": (status, body) = ("200 OK", server.varz(requestCounts: requestCounts).rendered())
        case "/connz": (status, body) = ("200 OK", server.connz(query: query).rendered())
        case "/routez": (status, body) = ("200 OK", server.routez(query: query).rendered())
        case "/subsz", "/subscriptionsz": (status, body) = ("200 OK", server.subsz(query: query).rendered())
        case "/healthz": (status, body) = ("200 OK", JSON.object([("status", .string("ok"))]).rendered())
        case "/": (status, body) = ("200 OK", MonitorServer.indexPage)
        default: (status, body) = ("404 Not Found", "404 page not found\n")
        }
        let contentType = path == "/" ? "text/html; charset=utf-8" : (status.hasPrefix("200") ? "application/json" : "text/plain; charset=utf-8")
        let payload = Array(body.utf8)
        let head = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + payload
    }

    static func split(_ target: String) -> (String, [String: String]) {
        guard let mark = target.firstIndex(of: "?") else { return (target, [:]) }
        var query: [String: String] = [:]
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let key = String(parts[0])
            query[key] = parts.count > 1 ? String(parts[1]).removingPercentEncoding ?? String(parts[1]) : ""
        }
        return (String(target[..<mark]), query)
    }

    static let indexPage = """
    <html><body><h1>natsd monitoring</h1><ul>
    <li><a href="varz">varz</a></li><li><a href="connz">connz</a></li><li><a href="routez">routez</a></li>
    <li><a href="subsz">subsz</a></li><li><a href="healthz">healthz</a></li></ul></body></html>

    """
}

/// One HTTP connection to the monitor.
final class MonitorConnection: TCPConnectionDelegate {
    unowned let monitor: MonitorServer
    let connection: TCPConnection
    private let reader = HTTPRequestReader()
    private var answered = false

    init(monitor: MonitorServer, connection: TCPConnection) {
        self.monitor = monitor
        self.connection = connection
    }

    func start() {
        connection.delegate = self
        connection.startReading()
    }

    func connectionDidRead(_ connection: TCPConnection, bytes: UnsafeRawBufferPointer) -> ReadDisposition {
        guard !answered else { return ReadDisposition(consumed: bytes.count, needed: 0) }
        switch reader.feed(bytes) {
        case .incomplete:
            break
        case .complete(let method, let target):
            answered = true
            connection.write(monitor.respond(method: method, target: target))
            connection.closeAfterFlush()
        case .invalid:
            answered = true
            connection.write(Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
            connection.closeAfterFlush()
        }
        return ReadDisposition(consumed: bytes.count, needed: 0)
    }

    func connectionDidClose(_ connection: TCPConnection, error: UVError?) {
        connection.delegate = nil
        monitor.finished(self)
    }
}
