// See InboundScannerTests.swift for why this file is wrapped in BENCH_TESTS.
#if BENCH_TESTS
import Foundation
import Testing
@testable import bench

/// The real nats-server: `$NATS_SERVER`, `.venv/bin/nats-server`, or PATH.
let referenceServer: String? = {
    if let path = ProcessInfo.processInfo.environment["NATS_SERVER"] { return path }
    let venv = FileManager.default.currentDirectoryPath + "/.venv/bin/nats-server"
    if FileManager.default.isExecutableFile(atPath: venv) { return venv }
    return BenchSetup.findInPath("nats-server")
}()

private func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "natsd-bench-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Black-box runs of the load generators against nats-server, so they are known to measure the
/// real thing before they are pointed at natsd.
@Suite(.serialized, .enabled(if: referenceServer != nil, "needs nats-server"))
struct LoadGeneratorTests {
    let binary = ServerBinary(label: "nats-server", path: referenceServer ?? "")

    @Test func singleNodeThroughput() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let deployment = try Deployment.single(binary, logDirectory: directory)
        defer { deployment.stop() }
        #expect(deployment.servers[0].monitorPort != nil)
        let publishOnly = try ThroughputRun(
            publisherPort: deployment.port(0), subscriberPort: nil, payloadSize: 16, messageCount: 50_000, timeoutSeconds: 20
        ).run()
        #expect(publishOnly > 10_000)
        let pubSub = try ThroughputRun(
            publisherPort: deployment.port(0), subscriberPort: deployment.port(0), payloadSize: 1024,
            messageCount: 20_000, timeoutSeconds: 20
        ).run()
        #expect(pubSub > 1_000)
        #expect(deployment.servers[0].residentKiB() ?? 0 > 1024)
    }

    @Test func chainedClusterRoutesAndAnswersRequests() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cluster = try Deployment.chainedCluster(binary, logDirectory: directory)
        defer { cluster.stop() }
        for server in cluster.servers {
            #expect(remoteServerCount(monitorPort: server.monitorPort ?? 0) == 2)
        }
        // The fallback used when a server has no /routez: a NATS port is not an HTTP endpoint.
        #expect(remoteServerCount(monitorPort: cluster.port(0)) == nil)
        try cluster.probeRoute(fromPort: cluster.port(0), toPort: cluster.port(2), until: deadline(after: 5))
        let routed = try ThroughputRun(
            publisherPort: cluster.port(0), subscriberPort: cluster.port(2), payloadSize: 128,
            messageCount: 20_000, timeoutSeconds: 20
        ).run()
        #expect(routed > 1_000)
        let samples = try LatencyRun(
            requesterPort: cluster.port(0), responderPort: cluster.port(2), payloadSize: 16, roundTrips: 300, timeoutSeconds: 20
        ).run()
        #expect(samples.count == 300)
        #expect(samples.allSatisfy { $0 > 1_000 && $0 < 5_000_000_000 })
        cluster.stop()
        #expect(cluster.servers.allSatisfy { $0.exitStatus() != nil }, "stop() reaps every node")
    }
}

@Suite struct ServerFailureTests {
    @Test func binaryThatExitsIsReportedWithItsStatus() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let error = #expect(throws: BenchError.self) {
            try Deployment.single(ServerBinary(label: "false", path: "/bin/false"), logDirectory: directory)
        }
        #expect(error?.message.contains("exited with status 1") == true)
    }

    @Test func nothingListeningMeansThroughputFails() throws {
        let port = try PortAllocator.shared.claim()  // claimed: no server of ours can bind it meanwhile
        defer { PortAllocator.shared.release(port) }
        #expect(throws: BenchError.self) {
            try ThroughputRun(publisherPort: port, subscriberPort: nil, payloadSize: 16, messageCount: 10, timeoutSeconds: 2).run()
        }
    }
}
#endif
