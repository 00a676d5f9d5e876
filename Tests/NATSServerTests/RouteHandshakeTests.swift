import NATSJSON
import NATSProtocol
import Testing
@testable import NATSServer

/// The route handshake without sockets: what each side sends and decides, in nats-server's order and
/// with its -ERR texts (nats-protocol.md §2.4, §2.7, §2.10).
@Suite struct RouteHandshakeTests {
    typealias Action = RouteHandshake.Action
    let cluster = RouteHandshake.ClusterName(name: "C", isDynamic: false)

    func handshake(didSolicit: Bool, pool: Int? = 3) -> RouteHandshake {
        RouteHandshake(didSolicit: didSolicit, localPoolSize: pool, localServerID: "NLOCAL", localServerName: "local")
    }

    func info(id: String = "NPEER", name: String = "peer", pool: Int = 3, slot: Int = 0, account: String = "") -> ServerInfo {
        var info = ServerInfo()
        info.serverID = id
        info.serverName = name
        info.cluster = "C"
        info.routePoolSize = pool
        info.routePoolIndex = slot
        info.routeAccount = account
        return info
    }

    func connect(user: String = "", lang: String = "", gateway: String = "", cluster: String = "C") -> ConnectOptions {
        var options = ConnectOptions()
        options.user = user
        options.lang = lang
        options.gateway = gateway
        options.cluster = cluster
        return options
    }

    let anyone: (String, String) -> Bool = { _, _ in true }

    @Test func anAcceptorSendsItsInfoAtOnceAndWaitsForConnect() {
        var acceptor = handshake(didSolicit: false)
        #expect(acceptor.start() == [.sendInfo(poolSlot: 0)])
        #expect(acceptor.state == .awaitingConnect)
        #expect(acceptor.connectReceived(connect(), cluster: cluster, authorize: anyone) == [])
        #expect(acceptor.state == .awaitingInfo)
    }

