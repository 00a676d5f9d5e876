/// NATS nkey public keys, decoded as the nkeys spec defines them (github.com/nats-io/nkeys: strkey.go, crc16.go).
///
/// A public key is 56 characters of base32 (RFC 4648 alphabet, no padding) encoding 35 bytes: one prefix
/// byte (the key's role in its top five bits, so the text starts with `U` for a user, `A` an account, `N` a
/// server, `O` an operator, `C` a cluster), the 32-byte ed25519 public key, and a CRC16 of those 33 bytes
/// (XMODEM: polynomial 0x1021, initial value 0, no reflection), stored little-endian.
public enum NKey {
    /// The role a public key is for: its prefix byte is the raw value.
    public enum Role: UInt8, Sendable {
        case user = 0xA0  // 20 << 3, base32 'U'
        case account = 0x00  // 0 << 3, base32 'A'
        case server = 0x68  // 13 << 3, base32 'N'
        case `operator` = 0x70  // 14 << 3, base32 'O'
        case cluster = 0x10  // 2 << 3, base32 'C'
    }

    /// The 32 raw ed25519 public key bytes of `text` when it is a well-formed public key for `role`
    /// (length, alphabet, prefix and checksum all right); nil otherwise.
    public static func publicKey(_ text: String, role: Role) -> [UInt8]? {
        guard let raw = base32Decode(text), raw.count == 35, raw[0] == role.rawValue else { return nil }
        let stored = UInt16(raw[33]) | UInt16(raw[34]) << 8
        guard crc16(raw[0..<33]) == stored else { return nil }
        return Array(raw[1..<33])
    }

    /// Whether `text` is a well-formed user public key (nats-server's `nkeys.IsValidPublicUserKey`).
    public static func isValidUserKey(_ text: String) -> Bool {
        publicKey(text, role: .user) != nil
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// RFC 4648 base32 without padding; nil on a character outside the alphabet or leftover bits that are
    /// not zero (a non-canonical encoding). Go's decoder, which nkeys uses, is also strict about the length:
    /// 56 characters decode to 35 bytes exactly.
    static func base32Decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.utf8 {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
                buffer &= (1 << UInt32(bits)) - 1
            }
        }
        // Only whole characters' worth of left-over bits are allowed, and they must be zero.
        guard bits < 5, buffer == 0 else { return nil }
        return output
    }

    /// Base32 of `bytes` without padding (tests build keys with it).
    static func base32Encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                output.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
            }
            buffer &= (1 << UInt32(bits)) - 1
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: output, as: UTF8.self)
    }

    /// CRC16/XMODEM, as nkeys' crc16.go computes it.
    static func crc16<Bytes: Collection>(_ bytes: Bytes) -> UInt16 where Bytes.Element == UInt8 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }
}
