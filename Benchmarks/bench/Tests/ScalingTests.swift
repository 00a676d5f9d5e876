// See InboundScannerTests.swift for why this file is wrapped in BENCH_TESTS.
#if BENCH_TESTS
import Testing
@testable import bench

@Suite struct ScalingCaseTests {
    @Test func casesAndTheirWorkloads() throws {
        #expect(ScalingCase.all(pools: [1, -1]) == [.pairs(count: 4), .fanOut(subscribers: 8), .chain(pool: 1), .chain(pool: -1)])
        let settings = ScalingSettings(durationSeconds: 2)
        let pairs = ScalingCase.pairs(count: 4).workload(publisherPort: 10, subscriberPort: 20, settings: settings)
        #expect(pairs.subjects == ["s.0", "s.1", "s.2", "s.3"])
        #expect(pairs.subscribersPerSubject == 1)
        #expect(pairs.subscriberCount == 4)
        #expect(pairs.publishSeconds == 2)
        #expect(pairs.payloadSize == 16)
        let fan = ScalingCase.fanOut(subscribers: 8).workload(publisherPort: 10, subscriberPort: 20, settings: settings)
        #expect(fan.subjects == ["s.0"])
        #expect(fan.subscriberCount == 8)
        let chain = ScalingCase.chain(pool: 3).workload(publisherPort: 10, subscriberPort: 30, settings: settings)
        #expect(chain.subjects == ["s.0"] && chain.subscriberCount == 1 && chain.subscriberPort == 30)
        #expect(ScalingCase.chain(pool: -1).isChain && !ScalingCase.fanOut(subscribers: 8).isChain)
        #expect(ScalingCase.chain(pool: -1).title == "3-node chain s1 → s3, pool_size -1")
    }

    @Test func loopsReachEachServerItsOwnWay() {
        #expect(LoopsControl(label: "natsd").tuning(loops: 4) == NodeTuning(arguments: ["--loops", "4"]))
        #expect(LoopsControl(label: "nats-server").tuning(loops: 4) == NodeTuning(environment: ["GOMAXPROCS": "4"]))
        let chained = NodeTuning(environment: ["GOMAXPROCS": "2"]).adding(arguments: ["-c", "p.conf"])
        #expect(chained == NodeTuning(arguments: ["-c", "p.conf"], environment: ["GOMAXPROCS": "2"]))
    }
}

@Suite struct PublishBatchTests {
    @Test func wholeFramesUpToTheBatchSize() {
        let batch = PublishBatch(subject: "s.1", payloadSize: 16)
        let frame = Array("PUB s.1 16\r\nxxxxxxxxxxxxxxxx\r\n".utf8)
        #expect(batch.frameLength == frame.count)
        #expect(batch.frames == ThroughputRun.batchBytes / frame.count)
        #expect(batch.bytes.count == batch.frames * frame.count)
        #expect(Array(batch.bytes.suffix(frame.count)) == frame)
        let huge = PublishBatch(subject: "s", payloadSize: ThroughputRun.batchBytes)
        #expect(huge.frames == 1, "a frame bigger than the batch still goes out whole")
    }
}

@Suite struct ScalingReportTests {
    static let contenders = [
        Contender(label: "natsd", binary: .success("/a"), version: "v1"),
        Contender(label: "nats-server", binary: .success("/b"), version: "v2"),
    ]

    static func rows() -> [ScalingReport.Row] {
        var one = ScalingReport.Row(scalingCase: .pairs(count: 4), loops: 1, contenders: 2)
        one.cells[0].runs = [
            FanRunResult(delivered: 6_000_000, seconds: 2, cpuSeconds: 1.8),
            FanRunResult(delivered: 4_000_000, seconds: 2, cpuSeconds: 1.6),
            FanRunResult(delivered: 5_000_000, seconds: 2, cpuSeconds: 2.0),
        ]
        one.cells[1].runs = [FanRunResult(delivered: 2_000_000, seconds: 2, cpuSeconds: nil)]
        var two = ScalingReport.Row(scalingCase: .pairs(count: 4), loops: 2, contenders: 2)
        two.cells[0].runs = [FanRunResult(delivered: 8_000_000, seconds: 2, cpuSeconds: 2)]
        two.cells[1].fail("nats-server s1 exited with status 1")
        return [one, two]
    }

    @Test func tableShowsRatesRatioAndCPU() {
        let table = ScalingReport(preamble: ["machine: m"], contenders: Self.contenders, rows: Self.rows()).render()
        #expect(table.contains("| case | loops | natsd msgs/s | nats-server msgs/s | ratio natsd/nats-server | natsd CPU s/M | nats-server CPU s/M |"))
        // Best 3 M, median 2.5 M; CPU s per M: 0.3, 0.4, 0.4 → median 0.40; loops 2: 2 s over 8 M.
        #expect(table.contains("| 1 node, 4 pub × 4 sub, distinct subjects | 1 | 3.00 M / 2.50 M | 1.00 M / 1.00 M | 3.00 / 2.50 | 0.40 | n/a |"))
        #expect(table.contains("| 1 node, 4 pub × 4 sub, distinct subjects | 2 | 4.00 M / 4.00 M | n/a [1] | n/a | 0.25 | n/a |"))
        #expect(table.contains("[1] nats-server s1 exited with status 1"))
    }

    @Test func chartTakesTheMedians() {
        let chart = ScalingReport(preamble: [], contenders: Self.contenders, rows: Self.rows()).chart(title: "t", subtitle: "")
        #expect(chart.panels.count == 1)
        #expect(chart.panels[0].series[0] == .init(label: "natsd", points: [.init(loops: 1, rate: 2_500_000), .init(loops: 2, rate: 4_000_000)]))
        #expect(chart.panels[0].series[1] == .init(label: "nats-server", points: [.init(loops: 1, rate: 1_000_000)]))
    }
}
#endif
