#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The soft limit on open files (RLIMIT_NOFILE), raised to the hard limit at start-up.
///
/// Every client is a descriptor, and distributions still default the soft limit to 1024 for the sake
/// of select(2), which natsd (libuv on epoll) does not use. nats-server inherits the raise from the Go
/// runtime (syscall/rlimit.go, Go 1.19+: soft := hard at init, errors ignored); without it natsd would
/// refuse clients at ~1010 connections where nats-server serves them all.
enum OpenFilesLimit {
    /// What `raiseToHardLimit()` did: the soft limit before and after, or why it left it alone.
    enum Outcome: Equatable {
        case raised(from: UInt64, to: UInt64)
        case alreadyAtHardLimit(UInt64)
        case failed(errno: Int32)
    }

    /// Sets the soft RLIMIT_NOFILE to the hard one. Never fatal: on failure the old limit stays.
    static func raiseToHardLimit() -> Outcome {
        var limit = rlimit()
        guard getrlimit(resourceNOFILE, &limit) == 0 else { return .failed(errno: errno) }
        let soft = UInt64(limit.rlim_cur), hard = UInt64(limit.rlim_max)
        guard soft < hard else { return .alreadyAtHardLimit(soft) }
        var raised = limit
        raised.rlim_cur = limit.rlim_max
        guard setrlimit(resourceNOFILE, &raised) == 0 else { return .failed(errno: errno) }
        return .raised(from: soft, to: hard)
    }

    /// The log line for an outcome (natsd logs it at debug level).
    static func describe(_ outcome: Outcome) -> String {
        switch outcome {
        case .raised(let from, let to): "Raised the open files limit (RLIMIT_NOFILE) from \(from) to \(to)"
        case .alreadyAtHardLimit(let limit): "Open files limit (RLIMIT_NOFILE) is \(limit)"
        case .failed(let code): "Could not raise the open files limit (RLIMIT_NOFILE): \(String(cString: strerror(code)))"
        }
    }

    #if canImport(Glibc)
    private static let resourceNOFILE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resourceNOFILE = RLIMIT_NOFILE
    #endif
}
