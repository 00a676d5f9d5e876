import Foundation

/// `natsd --signal <command>[=<pid>]` (`-sl`): sends a running natsd the signal of a command, as
/// nats-server's `ProcessSignal` (server/signal.go), with its messages. The pid may end with `*`, a prefix
/// of the pids to signal; without a pid the one running natsd is found with `pgrep natsd` (nats-server
/// looks for `nats-server` processes; natsd looks for its own name). A pid file given as the pid has been
/// read by `CommandLineParser`.
public enum SignalCommand {
    /// The process name `pgrep` looks for.
    public static let processName = "natsd"

    /// What went wrong, worded as nats-server's errors (printed after `natsd: `).
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// The signal each command sends (nats-server's `CommandToSignal`); nil for an unknown command.
    public static func signalNumber(_ command: String) -> Int32? {
        switch command {
        case "stop": SIGKILL
        case "quit": SIGINT
        case "reopen": SIGUSR1
        case "reload": SIGHUP
        case "ldm": SIGUSR2
        case "term": SIGTERM
        default: nil
        }
    }

    /// Sends `command`'s signal to the process `pidExpression` names (empty: the only running natsd).
    /// - Parameters:
    ///   - findPIDs: the running natsd processes but this one (tests replace `pgrep`); throws when they
    ///     cannot be listed.
    ///   - kill: `kill(2)`, returning 0 or an errno value.
    /// - Throws: `Failure`: an invalid pid, no or several natsd processes without a pid, an unknown
    ///   command, or one line per process that could not be signalled.
    public static func send(
        _ command: String, pidExpression: String,
        findPIDs: () throws -> [Int] = runningProcesses,
        kill: (Int, Int32) -> Int32 = sendSignal
    ) throws(Failure) {
        let isGlob = pidExpression.hasSuffix("*")
        let pidText = isGlob ? String(pidExpression.dropLast()) : pidExpression
        var pids: [Int] = []
        if !pidText.isEmpty {
            guard let pid = Int(pidText) else { throw Failure(description: "invalid pid: \(pidText)") }
            pids = [pid]
        }
        if pidText.isEmpty || isGlob {
            do {
                pids = try findPIDs()
            } catch {
                throw Failure(description: "unable to resolve pid, try providing one")
            }
        }
        if pids.count > 1 && !isGlob {
            throw Failure(description: "multiple \(processName) processes running:" + pids.map { "\n\($0)" }.joined())
        }
        guard !pids.isEmpty else { throw Failure(description: "no \(processName) processes running") }
        guard let signal = signalNumber(command) else { throw Failure(description: "unknown signal \"\(command)\"") }
        var failures = ""
        for pid in pids {
            // With a prefix, only the pids that start with it.
            if !pidText.isEmpty && String(pid) != pidText && !(isGlob && String(pid).hasPrefix(pidText)) { continue }
            let error = kill(pid, signal)
            if error != 0 { failures += "\nsignal \"\(command)\" \(pid): \(Server.errnoText(error))" }
        }
        if !failures.isEmpty { throw Failure(description: failures) }
    }

    /// The running natsd processes but this one, by `pgrep natsd`, in its order.
    /// - Throws: when pgrep cannot be run or prints something that is not a pid.
    public static func runningProcesses() throws -> [Int] {
        let pgrep = Process()
        pgrep.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        pgrep.arguments = ["pgrep", processName]
        let output = Pipe()
        pgrep.standardOutput = output
        pgrep.standardError = FileHandle.nullDevice
        try pgrep.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        pgrep.waitUntilExit()
        // pgrep exits 1 when nothing matches; 2 and 3 are usage and internal errors.
        guard pgrep.terminationStatus <= 1 else { throw Failure(description: "pgrep failed") }
        let own = Int(getpid())
        var pids: [Int] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let pid = Int(line) else { throw Failure(description: "pgrep printed \(line)") }
            if pid != own { pids.append(pid) }
        }
        return pids
    }

    /// `kill(2)`: 0, or the errno value.
    public static func sendSignal(_ pid: Int, _ signal: Int32) -> Int32 {
        guard let target = pid_t(exactly: pid) else { return ESRCH }
        return Foundation.kill(target, signal) == 0 ? 0 : errno
    }
}
