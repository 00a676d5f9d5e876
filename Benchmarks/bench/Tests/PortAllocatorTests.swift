// See InboundScannerTests.swift for why this file is wrapped in BENCH_TESTS.
#if BENCH_TESTS
import Dispatch
import Foundation
import Glibc
import Synchronization
import Testing
@testable import bench

/// Stands in for the bind check, so that the lock tests do not depend on what else listens.
private let everyPort: @Sendable (Int) -> Bool = { _ in true }

private func lockDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "natsd-bench-ports-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct PortAllocatorTests {
    @Test func portsLieOutsideTheEphemeralRange() throws {
        #expect(PortAllocator.candidateRange(ephemeral: 32768...60999) == 20000..<32768)
        #expect(PortAllocator.candidateRange(ephemeral: 1024...60999) == 61000..<65536)
        #expect(PortAllocator.candidateRange(ephemeral: 1024...65000) == nil)
        let ephemeral = PortAllocator.ephemeralRange()
        let ports = try #require(PortAllocator.candidateRange(ephemeral: ephemeral))
        #expect(ports.upperBound <= ephemeral.lowerBound || ports.lowerBound > ephemeral.upperBound)
        #expect(PortAllocator.ephemeralRange(path: "/nonexistent") == 32768...60999)
    }

    /// Two allocators on one lock directory stand for two processes (each open of a lock file is
    /// its own flock holder): between them every port is handed out once, then none.
    @Test func twoAllocatorsNeverHandOutTheSamePort() throws {
        let directory = try lockDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ports = 24300..<24310
        let first = PortAllocator(lockDirectory: directory, ports: ports, isBindable: everyPort)
        let second = PortAllocator(lockDirectory: directory, ports: ports, isBindable: everyPort)
        var claimed: [Int] = []
        for _ in 0..<5 { claimed += [try first.claim(), try second.claim()] }
        #expect(claimed.sorted() == Array(ports))
        #expect(throws: BenchError.self) { try first.claim() }
        second.release(claimed[1])
        #expect(try first.claim() == claimed[1])
    }

    /// swift-testing runs tests on many threads: concurrent claims on one allocator are distinct.
    @Test func concurrentClaimsAreDistinct() throws {
        let directory = try lockDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let allocator = PortAllocator(lockDirectory: directory, ports: 24400..<24440, isBindable: everyPort)
        let results = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 40) { _ in
            if let port = try? allocator.claim() { results.withLock { $0.append(port) } }
        }
        let ports = results.withLock { $0 }
        #expect(ports.count == 40)
        #expect(Set(ports).count == 40)
    }

    @Test func aPortSomeoneListensOnIsSkipped() throws {
        let directory = try lockDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Claimed in the shared directory, so no cooperating process binds it meanwhile.
        let port = try PortAllocator.shared.claim()
        defer { PortAllocator.shared.release(port) }
        let onlyThatPort = PortAllocator(lockDirectory: directory, ports: port..<(port + 1))
        // Listen on it without a claim (an unrelated program): the allocator must pass it over.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var listening = true
        defer { if listening { close(fd) } }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        address.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(fd, 1) == 0)
        #expect(throws: BenchError.self) { try onlyThatPort.claim() }
        close(fd)
        listening = false
        #expect(try onlyThatPort.claim() == port)
    }
}

@Suite struct PortsFileTests {
    @Test func parsesTheURLListsOfBothServers() {
        let natsServer = #"{"nats":["nats://127.0.0.1:46375"],"monitoring":["http://127.0.0.1:46253"],"cluster":["nats://127.0.0.1:34165"]}"#
        #expect(PortsFile.parse(Data(natsServer.utf8)) == PortsFile(client: 46375, cluster: 34165, monitoring: 46253))
        let clientOnly = "{\n  \"nats\": [\n    \"nats://[::1]:4222\"\n  ]\n}"
        #expect(PortsFile.parse(Data(clientOnly.utf8)) == PortsFile(client: 4222, cluster: nil, monitoring: nil))
    }

    @Test func incompleteOrForeignContentIsNotAPortsFile() {
        #expect(PortsFile.parse(Data(#"{"nats":["nats://127.0.0.1:4"#.utf8)) == nil)
        #expect(PortsFile.parse(Data(#"{"monitoring":["http://127.0.0.1:8222"]}"#.utf8)) == nil)
        #expect(PortsFile.parse(Data()) == nil)
    }

    @Test func readsTheFileOfOnePid() throws {
        let directory = try lockDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #"{"nats":["nats://127.0.0.1:4001"]}"#.write(toFile: directory + "/natsd_77.ports", atomically: true, encoding: .utf8)
        try #"{"nats":["nats://127.0.0.1:4002"]}"#.write(toFile: directory + "/nats-server_777.ports", atomically: true, encoding: .utf8)
        #expect(PortsFile.read(directory: directory, pid: 77)?.client == 4001)
        #expect(PortsFile.read(directory: directory, pid: 777)?.client == 4002)
        #expect(PortsFile.read(directory: directory, pid: 7) == nil)
    }
}
#endif
