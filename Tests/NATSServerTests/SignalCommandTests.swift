import Foundation
import Testing
@testable import NATSServer

/// `natsd --signal`: pid resolution and nats-server's messages (server/signal.go), with `pgrep` and
/// `kill` replaced.
@Suite struct SignalCommandTests {
    /// Sends `command` with `pids` running; returns the (pid, signal) pairs sent, or the failure text.
    func send(_ command: String, _ pidExpression: String, running pids: [Int]?,
              failing: Set<Int> = []) -> Result<[[Int]], SignalCommand.Failure> {
        var sent: [[Int]] = []
        do {
            try SignalCommand.send(command, pidExpression: pidExpression, findPIDs: {
                guard let pids else { throw CocoaError(.fileNoSuchFile) }
                return pids
            }, kill: { pid, signal in
                sent.append([pid, Int(signal)])
                return failing.contains(pid) ? ESRCH : 0
            })
            return .success(sent)
        } catch {
            return .failure(error)
        }
    }

    @Test func commandsMapToNATSServersSignals() {
        let expected: [String: Int32] = ["stop": SIGKILL, "quit": SIGINT, "reopen": SIGUSR1, "reload": SIGHUP,
                                         "ldm": SIGUSR2, "term": SIGTERM]
        for (command, signal) in expected { #expect(SignalCommand.signalNumber(command) == signal) }
        #expect(SignalCommand.signalNumber("bogus") == nil)
    }

    @Test func aGivenPidIsSignalledWithoutLookingUp() {
        #expect(send("ldm", "123", running: nil) == .success([[123, Int(SIGUSR2)]]))
    }

    @Test func theOnlyRunningProcessIsFound() {
        #expect(send("reload", "", running: [77]) == .success([[77, Int(SIGHUP)]]))
    }

    @Test func aPrefixSignalsEveryMatchingProcess() {
        #expect(send("term", "12*", running: [120, 99, 1234]) == .success([[120, Int(SIGTERM)], [1234, Int(SIGTERM)]]))
    }

    @Test(arguments: [
        ("ldm", "abc", [1] as [Int]?, "invalid pid: abc"),
        ("ldm", "", [], "no natsd processes running"),
        ("ldm", "", nil, "unable to resolve pid, try providing one"),
        ("ldm", "", [11, 22], "multiple natsd processes running:\n11\n22"),
        // As nats-server, the command is checked once a process was found.
        ("bogus", "5", [], "unknown signal \"bogus\""),
    ])
    func failures(_ command: String, _ pid: String, _ running: [Int]?, _ message: String) {
        #expect(send(command, pid, running: running) == .failure(SignalCommand.Failure(description: message)))
    }

    @Test func aProcessThatCannotBeSignalledIsNamed() {
        #expect(send("ldm", "999999", running: nil, failing: [999999])
                == .failure(SignalCommand.Failure(description: "\nsignal \"ldm\" 999999: no such process")))
    }
}
