import CTLS

/// How a `TLSContext` is set up: the certificate it presents, the CAs it trusts, what it asks of peers.
/// File paths are PEM files; names are OpenSSL's (the server maps nats-server's Go names onto them).
public struct TLSConfiguration: Sendable, Equatable {
    /// Server side (accepts) or client side (dials).
    public var isServer: Bool
    /// The certificate chain presented to peers and its private key; empty: none (a server without a
    /// certificate fails every handshake, as nats-server does with an empty `tls {}` block).
    public var certificateFile = ""
    public var privateKeyFile = ""
    /// CA certificates peers' certificates must chain to; empty: the system's store (clients only).
    public var caFile = ""
    /// A server requires a client certificate signed by `caFile`; a client always verifies the server.
    public var verifyPeer = false
    /// Lowest protocol version: 0x0303 (TLS 1.2, the default, as nats-server's) or 0x0304 (TLS 1.3).
    public var minimumVersion: Int32 = 0x0303
    /// TLS 1.2 cipher suites, OpenSSL names, in order of preference; empty: AEAD suites with ECDHE.
    public var cipherSuites: [String] = []
    /// Key exchange groups, OpenSSL names ("X25519", "P-256"), in order of preference; empty: defaults.
    public var groups: [String] = []

    public init(isServer: Bool) {
        self.isServer = isServer
    }
}

/// Why a `TLSContext` could not be made: OpenSSL's reason, or the file that could not be read.
public struct TLSError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// An OpenSSL context (`SSL_CTX`): certificate, trust and protocol settings shared by every TLS session
/// made from it, on any loop.
///
/// `@unchecked Sendable`: the context is only read once set up (OpenSSL locks its own reference counts
/// when sessions are made from it), so loops share one.
public final class TLSContext: @unchecked Sendable {
    let raw: OpaquePointer
    /// The configuration it was made from.
    public let configuration: TLSConfiguration

    /// Loads certificates and applies the settings.
    /// - Throws: `TLSError` with OpenSSL's reason when a file does not load, a key does not match its
    ///   certificate, or a setting is refused.
    public init(_ configuration: TLSConfiguration) throws(TLSError) {
        guard let raw = CTLS_context_new(configuration.isServer ? 1 : 0) else {
            throw TLSError("cannot create an OpenSSL context")
        }
        self.raw = raw
        self.configuration = configuration
        try configure()
    }

    deinit {
        CTLS_context_free(raw)
    }

    /// When the loaded certificate expires, in Unix seconds; nil without a certificate.
    public var certificateNotAfter: Int64? {
        let seconds = CTLS_context_certificate_not_after(raw)
        return seconds > 0 ? Int64(seconds) : nil
    }

    private func configure() throws(TLSError) {
        let configuration = self.configuration
        var reason = [CChar](repeating: 0, count: 256)
        if !configuration.certificateFile.isEmpty || !configuration.privateKeyFile.isEmpty {
            if CTLS_context_use_certificate(raw, configuration.certificateFile, configuration.privateKeyFile,
                                            &reason, reason.count) != 0 {
                throw TLSError(reason.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
            }
        }
        if !configuration.caFile.isEmpty {
            if CTLS_context_use_ca(raw, configuration.caFile, &reason, reason.count) != 0 {
                throw TLSError(reason.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
            }
        } else if !configuration.isServer {
            CTLS_context_use_default_ca(raw)
        }
        // A client always checks the server it dials; a server asks for client certificates on request.
        CTLS_context_set_verify(raw, configuration.verifyPeer || !configuration.isServer ? 1 : 0)
        if CTLS_context_set_min_version(raw, configuration.minimumVersion) != 0 {
            throw TLSError("unsupported minimum TLS version \(configuration.minimumVersion)")
        }
        if !configuration.cipherSuites.isEmpty,
           CTLS_context_set_ciphers(raw, configuration.cipherSuites.joined(separator: ":")) != 0 {
            throw TLSError("no usable cipher suite in \(configuration.cipherSuites)")
        }
        if !configuration.groups.isEmpty, CTLS_context_set_groups(raw, configuration.groups.joined(separator: ":")) != 0 {
            throw TLSError("no usable curve in \(configuration.groups)")
        }
    }
}
