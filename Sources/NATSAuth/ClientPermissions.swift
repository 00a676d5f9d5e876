import NATSConfig

/// The permission state of one client connection: its user's `PermissionRules`, the caches that make a
/// repeated check a hash lookup, and the reply subjects `allow_responses` lets it publish to. Used only
/// on the connection's loop. Times are loop milliseconds.
///
/// What nats-server does, and so this (client.go):
/// - a PUB is checked against the publish rules once per subject (`pcache`, 128 subjects); a subject the
///   rules refuse may still be a granted reply (`responseAllowed`);
/// - a message delivered with a reply subject the rules refuse grants that reply (`deliverMsg`), for
///   `max` publishes within `expires`; grants are swept every second or 4096 grants (`pruneReplyPerms`);
/// - once a wildcard or queue subscription could receive what the subscribe deny list denies, every
///   delivery is checked against that list (`mperms`, 256 subjects cached).
public final class ClientPermissions {
    public let rules: PermissionRules
    private let publishCache = SubjectVerdictCache(limit: 128)
    private let deliveryCache = SubjectVerdictCache(limit: 256)

    /// A granted reply subject: when it was granted and how often it was published to since.
    struct ReplyGrant {
        var grantedAt: UInt64
        var uses: Int
    }
    private(set) var replies: [[UInt8]: ReplyGrant] = [:]
    private var grantsSinceSweep = 0
    private var lastSweep: UInt64 = 0

    /// nats-server's `replyPermLimit` and `replyPruneTime`.
    static let sweepEveryGrants = 4096
    static let sweepEveryMilliseconds: UInt64 = 1000
    /// Most grants kept: with a long `expires`, a client that gets many requests and answers none would
    /// otherwise grow the table without bound. Past it the oldest grants go first.
    static let maximumGrants = 65536

    /// Set once deliveries must be checked against the subscribe deny list (see `allowsSubscribe`).
    public private(set) var filtersDeliveries = false

    /// Copies of the rules' flags, read per message without touching `rules`.
    @usableFromInline let restrictsPublish: Bool
    private let tracksReplies: Bool

    /// The last subject the publish rules allowed, copied (up to `quickSubjectCapacity` bytes; count -1 for
    /// none): `quicklyAllows` compares a PUB's subject with it inline, in the caller's module, before any call.
    @usableFromInline let quickSubject: UnsafeMutablePointer<UInt8>
    @usableFromInline @exclusivity(unchecked) var quickSubjectCount = -1
    static let quickSubjectCapacity = 128

