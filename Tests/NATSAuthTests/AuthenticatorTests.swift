import Testing
@testable import NATSAuth
import NATSConfig

@Suite struct AuthenticatorTests {
    /// Made with Python's bcrypt (`hashpw(b"s3cret", gensalt(rounds=4, prefix=b"2a"))`).
    static let hash = "$2a$04$JxvFQU5aysRrgswiKiftieMQ6gPuHE3KErH015/I/o7DtAdQDtbDu"

    @Test func bcryptHashAcceptsOnlyTheRightPassword() {
        #expect(Authenticator.bcryptVerify(hash: Self.hash, password: "s3cret"))
        #expect(!Authenticator.bcryptVerify(hash: Self.hash, password: "s3cret "))
        #expect(!Authenticator.bcryptVerify(hash: Self.hash, password: ""))
        #expect(!Authenticator.bcryptVerify(hash: "$2a$04$broken", password: "s3cret"))
    }

    @Test func userAndPassword() {
        var options = ServerOptions()
        options.username = "derek"
        options.password = Self.hash
        let authenticator = Authenticator(options: options)
        #expect(authenticator.isRequired)
        #expect(authenticator.authorize(user: "derek", pass: "s3cret", authToken: ""))
        #expect(!authenticator.authorize(user: "derek", pass: "wrong", authToken: ""))
        #expect(!authenticator.authorize(user: "other", pass: "s3cret", authToken: ""))
    }

    @Test func plainPasswordAndToken() {
        var options = ServerOptions()
        options.authToken = "tok"
        let byToken = Authenticator(options: options)
        #expect(byToken.authorize(user: "", pass: "", authToken: "tok"))
        #expect(!byToken.authorize(user: "", pass: "", authToken: "to"))
        options = ServerOptions()
        options.username = "a"
        options.password = "b"
        #expect(Authenticator(options: options).authorize(user: "a", pass: "b", authToken: ""))
        #expect(!Authenticator(options: options).authorize(user: "a", pass: "bb", authToken: ""))
        #expect(!Authenticator(options: ServerOptions()).isRequired)
    }

    @Test func usersList() {
        var options = ServerOptions()
        options.users = [
            ServerOptions.User(username: "alice", password: "plain"),
            ServerOptions.User(username: "bob", password: Self.hash),
            ServerOptions.User(username: "eve", password: ""),
        ]
        let authenticator = Authenticator(options: options)
        #expect(authenticator.isRequired)
        #expect(authenticator.authorize(user: "alice", pass: "plain", authToken: ""))
        #expect(authenticator.authorize(user: "bob", pass: "s3cret", authToken: ""))
        #expect(authenticator.authorize(user: "eve", pass: "", authToken: ""))
        #expect(!authenticator.authorize(user: "alice", pass: "s3cret", authToken: ""))
        #expect(!authenticator.authorize(user: "bob", pass: "plain", authToken: ""))
        #expect(!authenticator.authorize(user: "eve", pass: "x", authToken: ""))
        #expect(!authenticator.authorize(user: "mallory", pass: "plain", authToken: ""))
        #expect(!authenticator.authorize(user: "", pass: "", authToken: ""))
        #expect(!authenticator.authorize(user: "", pass: "", authToken: "plain"))
    }

    /// `no_auth_user` (nats-server auth.go): no credentials at all log in as that user; any credential must
    /// match a user as usual.
    @Test func noAuthUser() {
        var options = ServerOptions()
        options.users = [
            ServerOptions.User(username: "alice", password: "plain"),
            ServerOptions.User(username: "bob", password: Self.hash),
        ]
        options.noAuthUser = "alice"
        let authenticator = Authenticator(options: options)
        #expect(authenticator.isRequired)
        #expect(!authenticator.clientsNeedCredentials)
        #expect(authenticator.authorize(user: "", pass: "", authToken: ""))
        #expect(authenticator.authorize(user: "alice", pass: "plain", authToken: ""))
        #expect(authenticator.authorize(user: "bob", pass: "s3cret", authToken: ""))
        #expect(!authenticator.authorize(user: "alice", pass: "", authToken: ""))
        #expect(!authenticator.authorize(user: "alice", pass: "wrong", authToken: ""))
        #expect(!authenticator.authorize(user: "", pass: "plain", authToken: ""))
        #expect(!authenticator.authorize(user: "", pass: "", authToken: "plain"))
        #expect(!authenticator.authorize(user: "carol", pass: "plain", authToken: ""))
        // A bcrypt password is checked against itself, which fails: nats-server admits no anonymous client then.
        options.noAuthUser = "bob"
        #expect(!Authenticator(options: options).authorize(user: "", pass: "", authToken: ""))
        #expect(Authenticator(options: options).authorize(user: "bob", pass: "s3cret", authToken: ""))
        // Without it, anonymous clients stay out and INFO says credentials are needed.
        options.noAuthUser = ""
        #expect(Authenticator(options: options).clientsNeedCredentials)
        #expect(!Authenticator(options: options).authorize(user: "", pass: "", authToken: ""))
    }

