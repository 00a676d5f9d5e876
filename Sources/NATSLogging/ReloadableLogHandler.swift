import Foundation
import Logging
import Synchronization

/// The handler natsd's logger keeps for the life of the process: it forwards to the `NATSLogHandler` a
/// configuration reload last set (debug, trace, logtime, log file), so the `Logger` value every loop
/// holds never changes. The level is an atomic (read before each message is built); the handler itself
/// is taken under a lock only once a line is being written.
///
/// `@unchecked Sendable` (the box): `current` is guarded by `lock`, `level` is atomic.
final class LogHandlerBox: @unchecked Sendable {
    private let lock = NSLock()
    private var current: NATSLogHandler
    private let level: Atomic<UInt8>

    init(_ handler: NATSLogHandler) {
        current = handler
        level = Atomic(LogHandlerBox.code(handler.logLevel))
    }

    var logLevel: Logger.Level { Logger.Level.allCases[Int(level.load(ordering: .relaxed))] }

    var handler: NATSLogHandler { lock.withLock { current } }

    func replace(with handler: NATSLogHandler) {
        lock.withLock { current = handler }
        level.store(LogHandlerBox.code(handler.logLevel), ordering: .relaxed)
    }

    private static func code(_ level: Logger.Level) -> UInt8 {
        UInt8(Logger.Level.allCases.firstIndex(of: level) ?? 0)
    }
}

/// A swift-log handler over a `LogHandlerBox`.
struct ReloadableLogHandler: LogHandler {
    let box: LogHandlerBox
    var metadata: Logger.Metadata = [:]

    var logLevel: Logger.Level {
        get { box.logLevel }
        // natsd sets levels through the options only (a reload replaces the whole handler).
        set {}
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var handler = box.handler
        if !metadata.isEmpty { handler.metadata.merge(metadata) { _, new in new } }
        handler.log(event: event)
    }
}
