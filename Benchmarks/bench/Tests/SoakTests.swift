// See InboundScannerTests.swift for why this file is wrapped in BENCH_TESTS.
#if BENCH_TESTS
import Testing
@testable import bench

@Suite struct SoakTests {
    @Test func soakFlags() throws {
        let options = try BenchOptions.parse([
            "soak", "--minutes", "0.5", "--rate", "2_000", "--impl", "nats-server", "--every", "2", "--size", "16",
            "--max-rss-growth", "10",
        ])
        #expect(options.mode == .soak)
        #expect(options.soak.minutes == 0.5)
        #expect(options.soak.rate == 2000)
        #expect(options.soak.implementation == .natsServer)
        #expect(options.soak.intervalSeconds == 2)
        #expect(options.soak.payloadSize == 16)
        #expect(options.soak.maxRSSGrowthPercent == 10)
        #expect(!options.build, "a soak of nats-server does not build natsd")
        let defaults = try BenchOptions.parse(["soak"])
        #expect(defaults.soak == SoakSettings())
        #expect(defaults.soak.implementation == .natsd)
        #expect(defaults.build)
    }

    @Test(arguments: [
        ["soak", "--minutes", "0"], ["soak", "--minutes", "soon"], ["soak", "--rate", "0"], ["soak", "--impl", "gnatsd"],
        ["soak", "--size", "15"], ["soak", "--every", "-1"], ["--rate", "100"], ["mesh", "--minutes", "1"],
        ["soak", "--loops", "2"],
    ])
    func rejectsSoak(arguments: [String]) {
        #expect(throws: BenchError.self) { try BenchOptions.parse(arguments) }
    }

    @Test func stampRoundTrips() {
        let stamp = SoakStamp(sequence: 0x0102_0304_0506_0708, sentNanos: UInt64.max - 5)
        var bytes = [UInt8](repeating: 0, count: 20)
        stamp.encode(into: &bytes, at: 2)
        #expect(bytes[2] == 0x08, "little-endian")
        #expect(SoakStamp(decoding: Array(bytes[2...])) == stamp)
        #expect(SoakStamp(decoding: Array(bytes[2..<17])) == nil)
    }

    @Test func scannerCapturesStampsAtEverySplitPoint() {
        var payload = [UInt8](repeating: UInt8(ascii: "x"), count: 20)
        SoakStamp(sequence: 7, sentNanos: 99).encode(into: &payload, at: 0)
        let short = Array("MSG bench.soak 1 3\r\nabc\r\n".utf8)
        let stream = Array("MSG bench.soak 1 20\r\n".utf8) + payload + Array("\r\nMSG bench.soak.probe 2 20\r\n".utf8)
            + payload + [13, 10] + short + Array("MSG bench.soak 1 _INBOX.x 20\r\n".utf8) + payload + [13, 10]
        for split in 0...stream.count {
            var scanner = InboundScanner()
            scanner.captureStamps = true
            scanner.consume(Array(stream[..<split]))
            scanner.consume(Array(stream[split...]))
            #expect(scanner.dataMessages == 3)
            #expect(scanner.takeStamps() == [SoakStamp(sequence: 7, sentNanos: 99), SoakStamp(sequence: 7, sentNanos: 99)],
                    "split at \(split)")
            #expect(scanner.error == nil)
        }
        var plain = InboundScanner()
        plain.consume(stream)
        #expect(plain.stamps.isEmpty, "capture is off by default")
    }

    private func summary(rss: [[Int]], received: [Int], outOfOrder: Int = 0, failure: String? = nil) -> SoakSummary {
        SoakSummary(
            settings: SoakSettings(), names: ["s1", "s2"], rss: rss, sent: 100, received: received,
            outOfOrder: outOfOrder, worstP99: 2_000_000, maxLatency: 3_000_000, failure: failure
        )
    }

    @Test func summaryVerdict() {
        let good = summary(rss: [[1000, 2000], [1200, 2100], [1100, 2000]], received: [100, 100])
        #expect(good.passed)
        #expect(good.rssGrowthPercent == [10, 0])
        #expect(good.render().last?.contains("PASS") == true)
        #expect(good.render().contains("  s1 RSS MiB first 1.0, last 1.1 (+10.0 %), max 1.2"))

        let lossy = summary(rss: [[1000, 2000], [1000, 2000]], received: [98, 100])
        #expect(lossy.lost == 2)
        #expect(lossy.problems == ["2 deliveries lost"])

        let growing = summary(rss: [[1000, 2000], [1300, 2000]], received: [100, 100])
        #expect(growing.problems == ["s1 RSS grew 30.0 % (limit 25.0 %)"])

        #expect(summary(rss: [[1000, 2000]], received: [100, 100], outOfOrder: 1).problems
                == ["1 messages duplicated or out of order"])
        #expect(!summary(rss: [[1, 1], [1, 1]], received: [100, 100], failure: "s3 killed by signal 9").passed)
    }
}
#endif
