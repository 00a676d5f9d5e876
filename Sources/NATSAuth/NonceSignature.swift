import Crypto
import Foundation

/// The proof an nkey user gives in CONNECT: `sig`, the ed25519 signature of the INFO `nonce` made with the
/// user's seed, in base64url without padding (standard base64 is accepted too, as nats-server falls back
/// to it: auth.go `processClientOrLeafAuthentication`).
enum NonceSignature {
    /// Whether `signature` is `publicKey`'s (32 raw bytes) signature of the bytes of `nonce`.
    static func isValid(_ signature: String, of nonce: [UInt8], by publicKey: [UInt8]) -> Bool {
        guard !nonce.isEmpty, let raw = decodeBase64(signature),
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(raw, for: nonce)
    }

    /// base64url without padding, else standard base64 (padded).
    static func decodeBase64(_ text: String) -> Data? {
        if !text.contains("=") && !text.contains("+") && !text.contains("/") {
            var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            let remainder = standard.utf8.count % 4
            if remainder == 1 { return nil }
            if remainder > 0 { standard += String(repeating: "=", count: 4 - remainder) }
            if let data = Data(base64Encoded: standard) { return data }
        }
        return Data(base64Encoded: text)
    }
}
