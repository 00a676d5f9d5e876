import Testing
@testable import NATSAuth

/// Nkey public keys: base32, prefix byte and CRC16, with vectors made by the `nkeys` PyPI package (the one
/// nats-py signs with): seeds of raw bytes 0…31 and 32 × 0xAB.
@Suite struct NKeyTests {
    static let user = "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLKK"
    static let userRaw = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
    static let account = "AAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3QPZV"
    static let server = "NAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RSWB"
    static let otherUser = "UASIVS63V6PAKAMW3ZYEX2RNNB3Q4UMRKDIQHNMH3LRNTSWVHXMTB766"
    static let otherRaw = "248acbdbaf9e050196de704bea2d68770e519150d103b587dae2d9cad53dd930"

    static func hex(_ bytes: [UInt8]?) -> String? {
        bytes.map { $0.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }
    }

    @Test func decodesKnownPublicKeys() {
        #expect(Self.hex(NKey.publicKey(Self.user, role: .user)) == Self.userRaw)
        #expect(Self.hex(NKey.publicKey(Self.otherUser, role: .user)) == Self.otherRaw)
        #expect(Self.hex(NKey.publicKey(Self.account, role: .account)) == Self.userRaw)
        #expect(Self.hex(NKey.publicKey(Self.server, role: .server)) == Self.userRaw)
        #expect(NKey.isValidUserKey(Self.user))
    }

    @Test func refusesTheWrongRole() {
        #expect(NKey.publicKey(Self.account, role: .user) == nil)
        #expect(NKey.publicKey(Self.user, role: .account) == nil)
        #expect(!NKey.isValidUserKey(Self.server))
    }

    @Test(arguments: [
        "", "U", "UABC",
        // One character changed: the checksum no longer matches.
        "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLKA",
        "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLKL",
        "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY4RLKK",
        // Lower case, padding, a character outside the alphabet, one too short, one too long.
        "uab2cb576phbbpq5odorrz2lycmwpzgwgcn2kdk7dxoimzaskuy3rlkk",
        "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLKK=",
        "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLK1",
        "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLK",
        "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLKKA",
        // A seed is not a public key.
        "SUAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H776Y",
    ])
    func refusesMalformedKeys(_ text: String) {
        #expect(!NKey.isValidUserKey(text))
    }

    @Test func crc16IsXmodem() {
        // The standard check value of CRC-16/XMODEM.
        #expect(NKey.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(NKey.crc16([UInt8]()) == 0)
    }

    @Test func base32RoundTrips() {
        for length in 0..<12 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(NKey.base32Decode(NKey.base32Encode(bytes)) == bytes)
        }
        #expect(NKey.base32Encode(Array("foobar".utf8)) == "MZXW6YTBOI")
    }

    @Test func verifiesNonceSignatures() {
        // Signatures of the nonce "DVsVHNgQSTZQhw4" by the two seeds above (nkeys' sign, base64url).
        let nonce = Array("DVsVHNgQSTZQhw4".utf8)
        let signature = "sZV_nFT-E6jWDnV4YK8hOGfLY-Cui7WCd9EnS0_1YEhu6e2p44BEUguP7uylwgiXcNrXgJZPBscgkpImYEXXDg"
        let other = "951e0cwkn3I74WNAOg6EcgnToe6oxFQMJivNDKTo9VE1GEBiqBmlqp1T7u8D8UDUuaUsIMlXAQCk-Un_4bmUDw"
        let key = NKey.publicKey(Self.user, role: .user)!
        #expect(NonceSignature.isValid(signature, of: nonce, by: key))
        #expect(NonceSignature.isValid(other, of: nonce, by: NKey.publicKey(Self.otherUser, role: .user)!))
        #expect(!NonceSignature.isValid(other, of: nonce, by: key))
        #expect(!NonceSignature.isValid(signature, of: Array("DVsVHNgQSTZQhw5".utf8), by: key))
        #expect(!NonceSignature.isValid(signature, of: [], by: key))
        #expect(!NonceSignature.isValid("", of: nonce, by: key))
        #expect(!NonceSignature.isValid("@@@", of: nonce, by: key))
        // Standard base64 with padding is accepted too.
        let standard = signature.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "=="
        #expect(NonceSignature.isValid(standard, of: nonce, by: key))
    }
}
