// See InboundScannerTests.swift for why this file is wrapped in BENCH_TESTS.
#if BENCH_TESTS
import Foundation
import Testing
@testable import bench

private func routez(_ serverID: String, _ routes: [(rid: Int, remote: String, start: String)], numRoutes: Int? = nil) -> [UInt8] {
    let entries = routes.map {
        "{\"rid\":\($0.rid),\"remote_id\":\"\($0.remote)\",\"remote_name\":\"n\",\"start\":\"\($0.start)\",\"subscriptions\":0}"
    }
    return Array("{\"server_id\":\"\(serverID)\",\"num_routes\":\(numRoutes ?? routes.count),\"routes\":[\(entries.joined(separator: ","))]}".utf8)
}

private func snapshot(_ serverID: String, _ routes: [(rid: Int, remote: String, start: String)]) -> RoutezSnapshot {
    RoutezSnapshot.parse(routez(serverID, routes))!
}

@Suite struct RoutezSnapshotTests {
    @Test func pooledRoutesCountOncePerPeer() throws {
        // nats-server's default: pool of 3 plus the pinned $SYS connection, all with the same remote_id.
        let body = routez("A", [(1, "B", "t1"), (2, "B", "t1"), (3, "B", "t2"), (4, "B", "t2"), (5, "C", "t3")])
        let parsed = try #require(RoutezSnapshot.parse(body))
        #expect(parsed.serverID == "A")
        #expect(parsed.numRoutes == 5)
        #expect(parsed.remoteIDs == ["B", "C"])
        #expect(parsed.maxConnectionsPerPeer == 4)
        #expect(parsed.routes[2] == RoutezSnapshot.Route(rid: 3, remoteID: "B", start: "t2"))
    }

    @Test func noRoutesAtAll() throws {
        let null = try #require(RoutezSnapshot.parse(Array(#"{"server_id":"A","num_routes":0,"routes":null}"#.utf8)))
        #expect(null.remoteIDs.isEmpty)
        #expect(null.maxConnectionsPerPeer == 0)
        let missing = try #require(RoutezSnapshot.parse(Array(#"{"server_id":"A","num_routes":0}"#.utf8)))
        #expect(missing.routes.isEmpty)
    }

    @Test func remoteNameStandsInForAMissingRemoteID() throws {
        let parsed = try #require(RoutezSnapshot.parse(Array(#"{"server_id":"A","routes":[{"rid":1,"remote_name":"B"}]}"#.utf8)))
        #expect(parsed.remoteIDs == ["B"])
        #expect(parsed.numRoutes == 1, "num_routes falls back to the number of entries")
    }

    @Test(arguments: [
        "", "not json", "[]", #"{"connections":[]}"#, #"{"server_id":"A","routes":{}}"#,
        #"{"server_id":"A","routes":[{"remote_id":"B"}]}"#,
    ])
    func rejects(body: String) {
        #expect(RoutezSnapshot.parse(Array(body.utf8)) == nil)
    }
}

@Suite struct MeshObservationTests {
    @Test func fullMeshNeedsEveryNodeRoutedToEveryOther() {
        var observation = MeshObservation(nodeCount: 3)
        #expect(!observation.isFullMesh)
        observation.record(node: 0, snapshot("A", [(1, "B", "t"), (2, "C", "t")]))
        observation.record(node: 1, snapshot("B", [(1, "A", "t"), (2, "C", "t")]))
        #expect(!observation.isFullMesh, "node 2 has not answered")
        #expect(observation.peerCounts == [2, 2, -1])
        observation.record(node: 2, snapshot("C", [(1, "A", "t"), (2, "A", "t")]))
        #expect(!observation.isFullMesh, "two connections to one peer are still one peer")
        observation.record(node: 2, snapshot("C", [(1, "A", "t"), (3, "B", "t")]))
        #expect(observation.isFullMesh)
        #expect(observation.routeCounts == [2, 2, 2])
    }