    /// Issue 6, point 9: crypt_r reads C strings, so without a check `s3cret\0anything` passed as `s3cret`.
    @Test func secretsContainingNULNeverMatch() {
        #expect(!Authenticator.bcryptVerify(hash: Self.hash, password: "s3cret\0anything"))
        #expect(!Authenticator.bcryptVerify(hash: Self.hash, password: "s3cret\0"))
        #expect(!Authenticator.secretMatches(stored: Self.hash, offered: "s3cret\0anything"))
        #expect(!Authenticator.secretMatches(stored: "plain\0x", offered: "plain\0x"))
        var options = ServerOptions()
        options.users = [ServerOptions.User(username: "bob", password: Self.hash)]
        #expect(!Authenticator(options: options).authorize(user: "bob", pass: "s3cret\0anything", authToken: ""))
        options = ServerOptions()
        options.authToken = Self.hash
        #expect(!Authenticator(options: options).authorize(user: "", pass: "", authToken: "s3cret\0x"))
        #expect(Authenticator(options: options).authorize(user: "", pass: "", authToken: "s3cret"))
    }
}

/// Logins carry the user's permissions; nkey users sign the nonce (issue 8, point 1).
@Suite struct AuthenticatorLoginTests {
    static let nkey = "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLKK"
    static let nonce = Array("DVsVHNgQSTZQhw4".utf8)
    static let signature = "sZV_nFT-E6jWDnV4YK8hOGfLY-Cui7WCd9EnS0_1YEhu6e2p44BEUguP7uylwgiXcNrXgJZPBscgkpImYEXXDg"

    static func options() -> ServerOptions {
        var options = ServerOptions()
        options.users = [ServerOptions.User(username: "alice", password: "pw",
                                            permissions: Permissions(publish: SubjectPermission(allow: ["a"]))),
                         ServerOptions.User(username: "bob", password: "pw")]
        options.nkeyUsers = [ServerOptions.NkeyUser(publicKey: nkey,
                                                    permissions: Permissions(publish: SubjectPermission(allow: ["n"])))]
        return options
    }

    @Test func nkeyLogin() throws {
        let authenticator = Authenticator(options: Self.options())
        #expect(authenticator.isRequired && authenticator.requiresNonce)
        let login = authenticator.login(user: "", pass: "", authToken: "", nkey: Self.nkey, signature: Self.signature,
                                        nonce: Self.nonce)
        #expect(login?.rules?.restrictsPublish == true)
        #expect(authenticator.login(user: "", pass: "", authToken: "", nkey: Self.nkey, signature: Self.signature,
                                    nonce: Array("other".utf8)) == nil)
        #expect(authenticator.login(user: "", pass: "", authToken: "", nkey: Self.nkey, signature: "",
                                    nonce: Self.nonce) == nil)
        // An unknown nkey is refused even with good user credentials beside it.
        #expect(authenticator.login(user: "alice", pass: "pw", authToken: "", nkey: "UNKNOWN", signature: Self.signature,
                                    nonce: Self.nonce) == nil)
        #expect(authenticator.login(user: "", pass: "", authToken: "", nkey: "", signature: "", nonce: Self.nonce) == nil)
    }

    @Test func userLoginsCarryTheirRules() {
        let authenticator = Authenticator(options: Self.options())
        #expect(authenticator.login(user: "alice", pass: "pw", authToken: "", nkey: "", signature: "", nonce: [])?
            .rules != nil)
        let bob = authenticator.login(user: "bob", pass: "pw", authToken: "", nkey: "", signature: "", nonce: [])
        #expect(bob != nil && bob?.rules == nil)
        #expect(authenticator.login(user: "bob", pass: "x", authToken: "", nkey: "", signature: "", nonce: []) == nil)
    }

    @Test func blockPermissionsBindTheSingleUser() {
        var options = ServerOptions()
        options.username = "u"
        options.password = "p"
        options.defaultPermissions = Permissions(publish: SubjectPermission(allow: ["x"]))
        let authenticator = Authenticator(options: options)
        #expect(!authenticator.requiresNonce)
        #expect(authenticator.login(user: "u", pass: "p", authToken: "", nkey: "", signature: "", nonce: [])?.rules != nil)
    }

    @Test func malformedNkeysAreRefusedAtStart() {
        var options = ServerOptions()
        options.nkeyUsers = [ServerOptions.NkeyUser(publicKey: "UABC")]
        #expect(throws: ConfigError.self) { try Authenticator.check(options) }
        #expect(throws: Never.self) { try Authenticator.check(Self.options()) }
    }
}
