#if canImport(Glibc)
import NATSConfig
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where log lines go: a file descriptor written with one `write(2)` per line, so lines from several
/// threads never interleave (POSIX keeps a single `O_APPEND` write together).
public final class LogOutput: Sendable {
    /// The descriptor lines are written to. `reopen()` makes it refer to a new file, never changing
    /// its number, so writers on any thread need no lock.
    public let descriptor: Int32
    private let ownsDescriptor: Bool
    /// The file this output appends to; nil for a descriptor it was handed (standard error).
    public let path: String?

    /// Standard error, never closed.
    public static let standardError = LogOutput(descriptor: 2, ownsDescriptor: false)

    /// Wraps an open descriptor; `ownsDescriptor` closes it on deinit.
    public convenience init(descriptor: Int32, ownsDescriptor: Bool) {
        self.init(descriptor: descriptor, ownsDescriptor: ownsDescriptor, path: nil)
    }

    private init(descriptor: Int32, ownsDescriptor: Bool, path: String?) {
        self.descriptor = descriptor
        self.ownsDescriptor = ownsDescriptor
        self.path = path
    }

    /// Opens `path` for appending, creating it (mode 0640) when missing.
    public convenience init(appendingTo path: String) throws(LogOutputError) {
        let descriptor = try LogOutput.openForAppending(path)
        self.init(descriptor: descriptor, ownsDescriptor: true, path: path)
    }

    private static func openForAppending(_ path: String) throws(LogOutputError) -> Int32 {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw LogOutputError(path: path, errno: errno) }
        return descriptor
    }

    /// Log rotation: opens `path` again (creating it) and points `descriptor` at it, so after the old
    /// file was renamed away the next lines land in a new file at the original path. The switch is one
    /// `dup2(2)`, atomic for concurrent writers. Throws when the file cannot be opened; the output
    /// then keeps writing where it did. Does nothing for an output without a path.
    public func reopen() throws(LogOutputError) {
        guard let path else { return }
        let fresh = try LogOutput.openForAppending(path)
        defer { close(fresh) }
        guard dup2(fresh, descriptor) >= 0 else { throw LogOutputError(path: path, errno: errno) }
        // dup2 clears close-on-exec on the target; natsd never execs, but keep the descriptor private.
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    /// Writes `line` whole; retries on `EINTR` and finishes a short write.
    public func write(_ line: String) {
        var line = line
        line.withUTF8 { buffer in
            guard var base = buffer.baseAddress else { return }
            var remaining = buffer.count
            while remaining > 0 {
                let written = Glibc.write(descriptor, base, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    return  // Nowhere left to report a failing log write.
                }
                remaining -= written
                base += written
            }
        }
    }
}

/// The log file could not be opened.
public struct LogOutputError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var errno: Int32

    /// Worded as nats-server's fatal start-up error, with Go's lower-case system error text.
    public var description: String {
        let reason = String(cString: strerror(errno))
        return "error opening file: open \(path): \(reason.prefix(1).lowercased() + reason.dropFirst())"
    }
}
