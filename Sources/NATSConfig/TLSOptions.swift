/// The `tls { … }` block (and the `--tls*` flags): TLS for client connections, as nats-server configures it.
///
/// Names stay nats-server's (Go's): cipher suites such as `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`, curves
/// such as `CurveP256`. `openSSLCipherSuites` and `openSSLGroups` translate them for OpenSSL.
public struct TLSOptions: Sendable, Equatable {
    public var certFile = ""
    public var keyFile = ""
    public var caFile = ""
    /// Clients must present a certificate signed by `caFile` (`verify`, `--tlsverify`).
    public var verify = false
    /// `verify_and_map`: `verify`, and a client is the `users` entry its certificate names (an email or DNS
    /// SAN, or the subject's DN), not the one its CONNECT names. In `cluster { tls }`: a route is authorized
    /// when its certificate names the cluster `authorization` user (`CertificateIdentity.namesRouteUser`).
    public var verifyAndMap = false
    /// Seconds a client has to complete the handshake; nats-server's default is 2 (`TLS_TIMEOUT`).
    public var timeoutSeconds: Double = 2
    /// Lowest protocol version: "1.2" (the default) or "1.3".
    public var minVersion = TLSOptions.version12
    /// TLS 1.2 cipher suites by Go name, in order of preference; empty: nats-server's defaults.
    public var cipherSuites: [String] = []
    /// Key exchange curves by Go name, in order of preference; empty: nats-server's defaults.
    public var curvePreferences: [String] = []
    /// The handshake comes before INFO (`handshake_first: true`).
    public var handshakeFirst = false
    /// Where the block was written (nil for flags): certificate errors at start-up point there, as
    /// nats-server's do.
    public var position: ConfigPosition?

    public init() {}

    public static let version12 = "1.2"
    public static let version13 = "1.3"

    /// Go's cipher suite names nats-server accepts, with OpenSSL's name for each. TLS 1.3 suites map to
    /// nil: Go does not let them be chosen, so nats-server accepts and ignores them, as natsd does.
    public static let cipherSuiteNames: [String: String?] = [
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
        "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
        "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
        "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
        "TLS_AES_128_GCM_SHA256": nil,
        "TLS_AES_256_GCM_SHA384": nil,
        "TLS_CHACHA20_POLY1305_SHA256": nil,
    ]

    /// Go's curve names nats-server accepts, with OpenSSL's group name for each.
    public static let curveNames: [String: String] = [
        "X25519": "X25519",
        "CurveP256": "P-256",
        "CurveP384": "P-384",
        "CurveP521": "P-521",
    ]

    /// `cipherSuites` as OpenSSL names (TLS 1.3 suites dropped); empty: OpenSSL's defaults as natsd sets them.
    public var openSSLCipherSuites: [String] {
        cipherSuites.compactMap { TLSOptions.cipherSuiteNames[$0] ?? nil }
    }

    /// `curvePreferences` as OpenSSL group names.
    public var openSSLGroups: [String] {
        curvePreferences.compactMap { TLSOptions.curveNames[$0] }
    }
}
