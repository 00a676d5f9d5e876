import NATSConfig
import Foundation
import Logging

/// Process-wide logging set-up for natsd.
public enum NATSLogging {
    /// The handler new `Logger`s get; replaced by each `bootstrap` (e.g. on config reload).
    private static let current = NSLock()
    /// Guarded by `current`; swift-log allows one `LoggingSystem.bootstrap` per process.
    nonisolated(unsafe) private static var handler = NATSLogHandler()
    nonisolated(unsafe) private static var bootstrapped = false
    /// What the loggers `bootstrap` returned write through: a reload points it at new options.
    private static let reloadable = LogHandlerBox(NATSLogHandler())

    /// Points logging at `options` (`-l` file or stderr, `-D`, `-V`, `-T`, `--logtime_utc`) and returns
    /// natsd's logger. Safe to call more than once: swift-log is bootstrapped on the first call only,
    /// later calls change what new loggers get. A log file that cannot be opened falls back to stderr
    /// with an error line, and the error is returned too: at start-up natsd then exits, as nats-server
    /// does (`error opening file`), rather than run with a log nobody can read.
    public static func bootstrap(options: ServerOptions) -> (logger: Logger, openError: LogOutputError?) {
        var openError: LogOutputError?
        var output = LogOutput.standardError
        if !options.logFile.isEmpty {
            do throws(LogOutputError) {
                output = try LogOutput(appendingTo: options.logFile)
            } catch {
                openError = error
            }
        }
        let newHandler = NATSLogHandler(options: options, output: output)
        current.lock()
        handler = newHandler
        let first = !bootstrapped
        bootstrapped = true
        current.unlock()
        if first {
            LoggingSystem.bootstrap { _ in
                current.lock()
                defer { current.unlock() }
                return handler
            }
        }
        reloadable.replace(with: newHandler)
        let box = reloadable
        let logger = Logger(label: "natsd") { _ in ReloadableLogHandler(box: box) }
        if let openError { logger.error("\(openError.description)") }
        return (logger, openError)
    }

    /// A configuration reload changed debug, trace, logtime or the log file: the loggers `bootstrap` made
    /// write as `options` say from now on. A log file that cannot be opened is reported on the old output,
    /// which stays in use.
    public static func reconfigure(options: ServerOptions) {
        var output = LogOutput.standardError
        if !options.logFile.isEmpty {
            do throws(LogOutputError) {
                output = try LogOutput(appendingTo: options.logFile)
            } catch {
                let box = reloadable
                Logger(label: "natsd") { _ in ReloadableLogHandler(box: box) }.error("\(error.description)")
                return
            }
        }
        let newHandler = NATSLogHandler(options: options, output: output)
        current.withLock { handler = newHandler }
        reloadable.replace(with: newHandler)
    }

    /// SIGUSR1: reopens the current log file at its path (see `LogOutput.reopen`); nothing for stderr.
    public static func reopenLogFile() throws(LogOutputError) {
        current.lock()
        let output = handler.output
        current.unlock()
        try output.reopen()
    }
}
