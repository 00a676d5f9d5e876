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
    /// The descriptor lines are written to.
    public let descriptor: Int32
    private let ownsDescriptor: Bool

    /// Standard error, never closed.
    public static let standardError = LogOutput(descriptor: 2, ownsDescriptor: false)

    /// Wraps an open descriptor; `ownsDescriptor` closes it on deinit.
    public init(descriptor: Int32, ownsDescriptor: Bool) {
        self.descriptor = descriptor
        self.ownsDescriptor = ownsDescriptor
    }

    /// Opens `path` for appending, creating it (mode 0640) when missing.
    public convenience init(appendingTo path: String) throws(LogOutputError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw LogOutputError(path: path, errno: errno) }
        self.init(descriptor: descriptor, ownsDescriptor: true)
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

    public var description: String { "error opening log file \(path): \(String(cString: strerror(errno)))" }
}
