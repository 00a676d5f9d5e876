import NATSProtocol

/// Gathers the subscriptions of every trie node a published subject reaches.
///
/// The first contributor's arrays are shared rather than copied (copy-on-write copies only when a
/// second node adds to the same list), so the common one-node match builds almost nothing.
@usableFromInline
struct MatchCollector<Entry: SublistEntry> {
    @usableFromInline var plain: ContiguousArray<Entry> = []
    @usableFromInline var groupNames: ContiguousArray<[UInt8]> = []
    @usableFromInline var groups: ContiguousArray<ContiguousArray<Entry>> = []

    @inlinable init() {}

    @inlinable
    mutating func add(_ node: SubjectNode<Entry>) {
        if !node.plain.isEmpty {
            if plain.isEmpty { plain = node.plain } else { plain.append(contentsOf: node.plain) }
        }
        var group = 0
        while group < node.queueNames.count {
            // Groups merge by queue name across subjects, as nats-server does.
            if let existing = groupNames.firstIndex(of: node.queueNames[group]) {
                groups[existing].append(contentsOf: node.queueMembers[group])
            } else {
                groupNames.append(node.queueNames[group])
                groups.append(node.queueMembers[group])
            }
            group &+= 1
        }
    }
}

extension Sublist {
    /// All subscriptions matching a literal published subject.
    ///
    /// No allocation on a cache hit; a miss may allocate the new result. Tokens of a published subject
    /// are literal: `foo.*` published matches subscriptions `foo.*`, `*.*`, `foo.>` and `>`.
    /// A subject with an empty token (`a..b`) matches nothing.
    @inlinable
    public func match(_ subject: ByteSlice) -> SublistResult<Entry> {
        matchCount &+= 1
        guard cache.isEnabled else { return matchInTrie(subject) ?? emptyResult }
        let hash = SubjectBytes.hash(subject.start, subject.count)
        if let cached = cache.result(for: subject, hash: hash) {
            cacheHitCount &+= 1
            return cached
        }
        guard let result = matchInTrie(subject) else { return emptyResult }
        cache.store(result, for: subject, hash: hash)
        return result
    }

    /// Like `match`, but neither reads nor fills the cache: for one-off lookups (a no-responders
    /// status to a unique inbox) that would only evict useful entries.
    public func matchUncached(_ subject: ByteSlice) -> SublistResult<Entry> {
        matchInTrie(subject) ?? emptyResult
    }

    /// All subscriptions matching a literal published subject (convenience for tests and monitoring).
    public func match(_ subject: [UInt8]) -> SublistResult<Entry> {
        subject.withUnsafeBufferPointer { match(ByteSlice(UnsafeRawBufferPointer($0))) }
    }

    /// True when some stored entry would match the literal subject (cheap existence check).
    @inlinable
    public func hasInterest(_ subject: ByteSlice) -> Bool {
        if cache.isEnabled,
            let cached = cache.result(for: subject, hash: SubjectBytes.hash(subject.start, subject.count))
        {
            return !cached.isEmpty
        }
        return SubjectBytes.withTokens(subject) { tokens in
            guard let tokens else { return false }
            return Self.anyMatch(in: root, tokens: tokens, from: 0)
        }
    }

    /// Walks the trie; nil when the subject is malformed (empty token), else a result (possibly the shared
    /// empty one, which is still worth caching).
    @inlinable
    func matchInTrie(_ subject: ByteSlice) -> SublistResult<Entry>? {
        SubjectBytes.withTokens(subject) { tokens in
            guard let tokens else { return nil }
            var collector = MatchCollector<Entry>()
            Self.collect(in: root, tokens: tokens, from: 0, into: &collector)
            if collector.plain.isEmpty && collector.groups.isEmpty { return emptyResult }
            return SublistResult(plain: collector.plain, queueGroups: collector.groups)
        }
    }

    /// Adds every node under `level` that matches `tokens[index...]`.
    @inlinable
    static func collect(
        in level: SubjectLevel<Entry>, tokens: UnsafeBufferPointer<SubjectToken>, from index: Int,
        into collector: inout MatchCollector<Entry>
    ) {
        var level = level
        var index = index
        while true {
            let isLast = index &+ 1 == tokens.count
            // `>` takes this token and all after it.
            if let tail = level.tailWildcard { collector.add(tail) }
            if let single = level.singleWildcard {
                if isLast {
                    collector.add(single)
                } else if let next = single.next {
                    collect(in: next, tokens: tokens, from: index &+ 1, into: &collector)
                }
            }
            guard let node = level.literal(tokens[index]) else { return }
            if isLast {
                collector.add(node)
                return
            }
            guard let next = node.next else { return }
            level = next
            index &+= 1
        }
    }

    /// Whether any node under `level` with entries matches `tokens[index...]`; stops at the first.
    @inlinable
    static func anyMatch(in level: SubjectLevel<Entry>, tokens: UnsafeBufferPointer<SubjectToken>, from index: Int)
        -> Bool
    {
        var level = level
        var index = index
        while true {
            let isLast = index &+ 1 == tokens.count
            if let tail = level.tailWildcard, tail.hasEntries { return true }
            if let single = level.singleWildcard {
                if isLast {
                    if single.hasEntries { return true }
                } else if let next = single.next, anyMatch(in: next, tokens: tokens, from: index &+ 1) {
                    return true
                }
            }
            guard let node = level.literal(tokens[index]) else { return false }
            if isLast { return node.hasEntries }
            guard let next = node.next else { return false }
            level = next
            index &+= 1
        }
    }
}
