import NATSAuth

/// A live client after a configuration reload changed the authorization or the accounts (nats-server's
/// `reloadAuthorization`): a client whose users entry (named, or its `no_auth_user` or certificate-mapped
/// one) is gone or now belongs to another account, or whose account is gone, is closed without an -ERR;
/// one whose credentials no longer log in gets `-ERR 'Authorization Violation'` and is closed; the others
/// keep their connection and subscriptions and take on their entry's new permissions (fresh verdict caches:
/// `adoptPermissions` builds new `ClientPermissions`).
extension ClientConnection {
    /// Checks the client against its loop's new authenticator (on the client's loop); `previous` is the
    /// authenticator it logged in with.
    func recheckLogin(previous: Authenticator) {
        // A client still in its handshake logs in against the new authenticator when its CONNECT comes.
        guard !isClosed, handshake.isConnected else { return }
        let authenticator = worker.authenticator
        guard authenticator.isRequired else {
            // The account the client logged into is gone (no users left to name it).
            if worker.accounts.account(named: account.name) !== account { return close(reason: .clientClosed, flush: true) }
            authorizedUser = ""
            return adoptPermissions(authenticator.defaultRules)
        }
        var offered = connectOptions
        // An anonymous client is checked as the `no_auth_user` with the password it logged in with.
        if offered.offersNoCredentials, let recorded = previous.noAuthUserCredentials,
           recorded.user == authorizedUser {
            (offered.user, offered.pass) = recorded
        }
        // The entry the client logged in as, even when it did not name it: nats-server records the
        // `no_auth_user` or the user its certificate maps to (`verify_and_map`) as if the client had sent it.
        // A token login has no entry (the name it may have sent finds none).
        let entry = authorizedUser.isEmpty ? offered.user : authorizedUser
        if !entry.isEmpty {
            guard let entryAccount = authenticator.accountOfEntry(named: entry),
                  worker.accounts.account(named: entryAccount) === account else {
                // nats-server closes these without an -ERR (`ClientClosed`); they reconnect as the new
                // config says.
                return close(reason: .clientClosed, flush: true)
            }
        }
        // `tls { verify_and_map }`: the certificate names the user, as at CONNECT.
        let certificate = authenticator.mapsCertificates ? connection.tlsPeerCertificate.map(CertificateIdentity.init) : nil
        guard let login = authenticator.login(user: offered.user, pass: offered.pass, authToken: offered.authToken,
                                              nkey: offered.nkey, signature: offered.sig, nonce: nonce,
                                              certificate: certificate),
              worker.accounts.account(named: login.account) === account else {
            server.logger.error("\(label) - \(offered.authenticationErrorText)")
            return fail("Authorization Violation", reason: .authenticationViolation)
        }
        authorizedUser = login.user
        adoptPermissions(login.rules)
        dropDeniedSubscriptions()
    }

    /// Removes the subscriptions the new permissions no longer allow, each with nats-server's -ERR and
    /// its notice in the log, which names the client by its credentials (`processSubsOnConfigReload`);
    /// the connection stays open.
    private func dropDeniedSubscriptions() {
        guard let permissions else { return }
        for subscription in Array(subscriptions.values) {
            let queue = subscription.queueBytes?.slice.buffer ?? UnsafeRawBufferPointer(start: nil, count: 0)
            let allowed = subscription.subject.withUnsafeBytes { permissions.allowsSubscribe(subject: $0, queue: queue) }
            if allowed { continue }
            removeSubscription(subscription)
            let subject = subscription.subject.withUnsafeBytes { GoQuote.quoted($0) }
            let sid = GoQuote.quoted(subscription.sid.slice.buffer)
            let described = queue.isEmpty ? "\(subject)" : "\(subject) using queue \(GoQuote.quoted(queue))"
            sendErr("Permissions Violation for Subscription to \(described) (sid \(sid))")
            server.logger.info("Removed sub \(described) (sid \(sid)) for \(connectOptions.authUserLabel) - not authorized")
        }
    }
}