    @Test func aPooledDiallerHoldsItsInfoBackUntilItHasASlot() {
        var dialler = handshake(didSolicit: true)
        #expect(dialler.start() == [.sendConnect])
        #expect(dialler.infoReceived(info(), cluster: cluster) == [.place(.init(poolSize: 3, requestedSlot: nil))])
        #expect(dialler.state == .awaitingPlacement)
        // Not the last slot: a PING whose PONG dials the next one.
        #expect(dialler.placed(.placed(slot: 1, poolFull: false))
            == [.sendInfo(poolSlot: 1), .registered, .startPinging, .sendPing])
        #expect(dialler.state == .registered && dialler.slot == 1)
        #expect(dialler.pongReceived() == [.dialNextPoolConnection])
        #expect(dialler.pongReceived() == [], "only the first PONG dials")
    }

    @Test func theLastSlotSendsNoPing() {
        var dialler = handshake(didSolicit: true)
        _ = dialler.start()
        _ = dialler.infoReceived(info(), cluster: cluster)
        #expect(dialler.placed(.placed(slot: 2, poolFull: true)) == [.sendInfo(poolSlot: 2), .registered, .startPinging])
        #expect(dialler.pongReceived() == [])
    }

    @Test func aNoPoolDiallerSendsConnectAndInfoTogether() {
        var dialler = handshake(didSolicit: true, pool: nil)
        #expect(dialler.start() == [.sendConnect, .sendInfo(poolSlot: 0)])
        #expect(dialler.infoReceived(info(), cluster: cluster) == [.place(.init(poolSize: nil, requestedSlot: nil))])
        #expect(dialler.placed(.placed(slot: 0, poolFull: true)) == [.registered, .startPinging])
    }

    @Test func aPooledDiallerMeetingANoPoolPeerSpeaksNoPool() {
        var dialler = handshake(didSolicit: true)
        _ = dialler.start()
        #expect(dialler.infoReceived(info(pool: 0), cluster: cluster) == [.place(.init(poolSize: nil, requestedSlot: nil))])
        // Its held-back INFO still goes out (nats-server sends it too), without a slot and without a PING.
        #expect(dialler.placed(.placed(slot: 0, poolFull: true)) == [.sendInfo(poolSlot: 0), .registered, .startPinging])
    }

    @Test func anAcceptedConnectionAsksForTheSlotItsInfoNames() {
        var acceptor = handshake(didSolicit: false, pool: 1)
        _ = acceptor.start()
        _ = acceptor.connectReceived(connect(), cluster: cluster, authorize: anyone)
        #expect(acceptor.infoReceived(info(pool: 3, slot: 2), cluster: cluster) == [.place(.init(poolSize: 3, requestedSlot: 2))])
        // The acceptor never grows the pool: the dialler does.
        #expect(acceptor.placed(.placed(slot: 2, poolFull: false)) == [.registered, .startPinging])
    }

    @Test func aDuplicateIsClosedSilently() {
        var acceptor = handshake(didSolicit: false)
        _ = acceptor.connectReceived(connect(), cluster: cluster, authorize: anyone)
        _ = acceptor.infoReceived(info(slot: 1), cluster: cluster)
        #expect(acceptor.placed(.duplicate) == [.close(.duplicateRoute, log: nil)])
        #expect(acceptor.state == .closed)
    }

    /// nats-server with `no_sys_acc: true` answers its peers' pinned `$SYS` route this way (checked against
    /// nats-server 2.15.1); natsd has no system account either.
    @Test func aPinnedAccountRouteIsRefusedAsByAServerWithoutThatAccount() {
        for pool in [3, nil] as [Int?] {
            var acceptor = handshake(didSolicit: false, pool: pool)
            _ = acceptor.connectReceived(connect(), cluster: cluster, authorize: anyone)
            #expect(acceptor.infoReceived(info(account: "$SYS"), cluster: cluster)
                == [.refuse(error: "Unable to lookup account \"$SYS\": account missing", reason: .missingAccount)])
            #expect(acceptor.state == .closed)
        }
    }

    @Test func badSlotsAreRefused() {
        var acceptor = handshake(didSolicit: false)
        _ = acceptor.connectReceived(connect(), cluster: cluster, authorize: anyone)
        #expect(acceptor.infoReceived(info(slot: 3), cluster: cluster)
            == [.refuse(error: "Invalid route pool index: 3 - pool size is 3", reason: .protocolViolation)])
        var dialler = handshake(didSolicit: true)
        #expect(dialler.infoReceived(info(slot: 1), cluster: cluster)
            == [.refuse(error: "Route pool index should not be set but is set to 1", reason: .protocolViolation)])
    }

    @Test func connectChecksInNatsServersOrder() {
        func refusal(_ options: ConnectOptions, authorized: Bool = true) -> [Action] {
            var acceptor = handshake(didSolicit: false)
            return acceptor.connectReceived(options, cluster: cluster, authorize: { _, _ in authorized })
        }
        #expect(refusal(connect(lang: "go", gateway: "G"), authorized: false)
            == [.refuse(error: "attempted to connect to route port", reason: .incorrectPort)])
        #expect(refusal(connect(gateway: "G"), authorized: false)
            == [.refuse(error: "Rejecting connection from gateway \"G\" on the Route port", reason: .protocolViolation)])
        #expect(refusal(connect(cluster: "X"), authorized: false)
            == [.refuseAfterPause(error: "Authorization Violation", reason: .authenticationViolation,
                                  log: "authentication error")])
        // nats-server's log names the user the peer offered.
        #expect(refusal(connect(user: "u"), authorized: false)
            == [.refuseAfterPause(error: "Authorization Violation", reason: .authenticationViolation,
                                  log: "authentication error - User \"u\"")])
        #expect(refusal(connect(cluster: "X"))
            == [.refuse(error: "Rejecting connection, cluster name \"X\" does not match \"C\"", reason: .clusterNameConflict)])
        var acceptor = handshake(didSolicit: false)
        var seen: (String, String)?
        _ = acceptor.connectReceived(connect(user: "u"), cluster: cluster, authorize: { user, password in
            seen = (user, password)
            return true
        })
        #expect(seen?.0 == "u")
    }

    @Test func aGeneratedClusterNameGivesWay() {
        var acceptor = handshake(didSolicit: false)
        let generated = RouteHandshake.ClusterName(name: "gen", isDynamic: true)
        #expect(acceptor.connectReceived(connect(cluster: "C"), cluster: generated, authorize: anyone)
            == [.adoptClusterName("C", isDynamic: false)])
        var dialler = handshake(didSolicit: true)
        #expect(dialler.infoReceived(info(), cluster: generated)
            == [.adoptClusterName("C", isDynamic: false), .place(.init(poolSize: 3, requestedSlot: nil))])
        var other = handshake(didSolicit: true)
        var foreign = info()
        foreign.cluster = "X"
        #expect(other.infoReceived(foreign, cluster: cluster)
            == [.close(.clusterNameConflict, log: "Rejecting connection, cluster name \"X\" does not match \"C\"")])
    }

    @Test func infoBeforeConnectSelfAndDuplicateNames() {
        var early = handshake(didSolicit: false)
        #expect(early.infoReceived(info(), cluster: cluster)
            == [.refuse(error: "Authorization Violation", reason: .authenticationViolation)])
        var looped = handshake(didSolicit: true)
        #expect(looped.infoReceived(info(id: "NLOCAL"), cluster: cluster) == [.closeRouteToSelf])
        var twin = handshake(didSolicit: true)
        #expect(twin.infoReceived(info(name: "local"), cluster: cluster)
            == [.close(.duplicateServerName, log: "Remote server has a duplicate name: \"local\"")])
    }

    @Test func theDeadline() {
        var silent = handshake(didSolicit: false)
        #expect(silent.deadlinePassed() == [.refuse(error: "Authentication Timeout", reason: .authenticationTimeout)])
        var waiting = handshake(didSolicit: true)
        #expect(waiting.deadlinePassed() == [.close(.protocolViolation, log: nil)])
        var done = handshake(didSolicit: true, pool: nil)
        _ = done.infoReceived(info(), cluster: cluster)
        _ = done.placed(.placed(slot: 0, poolFull: true))
        #expect(done.deadlinePassed() == [])
    }

    @Test func nothingHappensAfterClose() {
        var closed = handshake(didSolicit: false)
        closed.closed()
        #expect(closed.connectReceived(connect(), cluster: cluster, authorize: anyone) == [])
        #expect(closed.infoReceived(info(), cluster: cluster) == [])
        #expect(closed.placed(.placed(slot: 0, poolFull: true)) == [])
        #expect(closed.pongReceived() == [] && closed.deadlinePassed() == [])
    }
}
