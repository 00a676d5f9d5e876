extension ServerOptions {
    /// Checks that need the config file and the flags merged, made before the server starts.
    ///
    /// - `lame_duck_grace_period` not below `lame_duck_duration` (ServerOptions+LameDuck.swift).
    /// - `max_payload` above `max_pending`: nats-server's start-up check, with its message.
    /// - Credentials that would be ignored: a users list together with a single user or a token (from the
    ///   config or from `--user`/`--auth`), a user together with a token, a password without a user. nats-server
    ///   refuses these combinations inside one config file and silently drops one side when a flag brings them
    ///   together; natsd refuses every such combination, so no credential an operator set is ever ignored.
    /// - `no_auth_user` must name an entry of the users list (a user name or an nkey): nats-server's
    ///   `validateNoAuthUser` (auth.go), with its messages. It may name an account's user: that account is then the anonymous client's.
    /// - Throws: the first problem, as a `ConfigError` without a position.
    public func validate() throws(ConfigError) {
        try validateLameDuck()
        if maxPayload > maxPending {
            throw ConfigError("max_payload (\(maxPayload)) cannot be higher than max_pending (\(maxPending))", at: nil)
        }
        let hasUsersList = !users.isEmpty || !nkeyUsers.isEmpty
        let hasAccountUsers = users.contains { !$0.account.isEmpty } || nkeyUsers.contains { !$0.account.isEmpty }
        if hasAccountUsers && !username.isEmpty {
            throw ConfigError("Can not have a single user/pass and accounts", at: nil)
        }
        if hasAccountUsers && !authToken.isEmpty {
            throw ConfigError("Can not have a token and accounts", at: nil)
        }
        var names: Set<String> = []
        for name in users.map(\.username) + nkeyUsers.map(\.publicKey) where !names.insert(name).inserted {
            throw ConfigError("Duplicate user \"\(name)\" detected", at: nil)
        }
        if hasUsersList && !username.isEmpty {
            throw ConfigError("Can not have a single user/pass and a users array", at: nil)
        }
        if hasUsersList && !authToken.isEmpty {
            throw ConfigError("Can not have a token and a users array", at: nil)
        }
        if (!username.isEmpty || !password.isEmpty) && !authToken.isEmpty {
            throw ConfigError("Cannot have a user/pass and token", at: nil)
        }
        if username.isEmpty && !password.isEmpty {
            throw ConfigError("a password is set without a user: clients would need no credentials", at: nil)
        }
        if !noAuthUser.isEmpty {
            if !hasUsersList {
                throw ConfigError("no_auth_user: \"\(noAuthUser)\" present, but users/nkeys are not defined", at: nil)
            }
            if !users.contains(where: { $0.username == noAuthUser })
                && !nkeyUsers.contains(where: { $0.publicKey == noAuthUser }) {
                throw ConfigError("no_auth_user: \"\(noAuthUser)\" not present as user or nkey in authorization block "
                                  + "or account configuration", at: nil)
            }
        }
    }
}
