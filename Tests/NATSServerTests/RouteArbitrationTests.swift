import Testing
@testable import NATSServer

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

    @Test func discoveredPeersAreDialledByTheSmallerNatsdOnly() {
        typealias A = RouteArbitration.DiscoveryAction
        #expect(RouteArbitration.discoveryAction(localID: "NB", peerID: "NB", peerIsNatsd: true, alreadyKnown: false) == A.ignore)
        #expect(RouteArbitration.discoveryAction(localID: "NB", peerID: "NC", peerIsNatsd: true, alreadyKnown: true) == A.ignore)
        #expect(RouteArbitration.discoveryAction(localID: "NB", peerID: "NC", peerIsNatsd: true, alreadyKnown: false) == A.dialNow)
        #expect(RouteArbitration.discoveryAction(localID: "NB", peerID: "NA", peerIsNatsd: true, alreadyKnown: false)
            == A.dialIfAbsentLater)
        // nats-server peers are dialled by whoever hears of them.
        #expect(RouteArbitration.discoveryAction(localID: "NB", peerID: "NA", peerIsNatsd: false, alreadyKnown: false) == A.dialNow)
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
