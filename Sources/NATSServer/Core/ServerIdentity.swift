/// Random identities in nats-server's shapes: a server id looks like an nkey public key (56 characters
/// of base32, starting with `N`), a nonce is URL-safe base64 text.
enum ServerIdentity {
    private static let base32: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
    private static let base64url: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func newServerID() -> String {
        var generator = SystemRandomNumberGenerator()
        var text: [UInt8] = [UInt8(ascii: "N")]
        for _ in 0..<55 { text.append(base32[Int(generator.next() % 32)]) }
        return String(decoding: text, as: UTF8.self)
    }

    static func newNonce(length: Int = 11) -> String {
        var generator = SystemRandomNumberGenerator()
        let text = (0..<length).map { _ in base64url[Int(generator.next() % 64)] }
        return String(decoding: text, as: UTF8.self)
    }
}

/// A fast non-cryptographic generator for queue member choice on the per-message path
/// (SystemRandomNumberGenerator makes a system call per draw).
struct FastRandom {
    private var state: UInt64

    init(seed: UInt64 = UInt64.random(in: 1...UInt64.max)) { state = seed | 1 }

    /// xorshift64*: plenty for spreading messages across queue members.
    @inline(__always)
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }

    /// A value in 0..<bound (bound > 0); the tiny modulo bias does not matter for load spreading.
    @inline(__always)
    mutating func next(below bound: Int) -> Int { Int(truncatingIfNeeded: next() % UInt64(bound)) }
}
