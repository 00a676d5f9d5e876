import NATSAuth
import NATSProtocol

/// `cluster { permissions { import, export } }` at the three places nats-server applies them (route.go
/// `canImport`/`canExport`, client.go `deliverMsg`); the rules are `RoutePermissionRules`. Routes without
/// permissions pay a nil check per interest change and nothing per message.
extension Cluster {
    /// Whether a local interest change on `subject` is announced to peers (import). Under `interestLock`.
    func announces(_ subject: [UInt8]) -> Bool {
        Cluster.imports(subject, routePermissions)
    }

    /// Whether `rules` (nil: none) announce local interest on `subject` (nats-server's `canImport`).
    static func imports(_ subject: [UInt8], _ rules: RoutePermissionRules?) -> Bool {
        guard let rules else { return true }
        return subject.withUnsafeBytes { rules.allowsImport($0) }
    }

    /// Whether `rules` (nil: none) accept a peer's interest on `subject` (nats-server's `canExport`).
    static func exports(_ subject: [UInt8], _ rules: RoutePermissionRules?) -> Bool {
        guard let rules else { return true }
        return subject.withUnsafeBytes { rules.exportVerdict($0) } != .refused
    }
}

extension RouteConnection {
    /// Export check of a peer's RS+ on the route's loop: nil when refused (the subscription is ignored, as
    /// nats-server ignores it), else whether messages for it must be checked one by one.
    func acceptsExport(_ subject: ByteSlice, _ permissions: RoutePermissionRules) -> Bool? {
        switch permissions.exportVerdict(subject.buffer) {
        case .refused:
            logger.debug("\(label) - Can not export \"\(subject.string)\", ignoring remote subscription request")
            return nil
        case .accepted: return false
        case .acceptedFiltered: return true
        }
    }
}

extension LoopWorker {
    /// Whether a message on `subject` must not go to a peer whose wildcard interest export-denied subjects
    /// match (asked only for such a subscription, `Subscription.filtersExport`). Cached per loop.
    @inline(never)
    func exportDenies(_ subject: ByteSlice) -> Bool {
        routeExportFilter?.denies(subject.buffer) ?? false
    }
}
