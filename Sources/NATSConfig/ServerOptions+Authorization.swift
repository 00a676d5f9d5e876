extension ServerOptions {
    /// One entry of `authorization { users = [ {user: …, password: …, permissions: …}, … ] }`.
    public struct User: Sendable, Equatable {
        public var username: String
        /// Plain text or a bcrypt hash (`$2a$…`); empty means the client must send no password.
        public var password: String
        /// The entry's own `permissions`, else the block's `default_permissions`; nil: no restriction.
        public var permissions: Permissions?
        /// The `accounts` entry the user belongs to; empty: the global account `$G`.
        public var account: String

        public init(username: String, password: String, permissions: Permissions? = nil, account: String = "") {
            self.username = username
            self.password = password
            self.permissions = permissions
            self.account = account
        }
    }

    /// One entry of `authorization { users = [ {nkey: "U…", permissions: …}, … ] }`: the client proves it
    /// holds the key's seed by signing the nonce of its INFO.
    public struct NkeyUser: Sendable, Equatable {
        /// The user's public nkey as written (56 characters of base32 starting with `U`); NATSAuth checks
        /// it when the server starts (`Authenticator.init`).
        public var publicKey: String
        public var permissions: Permissions?
        /// Where the entry was, for the error about a malformed key; nil when built by hand.
        public var position: ConfigPosition?
        /// The `accounts` entry the user belongs to; empty: the global account `$G`.
        public var account: String

        public init(publicKey: String, permissions: Permissions? = nil, position: ConfigPosition? = nil, account: String = "") {
            self.publicKey = publicKey
            self.permissions = permissions
            self.position = position
            self.account = account
        }
    }
}

/// The fields of one `authorization { … }` block, read the same way at the top level and in `cluster`; each
/// caller then decides which combinations it allows (nats-server's `parseAuthorization`).
struct AuthorizationBlock {
    var user = ""
    var password = ""
    var token = ""
    var timeoutSeconds: Double?
    /// nil without a `users` key; empty for `users = []`.
    var users: [ServerOptions.User]?
    /// The nkey entries of `users`.
    var nkeyUsers: [ServerOptions.NkeyUser] = []
    /// `default_permissions` (aliases `default_permission`, `permissions`), given to every entry of
    /// `users` without its own.
    var defaultPermissions: Permissions?
    var defaultPermissionsPosition: ConfigPosition?
    /// Where the `users` and `token` keys were, for errors about them.
    var usersPosition: ConfigPosition?
    var tokenPosition: ConfigPosition?

    /// Reads `entry`, a map; `path` names the block in errors (`authorization`, `cluster.authorization`) and
    /// `unsupported` says what to do with the keys natsd does not implement there.
    init(
        _ entry: ConfigEntry, path: String, unsupported: [String: UnsupportedConfigKey], _ reader: inout ConfigReader
    ) throws(ConfigError) {
        for field in try reader.map(entry).entries {
            let key = field.key.lowercased()
            switch key {
            case "user", "username": user = try reader.string(field)
            case "pass", "password": password = try reader.secret(field)
            case "token":
                token = try reader.secret(field)
                tokenPosition = field.position
            case "timeout": timeoutSeconds = try reader.authTimeout(field)
            case "users":
                (users, nkeyUsers) = try Self.users(field, path: path + ".users", &reader)
                usersPosition = field.position
            case "default_permission", "default_permissions", "permissions":
                if let policy = unsupported[key] {
                    // cluster.authorization: these are route permissions there.
                    try reader.handleUnsupported(field, path: "\(path).\(field.key)", policy: policy)
                } else {
                    defaultPermissions = try reader.permissions(field)
                    defaultPermissionsPosition = field.position
                }
            default:
                if let policy = unsupported[key] {
                    try reader.handleUnsupported(field, path: "\(path).\(field.key)", policy: policy)
                } else if !field.usedAsVariable {
                    throw ConfigError("unknown field \"\(field.key)\"", at: field.position)
                }
            }
        }
    }

