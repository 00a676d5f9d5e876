import NATSConfig
import CCrypt

/// Checks client credentials against the single user/password or token the operator configured.
/// Passwords may be stored as bcrypt hashes (`$2a$…`), verified with libcrypt's `crypt_r`.
package struct Authenticator {
    package let username: String
    package let password: String
    package let token: String

    package init(options: ServerOptions) {
        username = options.username
        password = options.password
        token = options.authToken
    }

    package var isRequired: Bool { !username.isEmpty || !token.isEmpty }

    package func authorize(user: String, pass: String, authToken: String) -> Bool {
        if !token.isEmpty {
            return Authenticator.secretMatches(stored: token, offered: authToken)
        }
        if !username.isEmpty {
            return user == username && Authenticator.secretMatches(stored: password, offered: pass)
        }
        return true
    }

    /// Compares an offered secret with the configured one, which may be a bcrypt hash.
    package static func secretMatches(stored: String, offered: String) -> Bool {
        if isBcryptHash(stored) { return bcryptVerify(hash: stored, password: offered) }
        return constantTimeEquals(Array(stored.utf8), Array(offered.utf8))
    }

    package static func isBcryptHash(_ text: String) -> Bool {
        text.hasPrefix("$2a$") || text.hasPrefix("$2b$") || text.hasPrefix("$2y$")
    }

    /// crypt_r re-hashes the password with the salt and cost embedded in `hash`; equal output means a match.
    package static func bcryptVerify(hash: String, password: String) -> Bool {
        let data = UnsafeMutablePointer<crypt_data>.allocate(capacity: 1)
        defer { data.deallocate() }
        UnsafeMutableRawPointer(data).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<crypt_data>.size)
        guard let result = crypt_r(password, hash, data) else { return false }
        let computed = String(cString: result)
        // crypt_r signals failure with a string starting with "*".
        if computed.hasPrefix("*") { return false }
        return constantTimeEquals(Array(computed.utf8), Array(hash.utf8))
    }

    package static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
