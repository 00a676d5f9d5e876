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

    /// The scaling table's load: every publisher's messages reach every subscriber of its subject,
    /// counted exactly, with the server's CPU time over the window.
    @Test func fanRunsCountEveryMessageAndTheServersCPU() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let deployment = try Deployment.single(
            binary, logDirectory: directory, tuning: LoopsControl(label: "nats-server").tuning(loops: 1)
        )
        defer { deployment.stop() }
        let environment = try String(contentsOfFile: "/proc/\(deployment.servers[0].pid)/environ", encoding: .utf8)
        #expect(environment.split(separator: "\0").contains("GOMAXPROCS=1"), "the tuning's environment reached the server")
        let settings = ScalingSettings(durationSeconds: 0.3)
        var samples = 0
        for scalingCase in [ScalingCase.pairs(count: 2), .fanOut(subscribers: 3)] {
            let result = try FanRun(workload: scalingCase.workload(on: deployment, settings: settings), timeoutSeconds: 20)
                .run {
                    samples += 1
                    return deployment.servers.compactMap { ProcessCPU.read(pid: $0.pid) }
                }
            #expect(result.delivered > 1_000, "\(scalingCase)")
            #expect(result.seconds >= 0.3 && result.seconds < 20)
            let cpu = try #require(result.cpuSeconds)
            #expect(cpu > 0 && cpu < result.seconds * Double(ProcessInfo.processInfo.activeProcessorCount) + 0.1)
        }
        #expect(samples == 4, "one CPU reading before and one after each window")
    }

    @Test func chainWithAPoolSizeFromTheConfigFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/pool1.conf"
        try "cluster {\n  pool_size: 1\n}\n".write(toFile: config, atomically: true, encoding: .utf8)
        let cluster = try Deployment.chainedCluster(binary, logDirectory: directory, tuning: NodeTuning(arguments: ["-c", config]))
        defer { cluster.stop() }
        // nats-server with pool_size 1: one pooled route plus its pinned $SYS route to each peer (4
        // with its default of 3); the pinned one may come a moment after the mesh.
        var perPeer = 0
        let limit = deadline(after: 5)
        while perPeer != 2, monotonicNanos() < limit {
            perPeer = RoutezSnapshot.fetch(monitorPort: cluster.servers[0].monitorPort ?? 0)?.maxConnectionsPerPeer ?? 0
            if perPeer != 2 { usleep(50_000) }
        }
        #expect(perPeer == 2)
        let settings = ScalingSettings(durationSeconds: 0.3)
        let result = try FanRun(workload: ScalingCase.chain(pool: 1).workload(on: cluster, settings: settings), timeoutSeconds: 20)
            .run { nil }
        #expect(result.delivered > 1_000)
        #expect(result.cpuSeconds == nil, "no CPU readings, no CPU column")
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

    @Test func nothingListeningFailsAFanRunAtOnce() throws {
        let port = try PortAllocator.shared.claim()
        defer { PortAllocator.shared.release(port) }
        let workload = ScalingCase.pairs(count: 2).workload(
            publisherPort: port, subscriberPort: port, settings: ScalingSettings(durationSeconds: 0.2)
        )
        let start = monotonicNanos()
        let error = #expect(throws: BenchError.self) { try FanRun(workload: workload, timeoutSeconds: 20).run { nil } }
        #expect(error?.message.contains("connect 127.0.0.1:\(port)") == true)
        // The threads it started are joined, and the ones it never started are not waited for.
        #expect(monotonicNanos() - start < 5_000_000_000)
    }
}
#endif