    /// `users = [ {user, password, permissions} | {nkey, permissions}, … ]`, with nats-server's checks and
    /// messages (opts.go `parseUsers`); the nkey entries come back apart.
    static func users(
        _ field: ConfigEntry, path: String, _ reader: inout ConfigReader
    ) throws(ConfigError) -> ([ServerOptions.User], [ServerOptions.NkeyUser]) {
        guard case .array(let values) = field.value else {
            throw ConfigError("Expected users field to be an array, got \(field.value.typeName)", at: field.position)
        }
        var users: [ServerOptions.User] = []
        var nkeyUsers: [ServerOptions.NkeyUser] = []
        var names: Set<String> = []
        for value in values {
            guard case .map(let map) = value else {
                throw ConfigError("Expected user entry to be a map/struct, got \(value.typeName)", at: field.position)
            }
            var user = ServerOptions.User(username: "", password: "")
            var nkey = ""
            for entry in map.entries {
                let key = entry.key.lowercased()
                switch key {
                case "user", "username": user.username = try reader.string(entry)
                case "pass", "password": user.password = try reader.secret(entry)
                case "nkey": nkey = try reader.string(entry)
                case "permission", "permissions", "authorization": user.permissions = try reader.permissions(entry)
                default:
                    if let policy = UnsupportedConfigKey.userEntry[key] {
                        try reader.handleUnsupported(entry, path: "\(path).\(entry.key)", policy: policy)
                    } else if !entry.usedAsVariable {
                        throw ConfigError("unknown field \"\(entry.key)\"", at: entry.position)
                    }
                }
            }
            let position = map.entries.first?.position ?? field.position
            if !nkey.isEmpty {
                guard user.username.isEmpty && user.password.isEmpty else {
                    throw ConfigError("Nkey users do not take usernames or passwords", at: position)
                }
                guard names.insert(nkey).inserted else {
                    throw ConfigError("Duplicate nkey \"\(nkey)\" detected", at: position)
                }
                nkeyUsers.append(ServerOptions.NkeyUser(publicKey: nkey, permissions: user.permissions, position: position))
                continue
            }
            guard !user.username.isEmpty else { throw ConfigError("User entry requires a user", at: position) }
            guard names.insert(user.username).inserted else {
                throw ConfigError("Duplicate user \"\(user.username)\" detected", at: position)
            }
            users.append(user)
        }
        if users.isEmpty && nkeyUsers.isEmpty {
            // nats-server treats an empty list as no users at all: clients then need no credentials.
            reader.warn("field \"\(path)\" is empty: clients need no credentials", at: field.position)
        }
        return (users, nkeyUsers)
    }

    /// Gives `defaultPermissions` to every user entry without its own (nats-server's `applyDefaultPermissions`).
    mutating func applyDefaultPermissions() {
        guard let defaultPermissions else { return }
        if users != nil {
            for index in users!.indices where users![index].permissions == nil {
                users![index].permissions = defaultPermissions
            }
        }
        for index in nkeyUsers.indices where nkeyUsers[index].permissions == nil {
            nkeyUsers[index].permissions = defaultPermissions
        }
    }
}

extension ServerOptions {
    /// The top-level `authorization` block: one user, a token, or a users list (nats-server's rules for
    /// combining them).
    mutating func applyAuthorization(_ entry: ConfigEntry, _ reader: inout ConfigReader) throws(ConfigError) {
        var block = try AuthorizationBlock(
            entry, path: "authorization", unsupported: UnsupportedConfigKey.authorization, &reader)
        block.applyDefaultPermissions()
        if (!block.user.isEmpty || !block.password.isEmpty) && !block.token.isEmpty {
            throw ConfigError("Cannot have a user/pass and token", at: entry.position)
        }
        if let users = block.users {
            if !block.user.isEmpty {
                throw ConfigError("Can not have a single user/pass and a users array", at: entry.position)
            }
            if !block.token.isEmpty {
                throw ConfigError("Can not have a token and a users array", at: entry.position)
            }
            // Accounts' users may have been read already (the blocks come in file order).
            self.users += users
            nkeyUsers += block.nkeyUsers
        } else if let position = block.defaultPermissionsPosition {
            // nats-server reads the block's permissions and then applies them to nobody when there is no users
            // list, so its single user, token holder or anonymous client may do anything. Ignoring them would
            // run the server more open than configured: natsd holds every such client to them.
            reader.warn("field \"authorization.permissions\" applies to every client without a users entry "
                        + "(nats-server ignores it without a users list)", at: position)
        }
        defaultPermissions = block.defaultPermissions
        username = block.user
        password = block.password
        authToken = block.token
        if let timeout = block.timeoutSeconds {
            authTimeoutSeconds = timeout
            authTimeoutIsConfigured = true
        }
    }
}

extension ClusterOptions {
    /// `cluster { authorization { … } }`: only one user (the credentials routes present).
    mutating func applyAuthorization(_ entry: ConfigEntry, _ reader: inout ConfigReader) throws(ConfigError) {
        let block = try AuthorizationBlock(
            entry, path: "cluster.authorization", unsupported: UnsupportedConfigKey.clusterAuthorization, &reader)
        if let position = block.usersPosition {
            throw ConfigError("Cluster authorization does not allow multiple users", at: position)
        }
        if let position = block.tokenPosition {
            throw ConfigError("Cluster authorization does not support tokens", at: position)
        }
        username = block.user
        password = block.password
        if let timeout = block.timeoutSeconds {
            authTimeoutSeconds = timeout
            authTimeoutIsConfigured = true
        }
    }
}

extension ServerOptions {
    /// nats-server's `getDefaultAuthTimeout` (server/opts.go): with TLS and no `authorization { timeout }`
    /// of their own, clients (and routes, with `cluster { tls }`) get the TLS handshake's timeout plus one
    /// second to log in, since the handshake counts against it. Called once the config file and the
    /// command line are applied.
    public mutating func applyDefaultAuthTimeouts() {
        if let tls, !authTimeoutIsConfigured { authTimeoutSeconds = tls.timeoutSeconds + 1 }
        if let tls = cluster.tls, !cluster.authTimeoutIsConfigured { cluster.authTimeoutSeconds = tls.timeoutSeconds + 1 }
    }
}
