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
}
