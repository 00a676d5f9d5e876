import NATSConfig
import CCrypt

/// Checks client credentials against what the operator configured: a list of users (with names and
/// passwords, or nkeys), one user, or a token (`ServerOptions.validate` guarantees at most one of these).
/// Passwords and tokens may be stored as bcrypt hashes (`$2a$…`), verified with libcrypt's `crypt_r`; nkey
/// users sign the nonce of their INFO (`NonceSignature`). A login carries the user's permissions.
package struct Authenticator {
    package let username: String
    package let password: String
    package let token: String
    /// Password (plain or bcrypt) by user name, from `authorization { users = [...] }`.
    package let users: [String: String]
    /// Compiled permissions by user name, for the users that have some.
    let userRules: [String: PermissionRules]
    /// The account of each user that belongs to an `accounts` entry, by user name (others are in `$G`).
    let userAccounts: [String: String]
    /// The nkey entries of `users`, by public key (as written).
    let nkeys: [String: NkeyEntry]
    /// The `authorization` block's permissions, for logins that are not `users` entries (the single user,
    /// the token holder, or anyone when no authentication is configured).
    package let defaultRules: PermissionRules?
    /// `no_auth_user`: the entry of `users` a client without credentials logs in as; empty for none.
    package let noAuthUser: String
    /// `tls { verify_and_map: true }`: with a users list, a client is the user its certificate maps to
    /// (`mappedUser`), not the one its CONNECT names.
    package let mapsCertificates: Bool
    /// The names of `users` in config order (certificate mapping tries DN-shaped names in this order).
    let userNames: [String]

    struct NkeyEntry: Sendable {
        /// The 32 raw ed25519 key bytes; nil for a malformed key (`check` refuses such a config).
        let publicKey: [UInt8]?
        let rules: PermissionRules?
        let account: String
    }

    /// Who a client logged in as, and what it may do.
    package struct Login: Sendable {
        /// nil: no restriction.
        package let rules: PermissionRules?
        /// The account the client is bound to; empty: the global account `$G`.
        package let account: String
        /// The user name (or nkey) it logged in as; empty without a users list (`/connz?auth=1`'s
        /// `authorized_user`).
        package let user: String

        package init(rules: PermissionRules?, account: String = "", user: String = "") {
            self.rules = rules
            self.account = account
            self.user = user
        }
    }

    package init(options: ServerOptions) {
        username = options.username
        password = options.password
        token = options.authToken
        // Names are unique (the config reader refuses duplicates); the last one wins should a caller build
        // options by hand.
        users = Dictionary(options.users.map { ($0.username, $0.password) }, uniquingKeysWith: { $1 })
        userRules = Dictionary(options.users.compactMap { user in user.permissions.map { (user.username, PermissionRules($0)) } },
                               uniquingKeysWith: { $1 })
        nkeys = Dictionary(options.nkeyUsers.map { user in
            (user.publicKey, NkeyEntry(publicKey: NKey.publicKey(user.publicKey, role: .user),
                                       rules: user.permissions.map(PermissionRules.init), account: user.account))
        }, uniquingKeysWith: { $1 })
        userAccounts = Dictionary(options.users.compactMap { $0.account.isEmpty ? nil : ($0.username, $0.account) },
                                  uniquingKeysWith: { $1 })
        defaultRules = options.defaultPermissions.map(PermissionRules.init)
        noAuthUser = options.noAuthUser
        mapsCertificates = options.tls?.verifyAndMap ?? false
        userNames = options.users.map(\.username)
    }

    /// Refuses what the config reader could not check without NATSAuth: an nkey that is not a user's public
    /// key ("Not a valid public nkey for a user", nats-server's message, at the entry).
    package static func check(_ options: ServerOptions) throws(ConfigError) {
        for user in options.nkeyUsers where !NKey.isValidUserKey(user.publicKey) {
            throw ConfigError("Not a valid public nkey for a user", at: user.position)
        }
    }

    /// The account of the `nkeys` or `users` entry called `name` (a public nkey or a user name): nil when the
    /// config has no such entry, `""` for the global account. A reload disconnects a client whose entry is
    /// gone or moved to another account (nats-server's `clientHasMovedToDifferentAccount`).
    package func accountOfEntry(named name: String) -> String? {
        if let entry = nkeys[name] { return entry.account }
        guard users[name] != nil else { return nil }
        return userAccounts[name] ?? ""
    }

    /// Whether every client is authenticated (and held to the authentication timeout until it is).
    package var isRequired: Bool { !users.isEmpty || !nkeys.isEmpty || !username.isEmpty || !token.isEmpty }

    /// Whether client INFO carries a `nonce` to sign: only with nkey users, as nats-server (`nonceRequired`).
    package var requiresNonce: Bool { !nkeys.isEmpty }

    /// What client INFO says in `auth_required`: false with a `no_auth_user`, since a client may then connect
    /// without credentials (nats-server's `copyInfo` clears it per client; /varz still says true).
    package var clientsNeedCredentials: Bool { isRequired && !hasNoAuthUser }

    /// Whether a client without credentials is logged in as `noAuthUser` (only with a users list: `validate`
    /// refuses `no_auth_user` otherwise).
    package var hasNoAuthUser: Bool { !noAuthUser.isEmpty && (!users.isEmpty || !nkeys.isEmpty) }

    /// The user name and password a client offering no credentials logs in with when `noAuthUser` is a users
    /// entry (nil otherwise, and with `verify_and_map`, where the certificate decides). nats-server copies
    /// them into the client's CONNECT options (auth.go `processClientOrLeafAuthentication`), so a reload
    /// checks the client against the password it logged in with: a changed one refuses it.
    package var noAuthUserCredentials: (user: String, pass: String)? {
        guard hasNoAuthUser, !mapsCertificates, nkeys[noAuthUser] == nil, let stored = users[noAuthUser] else {
            return nil
        }
        return (noAuthUser, stored)
    }

    /// Logs a client in with its CONNECT credentials: nil when they are refused. The rules are nats-server's
    /// (auth.go `processClientOrLeafAuthentication`):
    /// - an `nkey` names an nkey user, whose `sig` must be its signature of `nonce`; an unknown nkey is
    ///   refused even when a user name is offered too;
    /// - otherwise `authorize` decides (users list, token, single user);
    /// - with a `no_auth_user` that is an nkey, a client offering nothing logs in as it without a signature;
    /// - with `verify_and_map` and a users list, a client that is not an nkey user is the user its
    ///   `certificate` maps to (nil without one: refused), and must offer that user's password (none for a
    ///   user without one), whatever user name it offers.
    package func login(user: String, pass: String, authToken: String, nkey: String, signature: String,
                       nonce: [UInt8], certificate: CertificateIdentity? = nil) -> Login? {
        if !nkeys.isEmpty {
            var key = nkey
            let offersNothing = user.isEmpty && pass.isEmpty && authToken.isEmpty && nkey.isEmpty
            if offersNothing && hasNoAuthUser && nkeys[noAuthUser] != nil { key = noAuthUser }
            if !key.isEmpty {
                guard let entry = nkeys[key], let publicKey = entry.publicKey else { return nil }
                if key != noAuthUser || !offersNothing {
                    guard NonceSignature.isValid(signature, of: nonce, by: publicKey) else { return nil }
                }
                return Login(rules: entry.rules, account: entry.account, user: key)
            }
            if users.isEmpty { return nil }
        }
        if mapsCertificates && !users.isEmpty {
            guard let certificate, let name = mappedUser(certificate), let stored = users[name],
                  Authenticator.secretMatches(stored: stored, offered: pass) else { return nil }
            return Login(rules: userRules[name], account: userAccounts[name] ?? "", user: name)
        }
        guard authorize(user: user, pass: pass, authToken: authToken) else { return nil }
        if !users.isEmpty {
            let name = user.isEmpty && pass.isEmpty && authToken.isEmpty && hasNoAuthUser ? noAuthUser : user
            return Login(rules: userRules[name], account: userAccounts[name] ?? "", user: name)
        }
        return Login(rules: defaultRules, user: username.isEmpty ? "" : user)
    }

    /// Whether a client's CONNECT credentials log it in (nats-server's rules: with a users list the name picks
    /// the entry and its password must match; otherwise the token, or the single user and password).
    ///
    /// With a `no_auth_user`, a client offering no user, password or token logs in as that user: as in
    /// nats-server (auth.go `processClientOrLeafAuthentication`), the user's stored password is then checked
    /// against itself, so a `no_auth_user` whose password is a bcrypt hash admits no anonymous client.
    package func authorize(user: String, pass: String, authToken: String) -> Bool {
        if !users.isEmpty {
            if hasNoAuthUser && user.isEmpty && pass.isEmpty && authToken.isEmpty, let stored = users[noAuthUser] {
                return Authenticator.secretMatches(stored: stored, offered: stored)
            }
            guard let stored = users[user] else { return false }
            return Authenticator.secretMatches(stored: stored, offered: pass)
        }
        if !token.isEmpty {
            return Authenticator.secretMatches(stored: token, offered: authToken)
        }
        if !username.isEmpty {
            return user == username && Authenticator.secretMatches(stored: password, offered: pass)
        }
        return true
    }

    /// Compares an offered secret with the configured one, which may be a bcrypt hash. A secret containing a
    /// NUL byte never matches: the config cannot hold one, and C's crypt_r would stop reading at the NUL, so
    /// `secret\0anything` would pass a bcrypt check of `secret`.
    package static func secretMatches(stored: String, offered: String) -> Bool {
        if offered.utf8.contains(0) { return false }
        if isBcryptHash(stored) { return bcryptVerify(hash: stored, password: offered) }
        return constantTimeEquals(Array(stored.utf8), Array(offered.utf8))
    }

    package static func isBcryptHash(_ text: String) -> Bool {
        text.hasPrefix("$2a$") || text.hasPrefix("$2b$") || text.hasPrefix("$2y$")
    }

    /// crypt_r re-hashes the password with the salt and cost embedded in `hash`; equal output means a match.
    /// Passwords or hashes containing NUL are refused: crypt_r reads C strings and would cut them short.
    package static func bcryptVerify(hash: String, password: String) -> Bool {
        if password.utf8.contains(0) || hash.utf8.contains(0) { return false }
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
