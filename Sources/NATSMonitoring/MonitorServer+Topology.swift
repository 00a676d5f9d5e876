import NATSJSON

/// `/topologyz`, the one monitoring answer that waits for other servers (TopologyAggregation), and `/`,
/// the topology page that reads it.
extension MonitorServer {
    static let topologyPath = "/topologyz"

    /// Whether `target` asks for `/topologyz`, which `MonitorConnection` answers through
    /// `answerTopology` instead of `respond(to:)`.
    static func isTopologyRequest(_ target: String) -> Bool {
        MonitorTarget(target)?.path == topologyPath
    }

    /// Answers `requester` with the `/topologyz` document once it is built; nothing when the requester
    /// withdraws first. Counts the request for /varz `http_req_stats`.
    func answerTopology(for requester: AnyObject, _ answer: @escaping (MonitorResponse) -> Void) {
        requestCounts[MonitorServer.topologyPath, default: 0] += 1
        topologyRequests.add(requester, answer, monitor: self)
    }

    /// The requester's connection closed: it no longer waits (MonitorServer.stop closes them all, so an
    /// aggregation still asking peers is cancelled with the last of them).
    func withdrawTopologyRequest(_ requester: AnyObject) {
        topologyRequests.remove(requester)
    }
}

/// Coalesces `/topologyz` requests: while one aggregation asks the peers, later requests wait for its
/// document, so any number of open topology pages cost each peer at most two requests at a time.
final class TopologyRequests {
    private var aggregation: TopologyAggregation?
    private var waiting: [ObjectIdentifier: (MonitorResponse) -> Void] = [:]

    func add(_ requester: AnyObject, _ answer: @escaping (MonitorResponse) -> Void, monitor: MonitorServer) {
        waiting[ObjectIdentifier(requester)] = answer
        guard aggregation == nil else { return }
        let aggregation = TopologyAggregation(monitor: monitor)
        self.aggregation = aggregation
        aggregation.start { [weak self] document in self?.answerAll(document) }
    }

    func remove(_ requester: AnyObject) {
        guard waiting.removeValue(forKey: ObjectIdentifier(requester)) != nil, waiting.isEmpty else { return }
        aggregation?.cancel()
        aggregation = nil
    }

    private func answerAll(_ document: JSON) {
        aggregation = nil
        let response = MonitorResponse.json(document.rendered())
        let answers = waiting.values
        waiting = [:]
        for answer in answers { answer(response) }
    }
}
