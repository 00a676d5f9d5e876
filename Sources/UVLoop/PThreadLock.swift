#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// natsd's lock for state shared between loops (an inbox, the sublist's writers): a pthread mutex at a
/// stable heap address.
///
/// Not `Synchronization.Mutex`: on Linux its lock is compiled into the toolchain's Synchronization
/// library, which ThreadSanitizer does not see, so every access it protects is reported as a race
/// (checked with a 4-thread counter under `-sanitize=thread`). ThreadSanitizer intercepts
/// `pthread_mutex_lock`/`unlock` and knows the happens-before edges they create.
public final class PThreadLock: @unchecked Sendable {  // pthread_mutex_t is the synchronisation itself.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` holding the lock. Not reentrant: `body` must not take it again.
    public func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// A value behind a `PThreadLock`, for small state several threads read and write.
///
/// `@unchecked Sendable`: `value` is only touched under `lock`.
public final class LockedValue<Value>: @unchecked Sendable {
    private let lock = PThreadLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    /// Runs `body` with the value, holding the lock.
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try lock.withLock { try body(&value) }
    }
}