    public init(rules: PermissionRules) {
        self.rules = rules
        restrictsPublish = rules.restrictsPublish
        tracksReplies = rules.responses != nil
        quickSubject = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.quickSubjectCapacity)
    }

    deinit {
        quickSubject.deallocate()
    }

    /// True when a PUB to `subject` is certainly allowed without a look-up: publishing is unrestricted, or
    /// `subject` is the last one the rules allowed. False means: ask `allowsPublish`.
    @inlinable
    public func quicklyAllows(_ subject: UnsafeRawBufferPointer) -> Bool {
        if !restrictsPublish { return true }
        guard subject.count == quickSubjectCount, let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return false
        }
        var offset = 0
        while offset < quickSubjectCount {
            if quickSubject[offset] != base[offset] { return false }
            offset &+= 1
        }
        return true
    }

    /// Remembers `subject` as allowed by the rules, for `quicklyAllows`.
    private func rememberAllowed(_ subject: UnsafeRawBufferPointer) {
        guard subject.count <= Self.quickSubjectCapacity else { return }
        if let base = subject.baseAddress {
            quickSubject.update(from: base.assumingMemoryBound(to: UInt8.self), count: subject.count)
        }
        quickSubjectCount = subject.count
    }

    /// Whether the client may publish to `subject` now. A granted reply is used up by this publish.
    public func allowsPublish(_ subject: UnsafeRawBufferPointer, now: UInt64) -> Bool {
        if !restrictsPublish { return true }
        let allowed: Bool
        if let cached = publishCache.verdict(for: subject) {
            allowed = cached != 0
        } else {
            allowed = rules.publishAllowed(subject)
            publishCache.store(allowed ? 1 : 0, for: subject)
        }
        if allowed {
            rememberAllowed(subject)
            return true
        }
        return tracksReplies && useReplyGrant(subject, now: now)
    }

    /// Whether a SUB to `subject` in `queue` (empty for none) is allowed. An allowed wildcard or queue
    /// subscription that collides with a subscribe deny entry (some subject matches both) turns delivery
    /// filtering on, as nats-server's `loadMsgDenyFilterIfNeeded` does.
    public func allowsSubscribe(subject: UnsafeRawBufferPointer, queue: UnsafeRawBufferPointer) -> Bool {
        guard rules.allowsSubscribe(subject: subject, queue: queue) else { return false }
        if rules.hasSubscribeDeny && !filtersDeliveries {
            let pattern = SubjectPattern(String(decoding: subject, as: UTF8.self))
            if (!queue.isEmpty || pattern.hasWildcard) && rules.subscribeDeny.contains(where: { $0.subject.collides(with: pattern) }) {
                filtersDeliveries = true
            }
        }
        return true
    }

    /// Whether a message on `subject` must not reach a subscription in `queue` (empty for none): the
    /// subscribe deny list denies it. Only asked while `filtersDeliveries` is set.
    public func deniesDelivery(of subject: UnsafeRawBufferPointer, queue: UnsafeRawBufferPointer) -> Bool {
        let verdict: PermissionRules.DeliveryVerdict
        if let cached = deliveryCache.verdict(for: subject) {
            verdict = PermissionRules.DeliveryVerdict(rawValue: cached) ?? .denied
        } else {
            verdict = rules.deliveryVerdict(subject)
            deliveryCache.store(verdict.rawValue, for: subject)
        }
        switch verdict {
        case .allowed: return false
        case .denied: return true
        case .queueDependent: return !queue.isEmpty && rules.deniesQueue(subject, queue: Array(queue))
        }
    }

    /// A message with reply subject `reply` was delivered to the client: with `allow_responses`, a reply
    /// the publish rules refuse is granted (a fresh grant replaces an older one for the same subject).
    public func messageDelivered(reply: UnsafeRawBufferPointer, now: UInt64) {
        guard tracksReplies, !reply.isEmpty else { return }
        if let cached = publishCache.verdict(for: reply) {
            if cached != 0 { return }
        } else if rules.publishAllowed(reply) {
            publishCache.store(1, for: reply)
            return
        }
        replies[Array(reply)] = ReplyGrant(grantedAt: now, uses: 0)
        grantsSinceSweep += 1
        if grantsSinceSweep > Self.sweepEveryGrants || now &- lastSweep > Self.sweepEveryMilliseconds
            || replies.count > Self.maximumGrants {
            sweepGrants(now: now)
        }
    }

    /// Uses one publish of the grant for `subject`, if there is a live one (nats-server's `responseAllowed`).
    private func useReplyGrant(_ subject: UnsafeRawBufferPointer, now: UInt64) -> Bool {
        guard let responses = rules.responses else { return false }
        let key = Array(subject)
        guard var grant = replies[key] else { return false }
        grant.uses += 1
        if responses.maxMessages > 0 && grant.uses > responses.maxMessages {
            replies[key] = nil
            return false
        }
        if Self.expired(grant, responses, now: now) {
            replies[key] = nil
            return false
        }
        replies[key] = grant
        return true
    }

    private static func expired(_ grant: ReplyGrant, _ responses: ResponsePermission, now: UInt64) -> Bool {
        responses.expiresMilliseconds > 0 && now &- grant.grantedAt > UInt64(responses.expiresMilliseconds)
    }

    /// Drops used-up and expired grants; past `maximumGrants`, the oldest too.
    private func sweepGrants(now: UInt64) {
        guard let responses = rules.responses else { return }
        replies = replies.filter { _, grant in
            !(responses.maxMessages > 0 && grant.uses >= responses.maxMessages) && !Self.expired(grant, responses, now: now)
        }
        if replies.count > Self.maximumGrants {
            let oldest = replies.sorted { $0.value.grantedAt < $1.value.grantedAt }.prefix(replies.count - Self.maximumGrants)
            for (key, _) in oldest { replies[key] = nil }
        }
        grantsSinceSweep = 0
        lastSweep = now
    }

    /// Reply grants held now (for tests).
    public var grantCount: Int { replies.count }
}