    @Test func churnCountsOnlyAfterTheFullMesh() {
        var observation = MeshObservation(nodeCount: 2)
        observation.record(node: 0, snapshot("A", [(1, "B", "t1")]))
        observation.record(node: 0, snapshot("A", [(2, "B", "t2")]))
        observation.record(node: 1, snapshot("B", [(1, "A", "t1")]))
        #expect(observation.isFullMesh)
        observation.markFullMesh()
        #expect(observation.openedAfterMesh == 0 && observation.closedAfterMesh == 0, "churn before the mesh is not counted")
        #expect(observation.maxConnectionsPerPeer == 1)

        observation.record(node: 0, nil)
        observation.record(node: 0, snapshot("A", [(2, "B", "t2")]))
        #expect(observation.openedAfterMesh == 0, "a failed poll keeps the previous snapshot")
        // Node B's route is replaced: new rid, new start.
        observation.record(node: 1, snapshot("B", [(1, "A", "t1"), (7, "A", "t9")]))
        observation.record(node: 1, snapshot("B", [(7, "A", "t9")]))
        #expect(observation.openedAfterMesh == 1)
        #expect(observation.closedAfterMesh == 1)
        #expect(observation.maxConnectionsPerPeer == 2)
        // Same rid, different start: a restart of the counter, still a new connection.
        observation.record(node: 1, snapshot("B", [(7, "A", "t10")]))
        #expect(observation.openedAfterMesh == 2 && observation.closedAfterMesh == 2)
        #expect(observation.fewestPeersAfterMesh == 1)
        observation.record(node: 1, snapshot("B", []))
        #expect(observation.fewestPeersAfterMesh == 0)
    }

    @Test func duplicateRouteLinesOfBothServers() {
        let log = """
            [1] 2026/11/21 08:19:53.762780 [DBG] 127.0.0.1:48119 - rid:7 - Duplicate route to NAAA, closing
            [2] 2026/11/21 08:19:56.996675 [DBG] 127.0.0.1:39382 - rid:27 - Detected duplicate remote route "NBBB"
            [2] 2026/11/21 08:19:56.997481 [INF] 127.0.0.1:39382 - rid:27 - Router connection closed: Duplicate Route - Remote: NBBB
            [2] 2026/11/21 08:19:57.000000 [INF] 127.0.0.1:39382 - rid:28 - Route connection created
            """
        #expect(MeshRun.countDuplicateRouteLines(in: log) == 2, "one line per closed connection")
        #expect(MeshRun.countDuplicateRouteLines(in: "") == 0)
    }
}

@Suite struct MeshReportTests {
    static func result(
        nodes: Int = 10, seconds: Double?, opened: Int = 0, closed: Int = 0, perPeer: Int = 1, routes: [Int] = [9, 9],
        duplicates: (Int, Int)? = nil
    ) -> MeshRunResult {
        MeshRunResult(
            nodeCount: nodes, meshSeconds: seconds, peerCounts: seconds == nil ? [9, 7, 8] : [9, 9, 9],
            openedAfterMesh: opened, closedAfterMesh: closed, maxConnectionsPerPeer: perPeer, routeCounts: routes,
            fewestPeersAfterMesh: 9, duplicatesBeforeMesh: duplicates?.0, duplicatesAfterMesh: duplicates?.1
        )
    }

    @Test func rendersTheTable() {
        let contenders = [
            Contender(label: "natsd", binary: .success("/bin/natsd"), version: "natsd 1"),
            Contender(label: "nats-server", binary: .success("/bin/nats-server"), version: "nats-server 2"),
        ]
        var ten = MeshReport.Row(nodeCount: 10, contenders: 2)
        ten.cells[0].results = [
            Self.result(seconds: 1.5, duplicates: (3, 0)), Self.result(seconds: 1.2, duplicates: (1, 0)),
            Self.result(seconds: 2.0, duplicates: (2, 0)),
        ]
        ten.cells[1].results = [
            Self.result(seconds: nil), Self.result(seconds: 3.25, opened: 4, perPeer: 4, routes: [36, 36], duplicates: (5, 1)),
        ]
        var forty = MeshReport.Row(nodeCount: 40, contenders: 2)
        forty.cells[0].results = [Self.result(nodes: 40, seconds: nil), Self.result(nodes: 40, seconds: nil)]
        forty.cells[1].fail("nats-server node 3 exited with status 1: boom")
        var settings = MeshSettings()
        settings.countDuplicatesInLogs = true
        let text = MeshReport(preamble: ["machine: test"], contenders: contenders, rows: [ten, forty], settings: settings).render()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains(
            "| nodes | natsd seconds (best/median) | nats-server seconds | natsd churn after mesh | nats-server churn |"
        ))
        #expect(lines.contains("|---:|---:|---:|---|---|"))
        #expect(lines.contains(
            "| 10 | 1.20 / 1.50 | 3.25 / 3.25 (1 of 2 timed out) "
                + "| 0 closed / 0 opened · num_routes 9–9 · ≤1 per peer · dup log 6 + 0 "
                + "| 0 closed / 4 opened · num_routes 36–36 · ≤4 per peer · dup log 5 + 1 |"
        ))
        #expect(lines.contains("| 40 | timeout (2 of 2; closest run's worst node: 7 of 39 peers) | n/a [1] | n/a | n/a [1] |"))
        #expect(lines.contains("[1] nats-server node 3 exited with status 1: boom  "))
        #expect(lines.contains("- natsd: natsd 1 (`/bin/natsd`)"))
    }

    @Test func withoutDebugLogsTheLegendSaysHowToCountDuplicates() {
        let report = MeshReport(preamble: [], contenders: [], rows: [], settings: MeshSettings())
        #expect(report.render().contains("run with --dup-logs"))
    }
}

