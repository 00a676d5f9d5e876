import NATSConfig

/// An RFC 4514 distinguished name as nats-server compares them for `verify_and_map` (its internal/ldap
/// package): a list of RDNs, most specific first, each a set of type=value attributes.
struct DistinguishedName: Equatable {
    struct Attribute: Equatable {
        var type: String
        var value: String

        /// Types compare case-insensitively, values exactly (no normalisation, as nats-server).
        static func == (a: Attribute, b: Attribute) -> Bool {
            a.type.lowercased() == b.type.lowercased() && a.value == b.value
        }
    }

    /// Each RDN's attributes; their order within an RDN does not matter.
    var rdns: [[Attribute]]

    /// The attribute types nats-server names when it reads a certificate's subject as a DN, by OID; a
    /// subject with any other type is not compared as a DN.
    static let typeNames: [String: String] = [
        "2.5.4.3": "CN", "2.5.4.5": "SERIALNUMBER", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST",
        "2.5.4.9": "STREET", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.17": "POSTALCODE",
        domainComponentOID: "DC",
    ]
    static let domainComponentOID = "0.9.2342.19200300.100.1.25"

    /// The subject of a certificate, most specific RDN first (the reverse of the certificate's order, as
    /// the string form of RFC 4514 writes it); nil when an attribute has another type or a value that is
    /// not a string.
    init?(certificateSubject subject: [[CertificateIdentity.SubjectAttribute]]) {
        var rdns: [[Attribute]] = []
        for rdn in subject.reversed() where !rdn.isEmpty {
            var attributes: [Attribute] = []
            for attribute in rdn {
                guard let type = DistinguishedName.typeNames[attribute.oid], let value = attribute.value else { return nil }
                attributes.append(Attribute(type: type, value: value))
            }
            rdns.append(attributes)
        }
        self.rdns = rdns
    }

    /// Parses an RFC 4514 string as nats-server does: `,` ends an RDN, `+` an attribute, `\` escapes a
    /// special character or gives a byte as two hex digits, unescaped spaces around values are dropped;
    /// nil for a broken hex escape, a value without a type, or a `#` (BER) value.
    init?(parsing text: String) {
        let bytes = Array(text.utf8)
        var rdns: [[Attribute]] = []
        var rdn: [Attribute] = []
        var buffer: [UInt8] = []
        var type: String?
        var trailingSpaces = 0
        func take() -> String {
            let value = String(decoding: buffer.dropLast(trailingSpaces), as: UTF8.self)
            buffer.removeAll()
            trailingSpaces = 0
            return value
        }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\\"):
                trailingSpaces = 0
                // A backslash ending the text is dropped, as nats-server's parser does.
                guard index + 1 < bytes.count else { break }
                let next = bytes[index + 1]
                if Array(" \"#+,;<=>\\".utf8).contains(next) {
                    buffer.append(next)
                    index += 1
                } else {
                    guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
                    else { return nil }
                    buffer.append(high << 4 | low)
                    index += 2
                }
            case UInt8(ascii: "="):
                type = take()
                if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "#") { return nil }
            case UInt8(ascii: ","), UInt8(ascii: "+"):
                guard let attributeType = type, !attributeType.isEmpty else { return nil }
                rdn.append(Attribute(type: attributeType, value: take()))
                type = nil
                if byte == UInt8(ascii: ",") {
                    rdns.append(rdn)
                    rdn = []
                }
            case UInt8(ascii: " ") where buffer.isEmpty:
                break
            default:
                trailingSpaces = byte == UInt8(ascii: " ") ? trailingSpaces + 1 : 0
                buffer.append(byte)
            }
            index += 1
        }
        if !buffer.isEmpty {
            guard let attributeType = type, !attributeType.isEmpty else { return nil }
            rdn.append(Attribute(type: attributeType, value: take()))
            rdns.append(rdn)
        }
        self.rdns = rdns
    }

    /// Same RDNs, position by position (RFC 4517 distinguishedNameMatch).
    static func == (a: DistinguishedName, b: DistinguishedName) -> Bool {
        a.rdns.count == b.rdns.count && zip(a.rdns, b.rdns).allSatisfy(sameRDN)
    }

    /// Same RDNs in any order (nats-server's second chance for a DN written in another order).
    func hasSameRDNs(as other: DistinguishedName) -> Bool {
        guard rdns.count == other.rdns.count else { return false }
        var matched = [Bool](repeating: false, count: other.rdns.count)
        for rdn in rdns {
            guard let index = other.rdns.indices.first(where: { !matched[$0] && DistinguishedName.sameRDN(rdn, other.rdns[$0]) })
            else { return false }
            matched[index] = true
        }
        return true
    }

    private static func sameRDN(_ a: [Attribute], _ b: [Attribute]) -> Bool {
        a.count == b.count && a.allSatisfy { b.contains($0) } && b.allSatisfy { a.contains($0) }
    }

    /// The subject as Go's crypto/x509 prints it (`pkix.Name.ToRDNSequence().String()`), the string
    /// nats-server's mapping looks up last: only CN, SERIALNUMBER, C, ST, L, STREET, POSTALCODE, O and
    /// OU, one RDN per type in Go's fixed order (several values of a type joined by `+`), most specific
    /// first, RFC 2253 escapes.
    static func goSubjectString(_ subject: some Sequence<CertificateIdentity.SubjectAttribute>) -> String {
        var values: [String: [String]] = [:]
        for attribute in subject {
            guard let value = attribute.value, let type = typeNames[attribute.oid], type != "DC" else { continue }
            // A certificate's last CN and serial number win, as Go's parser keeps one of each.
            if type == "CN" || type == "SERIALNUMBER" { values[type] = [value] } else { values[type, default: []].append(value) }
        }
        let goOrder = ["C", "ST", "L", "STREET", "POSTALCODE", "O", "OU", "CN", "SERIALNUMBER"]
        return goOrder.reversed().compactMap { type in
            values[type].map { $0.map { "\(type)=\(goEscaped($0))" }.joined(separator: "+") }
        }.joined(separator: ",")
    }

    /// RFC 2253 escaping as Go writes it: `,+"\<>;` always, a space first or last, a `#` first.
    private static func goEscaped(_ value: String) -> String {
        var result = ""
        let last = value.utf8.count - 1
        var offset = 0
        for character in value.unicodeScalars {
            let escape: Bool
            switch character {
            case ",", "+", "\"", "\\", "<", ">", ";": escape = true
            case " ": escape = offset == 0 || offset == last
            case "#": escape = offset == 0
            default: escape = false
            }
            if escape { result.append("\\") }
            result.unicodeScalars.append(character)
            offset += String(character).utf8.count
        }
        return result
    }
}
