import NATSAuth
import UVLoop

extension CertificateIdentity {
    /// What the authenticator maps to a user, from what the TLS layer read of the client's certificate.
    init(_ certificate: TLSPeerCertificate) {
        self.init(emailAddresses: certificate.emailAddresses, dnsNames: certificate.dnsNames, uris: certificate.uris,
                  subject: certificate.subject.map { Attribute(oid: $0.oid, value: $0.value, rdn: $0.rdn) })
    }
}