@Suite struct MeshOptionsTests {
    @Test func meshFlags() throws {
        let options = try BenchOptions.parse([
            "mesh", "--nodes", "3,5", "--runs", "2", "--mesh-timeout", "20", "--settle", "2", "--poll-ms", "25", "--dup-logs",
        ])
        #expect(options.mode == .mesh)
        #expect(options.meshNodeCounts == [3, 5])
        #expect(options.runs == 2)
        #expect(options.mesh == MeshSettings(timeoutSeconds: 20, settleSeconds: 2, pollMilliseconds: 25, countDuplicatesInLogs: true))
        let defaults = try BenchOptions.parse(["mesh"])
        #expect(defaults.meshNodeCounts == [10, 20, 40])
        #expect(defaults.mesh == MeshSettings())
    }

    @Test(arguments: [["--nodes", "1"], ["--nodes", "10,x"], ["--nodes", ""], ["--settle", "0"], ["--poll-ms"]])
    func rejects(arguments: [String]) {
        #expect(throws: BenchError.self) { try BenchOptions.parse(["mesh"] + arguments) }
    }
}

/// `$NATSD` when set (e.g. `.build-mesh/release/natsd`); the 3-node run then also covers natsd.
private let natsdUnderTest = ProcessInfo.processInfo.environment["NATSD"]

@Suite(.serialized) struct MeshRunTests {
    private func run(_ binary: ServerBinary) throws -> MeshRunResult {
        let directory = NSTemporaryDirectory() + "natsd-bench-mesh-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let settings = MeshSettings(timeoutSeconds: 30, settleSeconds: 1, pollMilliseconds: 50, countDuplicatesInLogs: true)
        return try MeshRun(binary: binary, nodeCount: 3, settings: settings, logDirectory: directory, runLabel: "test").run()
    }

    @Test(.enabled(if: referenceServer != nil, "needs nats-server"))
    func threeNodeChainOfNatsServer() throws {
        let result = try run(ServerBinary(label: "nats-server", path: referenceServer ?? ""))
        let seconds = try #require(result.meshSeconds)
        #expect(seconds > 0 && seconds < 30)
        #expect(result.peerCounts == [2, 2, 2])
        // Pool of 3 plus the pinned $SYS route per peer, 2 peers each.
        #expect(result.maxConnectionsPerPeer == 4)
        #expect(result.routeCounts == [8, 8, 8])
        #expect(result.closedAfterMesh == 0)
        #expect(result.duplicatesBeforeMesh != nil && result.duplicatesAfterMesh != nil)
    }

    @Test(.enabled(if: natsdUnderTest != nil, "set NATSD to a natsd binary"))
    func threeNodeChainOfNatsd() throws {
        let result = try run(ServerBinary(label: "natsd", path: natsdUnderTest ?? ""))
        #expect(result.meshSeconds != nil)
        #expect(result.routeCounts == [2, 2, 2])
        #expect(result.maxConnectionsPerPeer == 1)
        #expect(result.churn == 0)
        #expect(result.duplicatesAfterMesh == 0)
    }

    @Test func aBinaryThatExitsFailsTheRun() {
        let error = #expect(throws: BenchError.self) { try run(ServerBinary(label: "false", path: "/bin/false")) }
        #expect(error?.message.contains("exited with status 1") == true)
    }
}
#endif
