import NATSConfig
import Testing
@testable import NATSAuth

/// `verify_and_map`: which user a certificate maps to, in nats-server's order (auth.go
/// `checkClientTLSCertSubject`). The black-box test_tls_map.py checks the same against nats-server.
struct CertificateMappingTests {
    private func authenticator(_ names: [String]) -> Authenticator {
        var options = ServerOptions()
        options.users = names.map { ServerOptions.User(username: $0, password: "") }
        var tls = TLSOptions()
        tls.verifyAndMap = true
        options.tls = tls
        return Authenticator(options: options)
    }

    /// Subject attributes in certificate order (least specific first), one RDN each.
    private func subject(_ pairs: [(String, String)]) -> [[CertificateIdentity.SubjectAttribute]] {
        let oids = ["C": "2.5.4.6", "O": "2.5.4.10", "OU": "2.5.4.11", "CN": "2.5.4.3", "DC": "0.9.2342.19200300.100.1.25",
                    "E": "1.2.840.113549.1.9.1"]
        return pairs.map { [(oid: oids[$0.0]!, value: $0.1)] }
    }

    @Test func sansComeFirstInNATSServersOrder() {
        // Email, DNS and URI SANs, in that order (NATSServer's CertificateIdentity+TLS lists them so).
        let certificate = CertificateIdentity(alternativeNames: ["a@x.io", "x.io", "spiffe://x/a"],
                                              subjectRDNs: subject([("CN", "a")]))
        #expect(authenticator(["spiffe://x/a", "x.io", "a@x.io", "CN=a"]).mappedUser(certificate) == "a@x.io")
        #expect(authenticator(["spiffe://x/a", "x.io", "CN=a"]).mappedUser(certificate) == "x.io")
        #expect(authenticator(["spiffe://x/a", "CN=a"]).mappedUser(certificate) == "spiffe://x/a")
        #expect(authenticator(["CN=a"]).mappedUser(certificate) == "CN=a")
        #expect(authenticator(["a", "b@x.io"]).mappedUser(certificate) == nil)
    }

    @Test func distinguishedNamesMatchInOrderThenInAnyOrder() {
        let certificate = CertificateIdentity(subjectRDNs: subject([("C", "US"), ("O", "Acme"), ("CN", "bob")]))
        #expect(authenticator(["cn=bob, o=Acme, c=US"]).mappedUser(certificate) == "cn=bob, o=Acme, c=US")
        #expect(authenticator(["C=US,O=Acme,CN=bob", "CN=bob,O=Acme,C=US"]).mappedUser(certificate) == "CN=bob,O=Acme,C=US")
        #expect(authenticator(["C=US,O=Acme,CN=bob"]).mappedUser(certificate) == "C=US,O=Acme,CN=bob")
        // Values compare exactly; a missing or extra RDN is no match.
        #expect(authenticator(["CN=Bob,O=Acme,C=US", "CN=bob,O=Acme", "CN=bob,O=Acme,C=US,OU=x"]).mappedUser(certificate) == nil)
    }

    @Test func domainComponentsAndGoPrintedSubject() {
        // An email attribute in the subject is not a type nats-server compares as a DN; Go's printed subject
        // leaves it out, and the domain components are appended in certificate order.
        let certificate = CertificateIdentity(subjectRDNs: subject([("DC", "io"), ("DC", "nats"), ("O", "A,B"), ("CN", " c"),
                                                                ("E", "c@nats.io")]))
        #expect(authenticator(["CN=\\ c,O=A\\,B,DC=io,DC=nats"]).mappedUser(certificate) == "CN=\\ c,O=A\\,B,DC=io,DC=nats")
        #expect(authenticator(["CN=\\ c,O=A\\,B"]).mappedUser(certificate) == "CN=\\ c,O=A\\,B")
    }

    @Test func loginNeedsAMappedCertificate() {
        let auth = authenticator(["a@x.io"])
        let certificate = CertificateIdentity(alternativeNames: ["a@x.io"])
        let login = auth.login(user: "", pass: "", authToken: "", nkey: "", signature: "", nonce: [], certificate: certificate)
        #expect(login?.user == "a@x.io")
        #expect(auth.login(user: "a@x.io", pass: "", authToken: "", nkey: "", signature: "", nonce: []) == nil)
        #expect(auth.login(user: "", pass: "x", authToken: "", nkey: "", signature: "", nonce: [], certificate: certificate) == nil)
    }

    @Test func routeCertificateNamesTheClusterUser() {
        // `cluster { tls { verify_and_map } }`: any SAN, the printed subject with its domain components, or the
        // printed subject alone; never a DN that is only equal as a DN (nats-server's isRouterAuthorized).
        let certificate = CertificateIdentity(alternativeNames: ["node@x.io", "node.x.io"],
                                              subjectRDNs: subject([("DC", "io"), ("O", "Acme"), ("CN", "node")]))
        for user in ["node@x.io", "node.x.io", "CN=node,O=Acme,DC=io", "CN=node,O=Acme"] {
            #expect(certificate.namesRouteUser(user), "\(user)")
        }
        for user in ["", "cn=node,o=Acme", "CN=node, O=Acme", "O=Acme,CN=node", "CN=node", "x.io"] {
            #expect(!certificate.namesRouteUser(user), "\(user)")
        }
        // Nothing to name a user: no SANs, an empty subject.
        #expect(!CertificateIdentity().namesRouteUser("CN="))
    }

    @Test(arguments: ["CN", "CN=a\\4", "=a", "CN=#04", "CN=a,b"])
    func malformedDNsDoNotParse(_ text: String) {
        #expect(DistinguishedName(parsing: text) == nil)
    }
}
