import Foundation
import Glibc

/// CPU time a process has used so far, summed over its threads, as `/proc/<pid>/stat` reports it:
/// `utime` and `stime` in clock ticks (`sysconf(_SC_CLK_TCK)`, 100 per second on Linux).
///
/// The scaling table subtracts two readings taken around a measured window; a server's load
/// generators run in the bench process, so only the server's own work is counted. Ticks are
/// 10 ms, which is why the windows are seconds long.
struct ProcessCPU: Equatable, Sendable {
    let userTicks: UInt64
    let systemTicks: UInt64

    var totalTicks: UInt64 { userTicks + systemTicks }

    /// Clock ticks per second of the `utime`/`stime` fields.
    static let ticksPerSecond: Double = {
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        return ticks > 0 ? Double(ticks) : 100
    }()

    /// Parses the one line of `/proc/<pid>/stat`: `pid (comm) state ppid … utime stime …`, where
    /// utime and stime are fields 14 and 15 (proc(5)). `comm` may hold spaces and parentheses, so
    /// the fields are counted from the last `)`. Nil for text of another shape.
    static func parse(stat text: String) -> ProcessCPU? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        // After ")": field 3 (state) is the first, so utime (14) and stime (15) are the 12th and 13th.
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 13, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return ProcessCPU(userTicks: user, systemTicks: system)
    }

    /// The current reading of process `pid`, or nil once it is gone.
    static func read(pid: pid_t) -> ProcessCPU? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        return parse(stat: text)
    }

    /// CPU seconds used between two readings of the same processes (one entry per process, same
    /// order), summed; nil when the lists differ in length or a counter went backwards (another
    /// process took the pid).
    static func seconds(from before: [ProcessCPU], to after: [ProcessCPU]) -> Double? {
        guard before.count == after.count else { return nil }
        var ticks: UInt64 = 0
        for (earlier, later) in zip(before, after) {
            guard later.userTicks >= earlier.userTicks, later.systemTicks >= earlier.systemTicks else { return nil }
            ticks += later.totalTicks - earlier.totalTicks
        }
        return Double(ticks) / ticksPerSecond
    }

    /// CPU seconds per million messages: the efficiency column, comparable between machines with
    /// few and many cores because it does not depend on how many ran at once.
    static func secondsPerMillion(cpuSeconds: Double, messages: Int) -> Double? {
        guard messages > 0 else { return nil }
        return cpuSeconds * 1_000_000 / Double(messages)
    }
}
