import Foundation
import Logging
import UVLoop

/// The signals nats-server traps (server/signal.go): SIGINT and SIGTERM shut down (SIGTERM not during lame
/// duck mode), SIGUSR1 reopens the log file, SIGUSR2 enters lame duck mode (Server+LameDuck.swift), SIGHUP
/// reloads the configuration (Server+Reload.swift). Every one is handled, so a routine `kill -HUP` never
/// takes a node down.
///
/// The watchers stay installed until the process exits, without keeping the loop alive: a second
/// SIGTERM or SIGINT while shutdown waits for slow peers must not take the default action and kill the
/// process half-way (exit status 143, ports file left). nats-server handles signals one at a time in one
/// goroutine, which calls os.Exit after the first shutdown, so signals during shutdown do nothing there,
/// not even a log line; natsd ignores them the same way.
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
                watcher.keepsLoopAlive = false
                signalWatchers.append(watcher)
            } catch {
                logger.error("Could not watch signal \"\(Server.signalName(signal))\": \(error)")
            }
        }
    }

    /// Acts on one trapped signal (on the loop thread, so it may touch anything); nothing once shutting down.
    func handleSignal(_ signal: Int32) {
        guard !isShuttingDown else { return }
        logger.info("Trapped \"\(Server.signalName(signal))\" signal")
        switch signal {
        case SIGTERM where isInLameDuckMode:
            break  // As nats-server: the graceful shutdown under way goes on (SIGINT stops it at once).
        case SIGINT, SIGTERM:
            shutdown()
        case SIGUSR1:
            reopenLogFileOnSignal()
        case SIGUSR2:
            enterLameDuckMode()
        case SIGHUP:
            reloadConfiguration()
        default:
            break
        }
    }

    /// Blocks the trapped signals on the calling thread, once the loop has ended: closing the watchers
    /// restores each signal's default action, and the process must still exit 0 if one arrives between
    /// that and `exit`. A blocked signal stays pending and dies with the process.
    static func blockTrappedSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in trappedSignals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
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
