import NATSConfig

/// `cluster.permissions` compiled for matching, shared read-only by every route and loop. nats-server turns
/// route permissions into user permissions (route.go `setRoutePermissions`: import is publish, export is
/// subscribe) and checks them with the client functions; so does this, with `PermissionRules`:
/// - `allowsImport`: whether local interest in a subject is announced to peers (`canImport`, which is
///   `pubAllowedFullCheck`): a peer forwards only what we announced, so nothing else is imported;
/// - `exportVerdict`: whether a peer's RS+ is accepted (`canExport`, which is `canSubscribe`);
/// - `RouteExportFilter`: per loop, drops messages on export-denied subjects that an accepted wildcard
///   subscription of a peer still matches (`canSubscribe` loads the delivery deny filter, `mperms`, when
///   a wildcard subscription collides with a deny entry; `deliverMsg` then checks `checkDenySub`).
public final class RoutePermissionRules: Sendable {
    let rules: PermissionRules

    public init(_ permissions: RoutePermissions) {
        rules = PermissionRules(Permissions(publish: permissions.import, subscribe: permissions.export))
    }

    /// Whether local interest in `subject` (a subscription's subject, wildcards as written) is announced to
    /// peers. Uncached: asked once per interest change, not per message.
    public func allowsImport(_ subject: UnsafeRawBufferPointer) -> Bool {
        rules.publishAllowed(subject)
    }

    public enum ExportVerdict: Equatable, Sendable {
        /// The peer's subscription is ignored (nats-server: "Can not export …, ignoring remote subscription").
        case refused
        case accepted
        /// Accepted, but a wildcard that some export-denied subject matches: each message for it must be
        /// checked (`RouteExportFilter`).
        case acceptedFiltered
    }

    /// What becomes of a peer's RS+ on `subject` (its queue plays no part, as in nats-server's `canExport`;
    /// export entries cannot name queues, the config refuses them).
    public func exportVerdict(_ subject: UnsafeRawBufferPointer) -> ExportVerdict {
        guard rules.allowsSubscribe(subject: subject, queue: UnsafeRawBufferPointer(start: nil, count: 0)) else {
            return .refused
        }
        guard rules.hasSubscribeDeny else { return .accepted }
        let pattern = SubjectPattern(String(decoding: subject, as: UTF8.self))
        if pattern.hasWildcard && rules.subscribeDeny.contains(where: { $0.subject.collides(with: pattern) }) {
            return .acceptedFiltered
        }
        return .accepted
    }

    /// A delivery filter for one loop.
    public func makeExportFilter() -> RouteExportFilter {
        RouteExportFilter(rules: rules)
    }
}

/// The export deny check of messages to peers, for one loop (its cache is not shared): verdicts per
/// subject, cached (256 subjects, nats-server's `maxDenyPermCacheSize`).
public final class RouteExportFilter {
    private let rules: PermissionRules
    private let cache = SubjectVerdictCache(limit: 256)

    init(rules: PermissionRules) {
        self.rules = rules
    }

    /// Whether a message on `subject` must not be sent to a peer: the export deny list denies it.
    public func denies(_ subject: UnsafeRawBufferPointer) -> Bool {
        if let cached = cache.verdict(for: subject) { return cached != 0 }
        let denied = rules.deliveryVerdict(subject) != .allowed
        cache.store(denied ? 1 : 0, for: subject)
        return denied
    }
}
