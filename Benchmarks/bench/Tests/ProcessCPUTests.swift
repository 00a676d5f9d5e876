// See InboundScannerTests.swift for why this file is wrapped in BENCH_TESTS.
#if BENCH_TESTS
import Foundation
import Glibc
import Testing
@testable import bench

@Suite struct ProcessCPUTests {
    /// A real line of /proc/PID/stat (nats-server, fields 14 and 15 are 1234 and 567).
    static let stat = "4242 (nats-server) S 1 4242 4242 0 -1 4194560 2187 0 0 0 1234 567 0 0 20 0 9 0 "
        + "110857 1263091712 4412 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0\n"

    @Test func readsUserAndSystemTicks() throws {
        let cpu = try #require(ProcessCPU.parse(stat: Self.stat))
        #expect(cpu == ProcessCPU(userTicks: 1234, systemTicks: 567))
        #expect(cpu.totalTicks == 1801)
    }

    @Test func commandNamesWithSpacesAndParenthesesDoNotShiftTheFields() throws {
        let tricky = Self.stat.replacingOccurrences(of: "(nats-server)", with: "(my (odd) server 2)")
        #expect(ProcessCPU.parse(stat: tricky) == ProcessCPU(userTicks: 1234, systemTicks: 567))
    }

    @Test(arguments: ["", "4242 nats-server S 1", "4242 (x) S 1 2 3", "4242 (x) S 1 2 3 4 5 6 7 8 9 10 -5 7 0"])
    func rejectsOtherShapes(text: String) {
        #expect(ProcessCPU.parse(stat: text) == nil)
    }

    @Test func secondsAreTheTickDifferenceSummedOverProcesses() throws {
        let before = [ProcessCPU(userTicks: 100, systemTicks: 10), ProcessCPU(userTicks: 5, systemTicks: 5)]
        let after = [ProcessCPU(userTicks: 250, systemTicks: 60), ProcessCPU(userTicks: 105, systemTicks: 5)]
        let seconds = try #require(ProcessCPU.seconds(from: before, to: after))
        #expect(abs(seconds - 300 / ProcessCPU.ticksPerSecond) < 1e-9)
        #expect(ProcessCPU.seconds(from: before, to: [after[0]]) == nil, "a node missing")
        #expect(ProcessCPU.seconds(from: after, to: before) == nil, "counters never go backwards")
    }

    @Test func secondsPerMillionMessages() {
        #expect(ProcessCPU.secondsPerMillion(cpuSeconds: 1.5, messages: 3_000_000) == 0.5)
        #expect(ProcessCPU.secondsPerMillion(cpuSeconds: 0.25, messages: 500_000) == 0.5)
        #expect(ProcessCPU.secondsPerMillion(cpuSeconds: 1, messages: 0) == nil)
        let result = FanRunResult(delivered: 4_000_000, seconds: 2, cpuSeconds: 3)
        #expect(result.rate == 2_000_000)
        #expect(result.cpuSecondsPerMillion == 0.75)
    }

    @Test func ownProcessCountsTheCPUItBurns() throws {
        #expect(ProcessCPU.ticksPerSecond == 100, "Linux's USER_HZ")
        let before = try #require(ProcessCPU.read(pid: getpid()))
        // 200 ms of this thread's CPU time, by the kernel's own clock: at least 20 ticks.
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        let stop = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + 0.2
        var spins = 0
        repeat {
            spins &+= 1
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        } while Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 < stop
        let after = try #require(ProcessCPU.read(pid: getpid()))
        let seconds = try #require(ProcessCPU.seconds(from: [before], to: [after]))
        #expect(seconds >= 0.15, "spun \(spins) times")
    }
}
#endif
