#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The mutex that serialises `SharedSublist` writers: a pthread mutex at a stable heap address.
///
/// Not `Synchronization.Mutex`: on Linux its lock is compiled into the toolchain's Synchronization
/// library, which ThreadSanitizer does not see, so every access it protects is reported as a race
/// (checked with a 4-thread counter under `-sanitize=thread`). ThreadSanitizer intercepts
/// `pthread_mutex_lock`/`unlock` and knows the happens-before edges they create.
final class WriterLock: @unchecked Sendable {  // pthread_mutex_t is the synchronisation itself.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` holding the lock. Not reentrant: `body` must not take it again.
    func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
