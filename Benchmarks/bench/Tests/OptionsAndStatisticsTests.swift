// See InboundScannerTests.swift for why this file is wrapped in BENCH_TESTS.
#if BENCH_TESTS
import Testing
@testable import bench

@Suite struct BenchOptionsTests {
    @Test func defaults() throws {
        let options = try BenchOptions.parse([])
        #expect(options.mode == .throughput)
        #expect(options.runs == 3)
        #expect(options.messages == 2_000_000)
        #expect(options.build)
        #expect(options.groups == Set(BenchOptions.Group.allCases))
    }

    @Test func flags() throws {
        let options = try BenchOptions.parse([
            "conns", "--count", "500", "--runs", "5", "--msgs", "1_000", "--natsd", "/x/natsd",
            "--nats-server", "/y/nats-server", "--only", "pub,latency", "--timeout", "7", "--keep-logs",
        ])
        #expect(options.mode == .connections)
        #expect(options.connectionCount == 500)
        #expect(options.runs == 5)
        #expect(options.messages == 1000)
        #expect(options.natsdPath == "/x/natsd")
        #expect(!options.build, "--natsd implies --no-build")
        #expect(options.natsServerPath == "/y/nats-server")
        #expect(options.groups == [.pub, .latency])
        #expect(options.timeoutSeconds == 7)
        #expect(options.keepLogs)
    }

    @Test func onlyTheTLSRows() throws {
        #expect(try BenchOptions.parse(["--only", "tls"]).groups == [.tls])
        #expect(try BenchOptions.parse(["--only", "pubsub,tls"]).groups == [.pubsub, .tls])
    }

    @Test(arguments: [["--runs"], ["--runs", "0"], ["--msgs", "-3"], ["--only", "pub,bogus"], ["--frobnicate"]])
    func rejects(arguments: [String]) {
        #expect(throws: BenchError.self) { try BenchOptions.parse(arguments) }
    }

    @Test func scalingFlags() throws {
        let options = try BenchOptions.parse([
            "--loops", "1,2,4", "--pool", "-1, 1,3", "--duration", "0.5", "--chart", "/tmp/x.svg", "--runs", "2",
        ])
        #expect(options.mode == .scaling)
        #expect(options.scaling.loops == [1, 2, 4])
        #expect(options.scaling.pools == [-1, 1, 3])
        #expect(options.scaling.durationSeconds == 0.5)
        #expect(options.scaling.chartPath == "/tmp/x.svg")
        #expect(options.runs == 2)
        let defaults = try BenchOptions.parse(["--loops", "8"])
        #expect(defaults.scaling.loops == [8])
        #expect(defaults.scaling.pools == [3], "nats-server's default pool size")
        #expect(defaults.scaling.durationSeconds == 3)
        #expect(defaults.scaling.chartPath == nil)
        #expect(try BenchOptions.parse([]).scaling.loops.isEmpty)
    }

    @Test func listParsingKeepsOrderAndRejectsJunk() throws {
        let any: (Int) -> Bool = { _ in true }
        #expect(try BenchOptions.parseList("4,1,2", flag: "--x", requirement: "", allowed: any) == [4, 1, 2])
        #expect(try BenchOptions.parseList(" 7 ", flag: "--x", requirement: "", allowed: any) == [7])
        for junk in ["", ",", "1,", ",1", "1,,2", "1;2", "one", "1.5", "2,2", "1,2,1"] {
            #expect(throws: BenchError.self, "\(junk)") {
                try BenchOptions.parseList(junk, flag: "--x", requirement: "", allowed: any)
            }
        }
        let error = #expect(throws: BenchError.self) {
            try BenchOptions.parseList("1,0", flag: "--loops", requirement: "1 to 1024") { $0 >= 1 }
        }
        #expect(error?.message == "--loops needs a comma list of integers, each 1 to 1024; got 1,0")
    }

    @Test(arguments: [
        ["--loops"], ["--loops", "0"], ["--loops", "1025"], ["--loops", "-1"], ["--loops", "1,1"],
        ["--loops", "2", "--pool", "0"], ["--loops", "2", "--pool", "-2"], ["--loops", "2", "--duration", "0"],
        ["--loops", "2", "--duration", "soon"], ["--pool", "3"], ["--chart", "/tmp/x.svg"], ["--duration", "2"],
        ["mesh", "--loops", "2"], ["--loops", "2", "conns"],
    ])
    func rejectsScaling(arguments: [String]) {
        #expect(throws: BenchError.self) { try BenchOptions.parse(arguments) }
    }

    @Test func messageCountScalesDownForBigPayloads() {
        let options = BenchOptions()
        #expect(options.messageCount(for: 16) == 2_000_000)
        #expect(options.messageCount(for: 128) == 2_000_000)
        #expect(options.messageCount(for: 1024) == 250_000)
        #expect(options.messageCount(for: 1 << 20) == 100_000, "never below a twentieth")
    }
}

@Suite struct StatisticsTests {
    @Test func bestAndMedian() {
        let cell = CellResult(values: [3, 1, 2, 10])
        #expect(cell.best(.higherIsBetter) == 10)
        #expect(cell.best(.lowerIsBetter) == 1)
        #expect(cell.median == 2.5)
        #expect(CellResult.median([5, 1, 3]) == 3)
        #expect(CellResult().median == nil)
    }

    @Test func percentilesUseNearestRank() {
        let samples = (1...1000).map(UInt64.init)
        #expect(percentile(samples, 0.5) == 500)
        #expect(percentile(samples, 0.99) == 990)
        #expect(percentile(samples, 0.999) == 999)
        #expect(percentile([7], 0.999) == 7)
    }

    @Test func formatting() {
        #expect(formatRate(1_523_000) == "1.52 M")
        #expect(formatRate(830_400) == "830 k")
        #expect(formatRate(12) == "12")
        #expect(format2(1.005) == "1.01" || format2(1.005) == "1.00")
        #expect(format2(0.5) == "0.50")
        #expect(format1(85.06) == "85.1")
    }

    @Test func tableShowsRatiosAndFootnotes() {
        var row = ReportRow("pub", .higherIsBetter, .rate, contenders: 2)
        row.cells[0].record(2_000_000)
        row.cells[1].record(1_000_000)
        var missing = ReportRow("routed", .higherIsBetter, .rate, contenders: 2)
        missing.cells[0].fail("no routes")
        missing.cells[1].record(500_000)
        let table = ReportTable(
            heading: "h", preamble: [],
            contenders: [
                Contender(label: "natsd", binary: .success("/a"), version: "v1"),
                Contender(label: "nats-server", binary: .success("/b"), version: "v2"),
            ],
            rows: [row, missing], legend: "legend"
        ).render()
        #expect(table.contains("| pub | 2.00 M / 2.00 M | 1.00 M / 1.00 M | 2.00 / 2.00 |"))
        #expect(table.contains("| routed | n/a [1] | 500 k / 500 k | n/a |"))
        #expect(table.contains("[1] no routes"))
    }
}
#endif
