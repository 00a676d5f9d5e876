import NATSProtocol

/// Gathers the subscriptions of every trie node a published subject reaches, into arrays of its own.
///
/// The entry references are copied, never the nodes' arrays shared: a result outlives the read
/// section it was built in and may be freed by its loop at any time, while the writer changes node
/// arrays in place once readers have left. Sharing a buffer would make the writer's in-place change
/// and the loop's last release meet only through Swift's reference counts (correct, but invisible to
/// ThreadSanitizer, and the writer could no longer tell readers' copies from its own).
@usableFromInline
struct MatchCollector<Entry: SublistEntry> {
    @usableFromInline var plain: ContiguousArray<Entry> = []
    /// Queue names seen so far (the trie's own name arrays; the collector dies inside the read section).
    @usableFromInline var groupNames: ContiguousArray<[UInt8]> = []
    @usableFromInline var groups: ContiguousArray<ContiguousArray<Entry>> = []

    @inlinable init() {}

    @inlinable
    mutating func add(_ node: SubjectNode<Entry>) {
        if !node.plain.isEmpty { Self.append(node.plain, to: &plain) }
        var group = 0
        while group < node.queueNames.count {
            // Groups merge by queue name across subjects, as nats-server does.
            if let existing = groupNames.firstIndex(of: node.queueNames[group]) {
                Self.append(node.queueMembers[group], to: &groups[existing])
            } else {
                groupNames.append(node.queueNames[group])
                var members: ContiguousArray<Entry> = []
                Self.append(node.queueMembers[group], to: &members)
                groups.append(members)
            }
            group &+= 1
        }
    }

    /// Appends copies of the references in `entries` (never `entries`' buffer itself).
    ///
    /// The first contribution (nearly always the only one) goes into a buffer of exactly its size,
    /// filled by a plain loop: `append(contentsOf:)` on an empty array took the generic grow-and-copy
    /// path, about 300 instructions more per miss.
    @inlinable
    static func append(_ entries: ContiguousArray<Entry>, to target: inout ContiguousArray<Entry>) {
        entries.withUnsafeBufferPointer { source in
            guard target.isEmpty else {
                target.append(contentsOf: source)
                return
            }
            target = ContiguousArray(unsafeUninitializedCapacity: source.count) { buffer, initialized in
                var index = 0
                while index < source.count {
                    buffer.initializeElement(at: index, to: source[index])
                    index &+= 1
                }
                initialized = source.count
            }
        }
    }

    /// The gathered result; nil when nothing matched.
    @inlinable
    mutating func takeResult() -> SublistResult<Entry>? {
        if plain.isEmpty && groups.isEmpty { return nil }
        return SublistResult(plain: plain, queueGroups: groups)
    }
}

extension SubjectTrie {
    /// What a literal published subject matches: `.malformed` for a subject with an empty token
    /// (`a..b`), which matches nothing and is not worth caching.
    @usableFromInline
    enum Match {
        case malformed
        case nothing
        case found(SublistResult<Entry>)
    }

    /// Every subscription matching a literal published subject. Tokens of a published subject are
    /// literal: `foo.*` published matches subscriptions `foo.*`, `*.*`, `foo.>` and `>`.
    @inlinable
    func match(_ subject: ByteSlice) -> Match {
        SubjectBytes.withTokens(subject) { tokens in
            guard let tokens else { return .malformed }
            var collector = MatchCollector<Entry>()
            Self.collect(in: root, tokens: tokens, from: 0, into: &collector)
            guard let result = collector.takeResult() else { return .nothing }
            return .found(result)
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
}
