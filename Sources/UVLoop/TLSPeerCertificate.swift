import CTLS

/// What a peer's certificate says about who the peer is: its subject alternative names and the attributes
/// of its subject, read once the handshake verified the certificate (the server maps them to a user,
/// `tls { verify_and_map }`).
public struct TLSPeerCertificate: Sendable, Equatable {
    /// One attribute of the subject, in certificate (ASN.1) order.
    public struct Attribute: Sendable, Equatable {
        /// The attribute type as a dotted OID ("2.5.4.3" for CN).
        public var oid: String
        /// The value as UTF-8; nil when it is not a character string.
        public var value: String?
        /// The RDN it belongs to: attributes of one multi-valued RDN share the number.
        public var rdn: Int

        public init(oid: String, value: String?, rdn: Int) {
            self.oid = oid
            self.value = value
            self.rdn = rdn
        }
    }

    public var emailAddresses: [String] = []
    public var dnsNames: [String] = []
    public var uris: [String] = []
    public var subject: [Attribute] = []

    public init() {}
}

extension TLSSession {
    /// The peer's certificate, nil without one (no TLS, the handshake not done, or none was asked for).
    var peerCertificate: TLSPeerCertificate? {
        guard let raw, CTLS_session_peer_subject_count(raw) >= 0 else { return nil }
        var certificate = TLSPeerCertificate()
        certificate.emailAddresses = TLSSession.texts { CTLS_session_peer_alt_name(raw, Int32(CTLS_ALT_NAME_EMAIL), $0, $1, $2) }
        certificate.dnsNames = TLSSession.texts { CTLS_session_peer_alt_name(raw, Int32(CTLS_ALT_NAME_DNS), $0, $1, $2) }
        certificate.uris = TLSSession.texts { CTLS_session_peer_alt_name(raw, Int32(CTLS_ALT_NAME_URI), $0, $1, $2) }
        for index in 0..<CTLS_session_peer_subject_count(raw) {
            var rdn: Int32 = 0
            var oid = [CChar](repeating: 0, count: 128)
            let value = TLSSession.text { buffer, capacity in
                CTLS_session_peer_subject_attribute(raw, index, &rdn, &oid, oid.count, buffer, capacity)
            }
            let oidText = oid.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            certificate.subject.append(.init(oid: oidText, value: value, rdn: Int(rdn)))
        }
        return certificate
    }

    /// The texts a C getter returns for indexes 0, 1, … until it returns a negative length.
    private static func texts(_ get: (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int) -> [String] {
        var result: [String] = []
        var index: Int32 = 0
        while let text = text({ get(index, $0, $1) }) {
            result.append(text)
            index += 1
        }
        return result
    }

    /// The text a C getter copies out (its full length returned, negative for none), fetched again into a
    /// larger buffer when the first did not hold it all; invalid UTF-8 is repaired.
    private static func text(_ get: (UnsafeMutablePointer<CChar>?, Int) -> Int) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        var length = get(&buffer, buffer.count)
        guard length >= 0 else { return nil }
        if length > buffer.count {
            buffer = [CChar](repeating: 0, count: length)
            length = get(&buffer, buffer.count)
            guard length >= 0 else { return nil }
        }
        return buffer.prefix(min(length, buffer.count)).withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }
}

extension TCPConnection {
    /// The peer's certificate (subject and alternative names), nil without TLS or a certificate.
    public var tlsPeerCertificate: TLSPeerCertificate? { tls?.peerCertificate }
}
