/// A verified client certificate as `tls { verify_and_map: true }` reads it: the names it may map to a user.
package struct CertificateIdentity: Sendable, Equatable {
    /// One attribute of the subject, in certificate (ASN.1) order.
    package struct Attribute: Sendable, Equatable {
        /// The attribute type as a dotted OID ("2.5.4.3" for CN).
        package var oid: String
        /// The value; nil when it is not a character string.
        package var value: String?
        /// The RDN it belongs to: attributes of one multi-valued RDN share the number.
        package var rdn: Int

        package init(oid: String, value: String?, rdn: Int) {
            self.oid = oid
            self.value = value
            self.rdn = rdn
        }
    }

    package var emailAddresses: [String]
    package var dnsNames: [String]
    package var uris: [String]
    package var subject: [Attribute]

    package init(emailAddresses: [String] = [], dnsNames: [String] = [], uris: [String] = [], subject: [Attribute] = []) {
        self.emailAddresses = emailAddresses
        self.dnsNames = dnsNames
        self.uris = uris
        self.subject = subject
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
        for name in certificate.emailAddresses + certificate.dnsNames + certificate.uris where users[name] != nil {
            return name
        }
        if let subjectDN = DistinguishedName(certificateSubject: certificate.subject) {
            // Config order, where nats-server walks a map: only users whose names are equal DNs compete.
            let candidates = userNames.compactMap { name in DistinguishedName(parsing: name).map { (name, $0) } }
            if let (name, _) = candidates.first(where: { $0.1 == subjectDN }) { return name }
            if let (name, _) = candidates.first(where: { $0.1.hasSameRDNs(as: subjectDN) }) { return name }
        }
        let printed = DistinguishedName.goSubjectString(certificate.subject)
        let domainComponents = certificate.subject.compactMap { attribute in
            attribute.oid == DistinguishedName.domainComponentOID ? attribute.value.map { "DC=\($0)" } : nil
        }
        if !domainComponents.isEmpty {
            let withComponents = ([printed] + domainComponents).joined(separator: ",")
            if users[withComponents] != nil { return withComponents }
        }
        // nats-server finds no identity in a certificate without SANs and with an empty subject.
        if certificate.subject.isEmpty && certificate.emailAddresses.isEmpty && certificate.dnsNames.isEmpty
            && certificate.uris.isEmpty { return nil }
        return users[printed] != nil ? printed : nil
    }
}
