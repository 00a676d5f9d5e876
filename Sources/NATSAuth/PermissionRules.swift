import NATSConfig

/// One user's permissions compiled for matching, shared (read-only) by every connection of that user.
/// The decisions are nats-server's (client.go `pubAllowedFullCheck`, `canSubscribeInternal`,
/// `checkDenySub`, `queueMatches`); the per-connection caches live in `ClientPermissions`.
public final class PermissionRules: Sendable {
    /// A subscribe entry: a subject pattern, with a queue group when written `"subject queue"`.
    struct SubscribeEntry: Sendable, Equatable {
        let subject: SubjectPattern
        /// nil: the entry applies to plain and queue subscriptions alike.
        let queue: [UInt8]?
    }

    /// nil: no allow list. Empty: nothing may be published (allow_responses without an allow list).
    let publishAllow: [SubjectPattern]?
    let publishDeny: [SubjectPattern]
    /// Empty: no allow list (nats-server builds one only for a non-empty list).
    let subscribeAllow: [SubscribeEntry]
    let subscribeDeny: [SubscribeEntry]
    /// `allow_responses`, with 0s already turned into the defaults.
    public let responses: ResponsePermission?

    /// Whether publishing is restricted at all (else a PUB is never checked).
    public let restrictsPublish: Bool
    /// Whether a subscribe deny list exists: a wildcard or queue subscription may then receive subjects
    /// the list denies, which delivery must drop.
    public let hasSubscribeDeny: Bool

    public init(_ permissions: Permissions) {
        publishAllow = permissions.publish?.allow.map { $0.map(SubjectPattern.init) }
        publishDeny = (permissions.publish?.deny ?? []).map(SubjectPattern.init)
        subscribeAllow = (permissions.subscribe?.allow ?? []).map(Self.subscribeEntry)
        subscribeDeny = (permissions.subscribe?.deny ?? []).map(Self.subscribeEntry)
        responses = permissions.responses
        restrictsPublish = publishAllow != nil || !publishDeny.isEmpty
        hasSubscribeDeny = !subscribeDeny.isEmpty
    }

    /// `"foo.> workers"` → subject `foo.>`, queue `workers` (nats-server's `splitSubjectQueue`).
    private static func subscribeEntry(_ text: String) -> SubscribeEntry {
        let fields = text.split(whereSeparator: { " \t\n\r\u{0C}".contains($0) })
        guard fields.count == 2 else { return SubscribeEntry(subject: SubjectPattern(text), queue: nil) }
        return SubscribeEntry(subject: SubjectPattern(String(fields[0])), queue: Array(fields[1].utf8))
    }

    /// The static publish verdict (allow list, then deny list), before any response permission.
    func publishAllowed(_ subject: UnsafeRawBufferPointer) -> Bool {
        if let publishAllow, !publishAllow.contains(where: { $0.matches(subject) }) { return false }
        return !publishDeny.contains { $0.matches(subject) }
    }

    /// Whether a SUB to `subject` (in `queue`, empty for none) is allowed:
    /// - allow list: a plain entry matching the subject allows it; when the subscription has a queue and
    ///   queue-qualified entries match the subject, the queue must match one of them instead (so
    ///   `"foo v1"` alone admits only queue `v1` on foo, and no plain subscription);
    /// - deny list: a plain entry matching the subject denies it; a queue subscription is also denied by a
    ///   matching queue-qualified entry naming its queue.
    public func allowsSubscribe(subject: UnsafeRawBufferPointer, queue: UnsafeRawBufferPointer) -> Bool {
        let queueName = Array(queue)
        var allowed = true
        if !subscribeAllow.isEmpty {
            let (plain, queues) = Self.matching(subscribeAllow, subject)
            allowed = plain
            if !queueName.isEmpty && !queues.isEmpty { allowed = QueueName.matchesAny(queueName, queues) }
        }
        if allowed && !subscribeDeny.isEmpty {
            let (plain, queues) = Self.matching(subscribeDeny, subject)
            allowed = !plain
            if allowed && !queueName.isEmpty && !queues.isEmpty { allowed = !QueueName.matchesAny(queueName, queues) }
        }
        return allowed
    }

    /// What the subscribe deny list says of a delivered subject: `.denied` by a plain entry, `.queueDependent`
    /// when only queue-qualified entries match (then `deliveryDenied(queueVerdict:queue:)` decides).
    func deliveryVerdict(_ subject: UnsafeRawBufferPointer) -> DeliveryVerdict {
        let (plain, queues) = Self.matching(subscribeDeny, subject)
        if plain { return .denied }
        return queues.isEmpty ? .allowed : .queueDependent
    }

    /// For a `.queueDependent` subject: whether the queue-qualified deny entries matching it name `queue`.
    func deniesQueue(_ subject: UnsafeRawBufferPointer, queue: [UInt8]) -> Bool {
        QueueName.matchesAny(queue, Self.matching(subscribeDeny, subject).queues)
    }

    /// Whether a plain entry matches `subject`, and the queues of the queue-qualified entries that do.
    private static func matching(
        _ entries: [SubscribeEntry], _ subject: UnsafeRawBufferPointer
    ) -> (plain: Bool, queues: [[UInt8]]) {
        var plain = false
        var queues: [[UInt8]] = []
        for entry in entries where entry.subject.matches(subject) {
            if let queue = entry.queue { queues.append(queue) } else { plain = true }
        }
        return (plain, queues)
    }

    enum DeliveryVerdict: UInt8 {
        case allowed, denied, queueDependent
    }
}
