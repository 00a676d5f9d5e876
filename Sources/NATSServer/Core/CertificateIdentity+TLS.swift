import NATSAuth
import UVLoop

extension CertificateIdentity {
    /// What the authenticator maps to a user, from what the TLS layer read of the client's certificate.
    init(_ certificate: TLSPeerCertificate) {
        var rdns: [[SubjectAttribute]] = []
        var current: Int?
        for attribute in certificate.subject {
            if attribute.rdn != current {
                rdns.append([])
                current = attribute.rdn
            }
            rdns[rdns.count - 1].append((attribute.oid, attribute.value))
        }
        self.init(alternativeNames: certificate.emailAddresses + certificate.dnsNames + certificate.uris, subjectRDNs: rdns)
    }
}
