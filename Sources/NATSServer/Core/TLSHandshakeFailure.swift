import UVLoop

/// A refused TLS handshake as nats-server logs it (client.go `doTLSHandshake`, server.go `tlsTimeout`): the
/// line's text and whether it is only worth a debug line.
///
/// natsd's TLS is OpenSSL, nats-server's is Go's crypto/tls; where both refuse for the same reason, the log
/// says it in Go's words, so an operator (and a log search) sees the same line from either server. Reasons
/// without a Go twin stay OpenSSL's.
struct TLSHandshakeFailure: Equatable {
    /// The line after the connection's label: "TLS handshake timeout", or "TLS handshake error: REASON" (for a
    /// route "TLS route handshake error: REASON").
    let text: String
    /// nats-server logs a client's handshake at debug level when the peer never spoke TLS or let the
    /// handshake time out (a load balancer's probe, a plaintext client), and as an error otherwise; a
    /// route's always as an error.
    let isProbe: Bool
}

extension TLSHandshakeFailure {
    /// OpenSSL's reasons for a first record that is not TLS at all, in Go's words. OpenSSL tells what the
    /// bytes look like instead (an HTTP request; "CONNE", as both an HTTP proxy's CONNECT and a NATS client's
    /// CONNECT begin; a version byte that is not TLS's); Go says only that they do not look like TLS. Used only
    /// when this side had sent no TLS yet: later, a record with a wrong version is another failure in Go.
    static let firstRecordReasons: [String: String] = [
        "wrong version number": "tls: first record does not look like a TLS handshake",
        "http request": "tls: first record does not look like a TLS handshake",
        "https proxy request": "tls: first record does not look like a TLS handshake",
    ]

    /// OpenSSL's reasons that Go's crypto/tls states in words of its own, whenever they happen.
    static let goReasons: [String: String] = [
        // A client without a certificate where `verify` asks for one (TLS 1.2 and 1.3 alike in Go).
        "peer did not return a certificate": "tls: client didn't provide a certificate",
    ]

    /// `reason`: OpenSSL's (`TCPConnection.tlsFailure`; "timeout" for a handshake that took too long; nil when
    /// the connection ended during the handshake: `closeError` nil when the peer closed it, which Go reads as
    /// "EOF", else the read error, in libuv's words, which are the end of Go's).
    /// `beforeSpeaking`: the handshake failed before this side had sent any TLS.
    init(reason: String?, closeError: UVError? = nil, beforeSpeaking: Bool, isRoute: Bool) {
        let kind = isRoute ? "TLS route handshake error" : "TLS handshake error"
        switch reason {
        case "timeout":
            text = "TLS handshake timeout"
            isProbe = !isRoute
        case let reason? where beforeSpeaking && TLSHandshakeFailure.firstRecordReasons[reason] != nil:
            text = "\(kind): \(TLSHandshakeFailure.firstRecordReasons[reason]!)"
            isProbe = !isRoute
        case let reason?:
            text = "\(kind): \(TLSHandshakeFailure.goReasons[reason] ?? reason)"
            isProbe = false
        case nil:
            text = "\(kind): \(closeError?.description ?? "EOF")"
            isProbe = false
        }
    }

    /// The failure of `connection`'s handshake: it closed (with `closeError`) before the handshake completed.
    init(_ connection: TCPConnection, closeError: UVError?, isRoute: Bool) {
        self.init(reason: connection.tlsFailure, closeError: closeError,
                  beforeSpeaking: connection.tlsFailedBeforeSpeaking, isRoute: isRoute)
    }
}
