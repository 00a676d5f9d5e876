import Foundation
import NATSJSON
import NATSServer
import UVLoop

/// Builds one `/topologyz` document: this server's /varz and /routez, and each route peer's, fetched from
/// the peer's monitoring port while the request waits.
///
/// Where a peer's monitoring listens: a natsd peer announces its port in the INFO that carries its peer
/// list (`natsd_monitor_port`, sent only once our route CONNECT was accepted, see Cluster+PeerList), and is
/// asked at the address its route connection comes from, where it is known to be reachable. A nats-server
/// peer announces nothing, as does a natsd peer without monitoring: such a peer is described only from
/// this server's routes to it (`source: routes`), and so is one whose monitoring does not answer in time.
///
/// Bounds: at most `maxPeersAsked` peers, two requests each, all answered or abandoned within
/// `deadlineMilliseconds`, each answer at most `MonitorFetch.maxResponseBytes`.
final class TopologyAggregation {
    /// The page refreshes every 2 s; a peer slower than this is drawn from our routes instead.
    static let deadlineMilliseconds: UInt64 = 1_500
    /// Beyond this many peers the rest are drawn from our routes only, so one request opens at most
    /// 2 × 32 connections.
    static let maxPeersAsked = 32

    private unowned let monitor: MonitorServer
    private var members: [TopologyMember] = []
    private var fetches: [MonitorFetch] = []
    private var outstanding = 0
    /// Set while `start` walks the peers: a dial that fails at once answers inside it, and the document
    /// must not be finished before every peer is listed.
    private var isStarting = false
    private var deadline: LoopTimer?
    private var completion: ((JSON) -> Void)?

    init(monitor: MonitorServer) {
        self.monitor = monitor
    }

    /// Starts asking the peers; `completion` gets the document once every peer answered or the deadline
    /// passed, unless `cancel()` came first.
    func start(completion: @escaping (JSON) -> Void) {
        self.completion = completion
        let server = monitor.server
        members = [TopologyMember(serverID: server.serverID, serverName: server.serverName, source: .this,
                                  varz: server.varz(requestCounts: monitor.requestCounts),
                                  routez: server.routez(listsSubscriptions: false))]
        let peers = server.cluster.peers.values.sorted { $0.serverID < $1.serverID }
        isStarting = true
        for (index, peer) in peers.enumerated() {
            var member = TopologyMember(serverID: peer.serverID, serverName: peer.remoteInfo.serverName, source: .routes)
            let port = peer.remoteInfo.natsdMonitorPort
            if port <= 0 {
                member.problem = peer.remoteInfo.isNatsd ? "monitoring port not announced (monitoring off, or the route is new)"
                                                         : "not natsd: its monitoring port is unknown"
            } else if index >= TopologyAggregation.maxPeersAsked {
                member.problem = "not asked: more than \(TopologyAggregation.maxPeersAsked) peers"
            } else if let host = peer.connections.first?.remoteHost {
                member.monitor = MonitorFetch.authority(host, port)
                members.append(member)
                ask(memberAt: members.count - 1, host: host, port: port)
                continue
            }
            members.append(member)
        }
        isStarting = false
        if outstanding == 0 { return finish() }
        let deadline = LoopTimer(loop: server.loop) { [weak self] in self?.deadlinePassed() }
        deadline.start(afterMilliseconds: TopologyAggregation.deadlineMilliseconds)
        self.deadline = deadline
    }

    /// Abandons the requests still out; the completion will not run.
    func cancel() {
        completion = nil
        stop()
    }

    private func ask(memberAt index: Int, host: String, port: Int) {
        for path in ["/varz", "/routez"] {
            outstanding += 1
            let fetch = MonitorFetch(loop: monitor.server.loop, host: host, port: port, path: path) { [weak self] result in
                self?.answered(memberAt: index, path: path, result)
            }
            fetches.append(fetch)
            fetch.start(timeoutMilliseconds: TopologyAggregation.deadlineMilliseconds)
        }
    }

    private func answered(memberAt index: Int, path: String, _ result: Result<[UInt8], MonitorFetchError>) {
        outstanding -= 1
        switch result {
        case .success(let body):
            guard let document = JSON.parse(body) else {
                members[index].problem = members[index].problem ?? "\(path) is not JSON"
                break
            }
            if path == "/varz" { members[index].varz = document } else { members[index].routez = document }
        case .failure(let error):
            members[index].problem = members[index].problem ?? "\(path): \(error)"
        }
        if outstanding == 0 && !isStarting { finish() }
    }

    private func deadlinePassed() {
        for index in members.indices where members[index].source == .routes && members[index].monitor != nil {
            if members[index].varz == nil || members[index].routez == nil {
                members[index].problem = members[index].problem
                    ?? "no answer within \(TopologyAggregation.deadlineMilliseconds) ms"
            }
        }
        finish()
    }

    /// Keeps a peer's documents only when both arrived and name the peer; otherwise it is drawn from our routes.
    private func finish() {
        stop()
        for index in members.indices where members[index].source == .routes && members[index].monitor != nil {
            let member = members[index]
            if member.problem == nil,
               let problem = TopologyDocument.problem(expecting: member.serverID, varz: member.varz, routez: member.routez) {
                members[index].problem = problem
            }
            if members[index].problem == nil {
                members[index].source = .monitor
            } else {
                members[index].varz = nil
                members[index].routez = nil
            }
        }
        let server = monitor.server
        let document = TopologyDocument.render(serverID: server.serverID, serverName: server.serverName,
                                               now: MonitorTime.rfc3339(Date()), members: members)
        if let completion {
            self.completion = nil
            completion(document)
        }
    }

    private func stop() {
        deadline?.close()
        deadline = nil
        for fetch in fetches { fetch.cancel() }
        fetches = []
        outstanding = 0
    }
}
