import Testing
@testable import NATSServer

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

@Suite struct RouteArbitrationTests {
    @Test func bothSidesKeepTheConnectionTheSmallerServerDialled() {
        let small = "NAAAA", large = "NZZZZ"
        // Connection X: small dialled large. Connection Y: large dialled small.
        // On `small`: X is solicited, Y accepted. On `large`: X accepted, Y solicited.
        for xFirst in [true, false] {
            let smallKeepsNew = RouteArbitration.newConnectionWins(
                localID: small, remoteID: large, peerIsNatsd: true, newDidSolicit: !xFirst, existingDidSolicit: xFirst)
            let largeKeepsNew = RouteArbitration.newConnectionWins(
                localID: large, remoteID: small, peerIsNatsd: true, newDidSolicit: xFirst, existingDidSolicit: !xFirst)
            // Whatever the arrival order, both sides end with X.
            #expect(smallKeepsNew == !xFirst)
            #expect(largeKeepsNew == !xFirst)
        }
    }

    @Test func againstNatsServerTheFirstRegisteredStays() {
        for newSolicited in [true, false] {
            #expect(!RouteArbitration.newConnectionWins(
                localID: "NA", remoteID: "NB", peerIsNatsd: false, newDidSolicit: newSolicited, existingDidSolicit: !newSolicited))
        }
    }

    @Test func clusterNames() {
        typealias D = RouteArbitration.NameDecision
        #expect(RouteArbitration.reconcileClusterNames(local: "A", localDynamic: false, remote: "A", remoteDynamic: false) == D.agree)
        #expect(RouteArbitration.reconcileClusterNames(local: "A", localDynamic: false, remote: "", remoteDynamic: false) == D.agree)
        #expect(RouteArbitration.reconcileClusterNames(local: "A", localDynamic: false, remote: "B", remoteDynamic: false)
            == D.reject("Rejecting connection, cluster name \"B\" does not match \"A\""))
        #expect(RouteArbitration.reconcileClusterNames(local: "gen1", localDynamic: true, remote: "B", remoteDynamic: false)
            == D.adopt(name: "B", dynamic: false))
        #expect(RouteArbitration.reconcileClusterNames(local: "A", localDynamic: false, remote: "gen", remoteDynamic: true) == D.agree)
        #expect(RouteArbitration.reconcileClusterNames(local: "aaa", localDynamic: true, remote: "bbb", remoteDynamic: true)
            == D.adopt(name: "bbb", dynamic: true))
        #expect(RouteArbitration.reconcileClusterNames(local: "bbb", localDynamic: true, remote: "aaa", remoteDynamic: true) == D.agree)
    }
}

@Suite struct FastRandomTests {
    @Test func staysInRangeAndSpreads() {
        var random = FastRandom(seed: 42)
        var counts = [Int](repeating: 0, count: 5)
        for _ in 0..<5000 {
            let value = random.next(below: 5)
            #expect((0..<5).contains(value))
            counts[value] += 1
        }
        #expect(counts.allSatisfy { $0 > 800 })
    }
}
