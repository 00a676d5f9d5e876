import NATSJSON
import Testing
import UVLoop
@testable import NATSMonitoring

/// `/topologyz` (issue 10 point 5): the checks on peers' documents, the document itself, and the fetches
/// and the aggregation on a real loop (every socket and timer freed). Reading peers' HTTP answers is
/// HTTPResponseReaderTests.
@Suite struct TopologyTests {
    @Test func peerDocumentsMustNameThePeer() throws {
        let good = try #require(JSON.parse(Array(#"{"server_id":"NB","now":"x"}"#.utf8)))
        let other = try #require(JSON.parse(Array(#"{"server_id":"NX"}"#.utf8)))
        #expect(TopologyDocument.problem(expecting: "NB", varz: good, routez: good) == nil)
        #expect(TopologyDocument.problem(expecting: "NB", varz: good, routez: other) == "/routez answered for server NX")
        #expect(TopologyDocument.problem(expecting: "NB", varz: .array([]), routez: good) == "/varz is not a JSON object")
        #expect(TopologyDocument.problem(expecting: "NB", varz: nil, routez: good) == "/varz is not a JSON object")
        #expect(TopologyDocument.problem(expecting: "NB", varz: .object([]), routez: good) == "/varz has no server_id")
    }

    @Test func nodesKeepTheFieldsThePageDraws() throws {
        let varz = try #require(JSON.parse(Array(#"{"server_id":"NB","now":"t","connections":2,"in_msgs":5,"mem":9}"#.utf8)))
        let routez = try #require(JSON.parse(Array("""
            {"server_id":"NB","now":"t2","routes":[{"rid":1,"remote_id":"NA","pool_idx":0,"out_msgs":3,"start":"s"}]}
            """.utf8)))
        let member = TopologyMember(serverID: "NB", serverName: "b", source: .monitor, monitor: "127.0.0.1:1",
                                    varz: varz, routez: routez)
        let node = TopologyDocument.node(member)
        #expect(node["source"]?.stringValue == "monitor" && node["monitor"]?.stringValue == "127.0.0.1:1")
        #expect(node["varz"]?.rendered() == JSON.object([("now", .string("t")), ("connections", .int(2)), ("in_msgs", .int(5))]).rendered())
        let route = try #require(node["routez"]?["routes"]?.arrayValue?.first)
        #expect(route.rendered() == JSON.object([("rid", .int(1)), ("remote_id", .string("NA")), ("pool_idx", .int(0)),
                                                 ("out_msgs", .int(3))]).rendered())
        #expect(node["routez"]?["now"]?.stringValue == "t2")
        let unknown = TopologyDocument.node(TopologyMember(serverID: "NC", serverName: "c", source: .routes, problem: "why"))
        #expect(unknown["problem"]?.stringValue == "why" && unknown["varz"] == nil && unknown["routez"] == nil)
    }

    @Test func fetchReadsAMonitorAndFailsClearly() throws {
        let harness = try MonitorServerTests.Harness(loops: 1)
        var result: Result<[UInt8], MonitorFetchError>?
        let fetch = MonitorFetch(loop: harness.loop, host: "127.0.0.1", port: harness.monitor.port, path: "/varz") { result = $0 }
        fetch.start(timeoutMilliseconds: 2_000)
        #expect(harness.run { result != nil })
        let body = try #require(try result?.get())
        #expect(JSON.parse(body)?["server_id"]?.stringValue == harness.server.serverID)

        result = nil
        let missing = MonitorFetch(loop: harness.loop, host: "127.0.0.1", port: harness.monitor.port, path: "/nope") { result = $0 }
        missing.start(timeoutMilliseconds: 2_000)
        #expect(harness.run { result != nil })
        if case .failure(.status(let line)) = result {
            #expect(line == "HTTP/1.1 404 Not Found")
        } else {
            Issue.record("unexpected \(String(describing: result))")
        }
        #expect(harness.allFreed())
        harness.finish()
    }

    /// A peer that accepts and never answers holds nothing once the fetch is cancelled, and the
    /// completion never runs.
    @Test func cancelledFetchFreesItsSocket() throws {
        let harness = try MonitorServerTests.Harness(loops: 1)
        var accepted: [TCPConnection] = []
        let silent = try TCPListener(loop: harness.loop, host: "127.0.0.1", port: 0) { accepted.append($0) }
        var called = false
        let fetch = MonitorFetch(loop: harness.loop, host: "127.0.0.1", port: silent.port, path: "/varz") { _ in called = true }
        fetch.start(timeoutMilliseconds: 2_000)
        #expect(harness.run { !accepted.isEmpty })
        fetch.cancel()
        for connection in accepted { connection.close() }
        silent.close()
        #expect(harness.allFreed())
        #expect(!called)
        harness.finish()
    }

    /// Without a cluster, /topologyz describes this server alone, over a real monitoring connection.
    @Test func topologyzOfALoneServer() throws {
        let harness = try MonitorServerTests.Harness(loops: 1)
        let peer = try harness.dial(sending: "GET /topologyz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(harness.run { peer.closedAt != nil })
        #expect(peer.response.hasPrefix("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"))
        let body = Array(peer.received.split(separator: 10, omittingEmptySubsequences: false)
            .drop { !$0.isEmpty && $0 != [13] }.dropFirst().joined(separator: [10]))
        let document = try #require(JSON.parse(body))
        let servers = try #require(document["servers"]?.arrayValue)
        #expect(servers.count == 1 && servers[0]["source"]?.stringValue == "self")
        #expect(servers[0]["server_id"]?.stringValue == harness.server.serverID)
        #expect(harness.monitor.requestCounts["/topologyz"] == 1)
        #expect(harness.allFreed())
        harness.finish()
    }
}
