// bench: natsd against nats-server on this machine; a markdown report on stdout, progress on stderr.
import Dispatch
import Foundation
import Glibc

signal(SIGPIPE, SIG_IGN)

let options: BenchOptions
do {
    options = try BenchOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(2)
}

let fileLimit = BenchSetup.raiseFileLimit()
if options.mode == .connections, fileLimit < options.connectionCount + 100 {
    log("open-file limit is \(fileLimit); \(options.connectionCount) connections will likely fail")
}

var template = Array("/tmp/natsd-bench.XXXXXX".utf8CString)
guard let made = mkdtemp(&template) else {
    log("cannot create a temporary directory: \(String(cString: strerror(errno)))")
    exit(1)
}
let logDirectory = String(cString: made)

// Ctrl-C and friends: kill every server we started before leaving.
let signalSources = installCleanupOnSignals(removing: options.keepLogs ? nil : logDirectory)

let natsdBinary = BenchSetup.natsdBinary(options)
let natsServerBinary = BenchSetup.natsServerBinary(options)
let contenders = [
    Contender(
        label: "natsd", binary: natsdBinary,
        version: (try? natsdBinary.get()).flatMap(BenchSetup.version(of:))
            ?? BenchSetup.gitRevision().map { "natsd (git \($0))" } ?? "natsd"
    ),
    Contender(
        label: "nats-server", binary: natsServerBinary,
        version: (try? natsServerBinary.get()).flatMap(BenchSetup.version(of:)) ?? "nats-server"
    ),
]

let machine = BenchSetup.machineDescription()
let report: String
var exitStatus: Int32 = 0
switch options.mode {
case .throughput:
    let suite = ThroughputSuite(options: options, contenders: contenders, logDirectory: logDirectory)
    suite.runAll()
    report = ReportTable(
        heading: "natsd vs nats-server: throughput and latency",
        preamble: [
            "machine: \(machine)",
            "runs: \(options.runs) per cell, interleaved; messages per run: \(options.messages) at 16 B and 128 B, "
                + "\(options.messageCount(for: 1024)) at 1 KiB, \(options.messageCount(for: 16 * 1024)) at 16 KiB; "
                + "\(options.latencyRoundTrips) round trips per latency run",
        ],
        contenders: contenders, rows: suite.rows,
        legend: "cells are best / median over the runs; ratio = natsd ÷ nats-server (best / median): "
            + "above 1 is better for msgs/s, below 1 is better for latency"
    ).render()
case .connections:
    let suite = ConnectionsSuite(options: options, contenders: contenders, logDirectory: logDirectory)
    suite.runAll()
    report = ReportTable(
        heading: "natsd vs nats-server: memory with \(options.connectionCount) connections",
        preamble: ["machine: \(machine)", "runs: \(options.runs), interleaved; RSS is VmRSS from /proc/PID/status"],
        contenders: contenders, rows: suite.rows,
        legend: "cells are best / median; ratio = natsd ÷ nats-server, below 1 is better"
    ).render()
case .mesh:
    let suite = MeshSuite(options: options, contenders: contenders, logDirectory: logDirectory)
    suite.runAll()
    report = MeshReport(
        preamble: [
            "machine: \(machine)",
            "runs: \(options.runs) per size, interleaved; all nodes started at once, node i routes only to node i-1; "
                + "/routez polled on every node concurrently every \(options.mesh.pollMilliseconds) ms",
        ],
        contenders: contenders, rows: suite.rows, settings: options.mesh
    ).render()
case .soak:
    // The soak prints its lines as it goes; `report` is empty and the verdict is the exit status.
    let contender = contenders[options.soak.implementation == .natsd ? 0 : 1]
    let label = contender.label
    switch contender.binary {
    case .failure(let error):
        log("\(label) unavailable: \(error.message)")
        exitStatus = 2
    case .success(let path):
        log("soak: \(contender.version), machine: \(machine)")
        let run = SoakRun(settings: options.soak, binary: ServerBinary(label: label, path: path), logDirectory: logDirectory)
        exitStatus = run.run() ? 0 : 1
    }
    report = ""
case .scaling:
    let scaling = options.scaling
    let suite = ScalingSuite(options: options, contenders: contenders, logDirectory: logDirectory)
    suite.runAll()
    let table = ScalingReport(
        preamble: [
            "machine: \(machine)",
            "runs: \(options.runs) per cell, interleaved; each run publishes \(scaling.payloadSize) B messages for "
                + "\(format1(scaling.durationSeconds)) s; natsd with --loops L, nats-server with GOMAXPROCS=L; "
                + "load generators (one thread per connection) on the same machine",
        ],
        contenders: contenders, rows: suite.rows
    )
    report = table.render()
    if let path = scaling.chartPath {
        let svg = table.chart(
            title: "natsd vs nats-server: msgs/s against event loops, \(scaling.payloadSize) B messages", subtitle: machine
        ).render()
        do {
            try svg.write(toFile: path, atomically: true, encoding: .utf8)
            log("chart written to \(path)")
        } catch {
            log("cannot write the chart to \(path): \(error)")
        }
    }
}

childRegistry.killAll()
if !report.isEmpty { print(report) }
if options.keepLogs {
    log("server logs kept in \(logDirectory)")
} else {
    try? FileManager.default.removeItem(atPath: logDirectory)
}
_ = signalSources
exit(exitStatus)
