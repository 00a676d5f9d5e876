import Foundation
import Logging
import Testing
@testable import NATSLogging
import NATSConfig

@Suite struct NATSLogHandlerTests {
    /// 2026-11-21 07:56:24.123456 UTC.
    static let fixed = Date(timeIntervalSince1970: 1_795_247_784.123456)

    func handler(_ output: LogOutput = .standardError, timestamps: Bool = true) -> NATSLogHandler {
        NATSLogHandler(output: output, timestamps: timestamps, utc: true, pid: 42, clock: { Self.fixed })
    }

    @Test func lineShape() {
        #expect(handler().formatLine(level: .info, message: "Starting nats-server")
            == "[42] 2026/11/21 07:56:24.123456 [INF] Starting nats-server\n")
        #expect(handler(timestamps: false).formatLine(level: .warning, message: "w") == "[42] [WRN] w\n")
        #expect(handler(timestamps: false).formatLine(level: .info, message: "m", metadata: ["b": "2", "a": "1"])
            == "[42] [INF] m a=1 b=2\n")
    }

    @Test(arguments: [
        (Logger.Level.trace, "[TRC]"), (.debug, "[DBG]"), (.info, "[INF]"), (.notice, "[INF]"),
        (.warning, "[WRN]"), (.error, "[ERR]"), (.critical, "[FTL]"),
    ])
    func tags(_ level: Logger.Level, _ tag: String) {
        #expect(NATSLogHandler.tag(level) == tag)
    }

    @Test func timestampPadding() {
        #expect(NATSLogHandler.timestamp(Date(timeIntervalSince1970: 0.000001), utc: true) == "1970/01/01 00:00:00.000001")
    }

    @Test func levelsFromOptions() {
        var options = ServerOptions()
        let output = LogOutput.standardError
        #expect(NATSLogHandler(options: options, output: output).logLevel == .info)
        options.debug = true
        #expect(NATSLogHandler(options: options, output: output).logLevel == .debug)
        options.trace = true
        let both = NATSLogHandler(options: options, output: output)
        #expect(both.logLevel == .trace && !both.suppressesDebug)
        options.debug = false
        options.logTimeUTC = true
        options.logTime = false
        let traceOnly = NATSLogHandler(options: options, output: output)
        #expect(traceOnly.logLevel == .trace && traceOnly.suppressesDebug && traceOnly.utc && !traceOnly.timestamps)
    }

    @Test func writesWholeLinesToFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("natsd-\(UUID()).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "old\n".write(toFile: path, atomically: true, encoding: .utf8)
        do {
            var h = handler(try LogOutput(appendingTo: path), timestamps: false)
            h.suppressesDebug = true
            h.logLevel = .trace
            let logger = Logger(label: "test") { _ in h }
            logger.info("hello")
            logger.debug("hidden while tracing without -D")
            logger.trace("<<- [PING]")
            DispatchQueue.concurrentPerform(iterations: 200) { i in logger.error("line \(i)") }
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.prefix(3) == ["old", "[42] [INF] hello", "[42] [TRC] <<- [PING]"])
        #expect(lines.count == 203)
        #expect(lines.dropFirst(3).allSatisfy { $0.hasPrefix("[42] [ERR] line ") })
    }

    @Test func unopenableLogFile() {
        #expect(throws: LogOutputError.self) { try LogOutput(appendingTo: "/nonexistent-dir/x.log") }
    }
}

/// Log rotation (SIGUSR1): after the file is renamed, `reopen()` sends later lines to a new file at
/// the original path, through the same descriptor number.
@Suite struct LogOutputReopenTests {
    @Test func reopenAfterRenameWritesToNewFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("natsd-log-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("natsd.log").path
        let rotated = path + ".1"
        let output = try LogOutput(appendingTo: path)
        let descriptor = output.descriptor
        output.write("before\n")
        try FileManager.default.moveItem(atPath: path, toPath: rotated)
        output.write("still old\n")
        try output.reopen()
        output.write("after\n")
        #expect(output.descriptor == descriptor)
        #expect(try String(contentsOfFile: rotated, encoding: .utf8) == "before\nstill old\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "after\n")
    }

    @Test func reopenFailureKeepsWritingToTheOldFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("natsd-log-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sub/natsd.log").path
        try FileManager.default.createDirectory(atPath: directory.appendingPathComponent("sub").path, withIntermediateDirectories: true)
        let output = try LogOutput(appendingTo: path)
        let moved = directory.appendingPathComponent("moved").path
        try FileManager.default.moveItem(atPath: directory.appendingPathComponent("sub").path, toPath: moved)
        #expect(throws: LogOutputError.self) { try output.reopen() }
        output.write("kept\n")
        #expect(try String(contentsOfFile: moved + "/natsd.log", encoding: .utf8) == "kept\n")
    }

    @Test func standardErrorHasNothingToReopen() throws {
        try LogOutput.standardError.reopen()
        #expect(LogOutput.standardError.path == nil)
    }
}
