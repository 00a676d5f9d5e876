import NATSJSON

/// How a client is named by the credentials of its CONNECT in the server's log, as nats-server names it
/// (client.go `getAuthUser`, `getRawAuthUser`): the nkey first, then the user name, then the JWT, then
/// the token, which is never printed.
extension ConnectOptions {
    /// `Nkey "U…"`, `User "alice"`, `JWT User ""`, `Token "[REDACTED]"`, or `User "N/A"` without
    /// credentials. nats-server prints a JWT user's public key; natsd has no JWT users, so it is never
    /// known and stays empty, as it does in nats-server without an operator.
    var authUserLabel: String {
        if !nkey.isEmpty { return "Nkey \(GoQuote.quoted(nkey))" }
        if !user.isEmpty { return "User \(GoQuote.quoted(user))" }
        if !jwt.isEmpty { return "JWT User \"\"" }
        if !authToken.isEmpty { return "Token \"[REDACTED]\"" }
        return "User \"N/A\""
    }

    /// Whether the CONNECT offers no user, password, token or nkey: with a `no_auth_user` it logs in as that.
    var offersNoCredentials: Bool { user.isEmpty && pass.isEmpty && authToken.isEmpty && nkey.isEmpty }

    /// The error logged when these credentials do not log in (nats-server's `authViolation`):
    /// `authentication error - User "alice"`, or `authentication error` alone when they name no one
    /// (none offered, or only a JWT, whose key is unknown here as above).
    var authenticationErrorText: String {
        let namesSomeone = !nkey.isEmpty || !user.isEmpty || (jwt.isEmpty && !authToken.isEmpty)
        return namesSomeone ? "authentication error - \(authUserLabel)" : "authentication error"
    }
}
