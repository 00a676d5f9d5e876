/// The monitoring HTTP listener as the server core sees it. It lives in the NATSMonitoring module so that
/// parsing HTTP requests from the network runs in checked code, not in the `-Ounchecked` core; the
/// server starts it after the client listener and stops it at shutdown.
public protocol MonitoringEndpoint: AnyObject {
    /// The bound port (the chosen one when the configured port was 0 or -1).
    var port: Int { get }
    /// Binds `host:port` (the port to bind: 0 means any free port) on the server's loop.
    /// - Throws: `StartupError` with nats-server's wording when the port cannot be bound.
    func start(host: String, port: Int) throws
    /// Stops listening and closes open monitoring connections.
    func stop()
}
