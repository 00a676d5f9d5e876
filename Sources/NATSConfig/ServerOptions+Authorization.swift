extension ServerOptions {
    /// One entry of `authorization { users = [ {user: …, password: …}, … ] }`.
    public struct User: Sendable, Equatable {
        public var username: String
        /// Plain text or a bcrypt hash (`$2a$…`); empty means the client must send no password.
        public var password: String

        public init(username: String, password: String) {
            self.username = username
            self.password = password
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
                users = try Self.users(field, path: path + ".users", &reader)
                usersPosition = field.position
            default:
                if let policy = unsupported[key] {
                    try reader.handleUnsupported(field, path: "\(path).\(field.key)", policy: policy)
                } else if !field.usedAsVariable {
                    throw ConfigError("unknown field \"\(field.key)\"", at: field.position)
                }
            }
        }
    }

    /// `users = [ {user, password}, … ]`, with nats-server's checks and messages.
    private static func users(
        _ field: ConfigEntry, path: String, _ reader: inout ConfigReader
    ) throws(ConfigError) -> [ServerOptions.User] {
        guard case .array(let values) = field.value else {
            throw ConfigError("Expected users field to be an array, got \(field.value.typeName)", at: field.position)
        }
        var users: [ServerOptions.User] = []
        var names: Set<String> = []
        for value in values {
            guard case .map(let map) = value else {
                throw ConfigError("Expected user entry to be a map/struct, got \(value.typeName)", at: field.position)
            }
            var user = ServerOptions.User(username: "", password: "")
            for entry in map.entries {
                let key = entry.key.lowercased()
                switch key {
                case "user", "username": user.username = try reader.string(entry)
                case "pass", "password": user.password = try reader.secret(entry)
                default:
                    if let policy = UnsupportedConfigKey.userEntry[key] {
                        try reader.handleUnsupported(entry, path: "\(path).\(entry.key)", policy: policy)
                    } else if !entry.usedAsVariable {
                        throw ConfigError("unknown field \"\(entry.key)\"", at: entry.position)
                    }
                }
            }
            let position = map.entries.first?.position ?? field.position
            guard !user.username.isEmpty else { throw ConfigError("User entry requires a user", at: position) }
            guard names.insert(user.username).inserted else {
                throw ConfigError("Duplicate user \"\(user.username)\" detected", at: position)
            }
            users.append(user)
        }
        if users.isEmpty {
            // nats-server treats an empty list as no users at all: clients then need no credentials.
            reader.warn("field \"\(path)\" is empty: clients need no credentials", at: field.position)
        }
        return users
    }
}

extension ServerOptions {
    /// The top-level `authorization` block: one user, a token, or a users list (nats-server's rules for
    /// combining them).
    mutating func applyAuthorization(_ entry: ConfigEntry, _ reader: inout ConfigReader) throws(ConfigError) {
        let block = try AuthorizationBlock(
            entry, path: "authorization", unsupported: UnsupportedConfigKey.authorization, &reader)
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
            self.users = users
        }
        username = block.user
        password = block.password
        authToken = block.token
        if let timeout = block.timeoutSeconds { authTimeoutSeconds = timeout }
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
        if let timeout = block.timeoutSeconds { authTimeoutSeconds = timeout }
    }
}
