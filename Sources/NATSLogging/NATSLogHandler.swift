#if canImport(Glibc)
import NATSConfig
import Glibc
#endif
import Foundation
import Logging

/// A swift-log handler printing nats-server's line shape:
/// `[<pid>] 2026/11/21 07:56:24.123456 [INF] message` (or `[<pid>] [INF] message` without timestamps).
public struct NATSLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    /// Drops `.debug` while `.trace` is on: nats-server's `-V` traces without debug lines.
    public var suppressesDebug: Bool
    public let timestamps: Bool
    public let utc: Bool
    public let pid: Int32
    public let output: LogOutput
    /// The time source; tests inject a fixed one.
    public let clock: @Sendable () -> Date

    public init(
        output: LogOutput = .standardError,
        logLevel: Logger.Level = .info,
        suppressesDebug: Bool = false,
        timestamps: Bool = true,
        utc: Bool = false,
        pid: Int32 = getpid(),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.output = output
        self.logLevel = logLevel
        self.suppressesDebug = suppressesDebug
        self.timestamps = timestamps
        self.utc = utc
        self.pid = pid
        self.clock = clock
    }

    /// A handler for `options`: `-D` debug, `-V` trace (debug only with `-DV`), `-T`, `--logtime_utc`.
    public init(options: ServerOptions, output: LogOutput) {
        let level: Logger.Level = options.trace ? .trace : options.debug ? .debug : .info
        self.init(
            output: output, logLevel: level, suppressesDebug: options.trace && !options.debug,
            timestamps: options.logTime, utc: options.logTimeUTC)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        if suppressesDebug && event.level == .debug { return }
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        output.write(formatLine(level: event.level, message: event.message.description, metadata: merged))
    }

    /// The full line, newline included.
    public func formatLine(level: Logger.Level, message: String, metadata: Logger.Metadata = [:]) -> String {
        var line = "[\(pid)] "
        if timestamps {
            line += Self.timestamp(clock(), utc: utc)
            line += " "
        }
        line += Self.tag(level)
        line += " "
        line += message
        for key in metadata.keys.sorted() {
            line += " \(key)=\(metadata[key]!)"
        }
        line += "\n"
        return line
    }

    /// nats-server's level tags.
    public static func tag(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "[TRC]"
        case .debug: "[DBG]"
        case .info, .notice: "[INF]"
        case .warning: "[WRN]"
        case .error: "[ERR]"
        case .critical: "[FTL]"
        }
    }

    /// Go's `2006/01/02 15:04:05.000000`, in UTC or the local zone.
    public static func timestamp(_ date: Date, utc: Bool) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        var micros = Int(((interval - interval.rounded(.down)) * 1_000_000).rounded())
        if micros >= 1_000_000 {
            seconds += 1
            micros -= 1_000_000
        }
        var parts = tm()
        if utc { gmtime_r(&seconds, &parts) } else { localtime_r(&seconds, &parts) }
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))/\(pad(Int(parts.tm_mon) + 1, 2))/\(pad(Int(parts.tm_mday), 2)) "
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2)).\(pad(micros, 6))"
    }
}
