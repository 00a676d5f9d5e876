/// A verified client certificate as `tls { verify_and_map: true }` reads it: the names it may map to a user.
package struct CertificateIdentity: Sendable {
    /// One subject attribute: its type as a dotted OID ("2.5.4.3" for CN) and its value (nil when it is not
    /// a character string).
    package typealias SubjectAttribute = (oid: String, value: String?)

    /// The subject alternative names in the order nats-server tries them: email addresses, DNS names, URIs.
    package var alternativeNames: [String]
    /// The subject's RDNs in certificate (ASN.1) order, least specific first; each the attributes of one RDN.
    package var subjectRDNs: [[SubjectAttribute]]

    package init(alternativeNames: [String] = [], subjectRDNs: [[SubjectAttribute]] = []) {
        self.alternativeNames = alternativeNames
        self.subjectRDNs = subjectRDNs
    }
}

extension Authenticator {
    /// The `users` entry a client certificate maps to, nil for none. nats-server's order (auth.go
    /// `checkClientTLSCertSubject` and the mapping function of `processClientOrLeafAuthentication`), the
    /// first match wins:
    /// 1. a user named exactly as an email SAN, then a DNS SAN, then a URI SAN;
    /// 2. a user whose name parses as an RFC 4514 DN equal to the subject's DN (RDNs in the same order,
    ///    attribute types case-insensitive, values exact), then one with the same RDNs in any order; only
    ///    when every subject attribute is of a type nats-server names (`DistinguishedName.typeNames`);
    /// 3. a user named as Go prints the subject (`DistinguishedName.goSubjectString`) followed by the
    ///    subject's domain components (`,DC=…`), when it has some;
    /// 4. a user named as Go prints the subject.
    package func mappedUser(_ certificate: CertificateIdentity) -> String? {
        for name in certificate.alternativeNames where users[name] != nil {
            return name
        }
        if let subjectDN = DistinguishedName(certificateSubject: certificate.subjectRDNs) {
            // Config order, where nats-server walks a map: only users whose names are equal DNs compete.
            let candidates = userNames.compactMap { name in DistinguishedName(parsing: name).map { (name, $0) } }
            if let (name, _) = candidates.first(where: { $0.1 == subjectDN }) { return name }
            if let (name, _) = candidates.first(where: { $0.1.hasSameRDNs(as: subjectDN) }) { return name }
        }
        return certificate.printedSubjectNames.first { users[$0] != nil }
    }
}

extension CertificateIdentity {
    /// Whether a route's verified certificate names the cluster's `authorization` user, `user`
    /// (`cluster { tls { verify_and_map: true } }`). nats-server's rule (auth.go `isRouterAuthorized`): the
    /// names of `checkClientTLSCertSubject` are tried as for clients, but the DN comparison never matches a
    /// route (its mapping function refuses the empty name it is called with), and a user's password is not
    /// asked for. No user configured: no certificate maps, every route is refused.
    package func namesRouteUser(_ user: String) -> Bool {
        guard !user.isEmpty else { return false }
        return alternativeNames.contains(user) || printedSubjectNames.contains(user)
    }

    /// The subject as Go prints it (`DistinguishedName.goSubjectString`), first followed by the subject's
    /// domain components (`,DC=…`) when it has some, then alone: the last names nats-server tries.
    /// Empty for a certificate without SANs and with an empty subject (nats-server finds no identity in it).
    var printedSubjectNames: [String] {
        let attributes = subjectRDNs.joined()
        if attributes.isEmpty && alternativeNames.isEmpty { return [] }
        let printed = DistinguishedName.goSubjectString(attributes)
        let domainComponents = attributes.compactMap { attribute in
            attribute.oid == DistinguishedName.domainComponentOID ? attribute.value.map { "DC=\($0)" } : nil
        }
        if domainComponents.isEmpty { return [printed] }
        return [([printed] + domainComponents).joined(separator: ","), printed]
    }
}
