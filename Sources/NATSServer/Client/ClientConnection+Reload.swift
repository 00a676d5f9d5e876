import NATSAuth

/// A live client after a configuration reload changed the authorization or the accounts (nats-server's
/// `reloadAuthorization`): a client whose users entry is gone or now belongs to another account, or whose
/// account is gone, is closed; one whose credentials no longer log in gets `-ERR 'Authorization Violation'`
/// and is closed; the others keep their connection and subscriptions and take on their entry's new
/// permissions (fresh verdict caches: `adoptPermissions` builds new `ClientPermissions`).
extension ClientConnection {
    /// Checks the client against its loop's new authenticator (on the client's loop).
    func recheckLogin() {
        // A client still in its handshake logs in against the new authenticator when its CONNECT comes.
        guard !isClosed, handshake.isConnected else { return }
        let authenticator = worker.authenticator
        guard authenticator.isRequired else {
            // The account the client logged into is gone (no users left to name it).
            if worker.accounts.account(named: account.name) !== account { return close(reason: .clientClosed, flush: true) }
            authorizedUser = ""
            return adoptPermissions(authenticator.defaultRules)
        }
        let offered = connectOptions
        if !offered.nkey.isEmpty || !offered.user.isEmpty {
            let entryAccount = authenticator.accountOfEntry(user: offered.user, nkey: offered.nkey)
            guard let entryAccount, worker.accounts.account(named: entryAccount) === account else {
                // nats-server closes these without an -ERR (`ClientClosed`).
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
