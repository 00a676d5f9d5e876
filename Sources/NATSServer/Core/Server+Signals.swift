import Foundation
import Logging
import UVLoop

/// The signals nats-server traps (server/signal.go): SIGINT and SIGTERM shut down, SIGUSR1 reopens the
/// log file, SIGUSR2 enters lame duck mode, SIGHUP reloads the configuration. Every one is handled, so
/// a routine `kill -HUP` never takes a node down; until reload and lame duck mode exist, those two log a
/// warning and the server keeps running.
extension Server {
    /// The signals natsd watches, in the order their watchers are installed.
    static let trappedSignals: [Int32] = [SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGHUP]

    /// Go's name of a signal, which nats-server prints in `Trapped "<name>" signal`.
    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: "interrupt"
        case SIGTERM: "terminated"
        case SIGUSR1: "user defined signal 1"
        case SIGUSR2: "user defined signal 2"
        case SIGHUP: "hangup"
        default: "signal \(signal)"
        }
    }

    func installSignalHandlers() {
        for signal in Server.trappedSignals {
            do {
                let watcher = try SignalWatcher(loop: loop, signal: signal) { [unowned self] number in
                    self.handleSignal(number)
                }
                signalWatchers.append(watcher)
            } catch {
                logger.error("Could not watch signal \"\(Server.signalName(signal))\": \(error)")
            }
        }
    }

    /// Acts on one trapped signal (on the loop thread, so it may touch anything).
    func handleSignal(_ signal: Int32) {
        logger.info("Trapped \"\(Server.signalName(signal))\" signal")
        switch signal {
        case SIGINT, SIGTERM:
            shutdown()
        case SIGUSR1:
            reopenLogFileOnSignal()
        case SIGUSR2:
            logger.warning("Lame duck mode is not supported yet: \"\(Server.signalName(signal))\" signal ignored")
        case SIGHUP:
            logger.warning("Configuration reload is not supported yet: \"\(Server.signalName(signal))\" signal ignored")
        default:
            break
        }
    }

    /// SIGUSR1: log rotation. The log file (`-l`) is opened again at its path, so after a rename the
    /// next lines go to a new file there; nats-server's messages for each outcome.
    private func reopenLogFileOnSignal() {
        guard !options.logFile.isEmpty, let reopenLogFile else {
            logger.info("File log re-open ignored, not a file logger")
            return
        }
        do {
            try reopenLogFile()
            logger.info("File log re-opened")
        } catch {
            logger.error("File log re-open failed: \(error)")
        }
    }
}
