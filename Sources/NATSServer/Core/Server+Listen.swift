import NATSConfig
import UVLoop

/// Why a listener could not be opened, in the words of Go's net.Listen error that nats-server logs
/// (`listen tcp 127.0.0.1:4222: bind: address already in use`); each caller adds nats-server's prefix.
package struct ListenFailure: Error, CustomStringConvertible {
    package let description: String

    init(_ description: String) {
        self.description = description
    }
}

extension Server {
    /// Opens a listener on `host`:`port` (the port to bind: 0 lets the system pick; the host numeric or a
    /// name, resolved at once), or throws Go's error text for what went wrong: a port outside 0...65535
    /// (`listen tcp: address 70000: invalid port`), a name that does not resolve (`listen tcp: lookup
    /// nohost.example: no such host`) or a failed bind (`listen tcp 127.0.0.1:4222: bind: address already
    /// in use`).
    package func listen(host: String, port: Int,
                        onAccept: @escaping (TCPConnection) -> Void) throws(ListenFailure) -> TCPListener {
        if let reason = ServerOptions.invalidPortReason(port) {
            throw ListenFailure("listen tcp: \(reason)")
        }
        do {
            return try TCPListener(loop: loop, host: host, port: port, onAccept: onAccept)
        } catch where error.isAddressLookupFailure {
            throw ListenFailure("listen tcp: lookup \(host): \(Server.lookupFailureReason(error))")
        } catch {
            throw ListenFailure("listen tcp \(hostPort(host, port)): bind: \(error)")
        }
    }

    /// Go's words for a failed lookup: a name without addresses is "no such host" (Go's `errNoSuchHost`);
    /// other resolver failures keep the resolver's message.
    static func lookupFailureReason(_ error: UVError) -> String {
        error.isNoSuchHost ? "no such host" : error.description
    }
}
