import NATSConfig
import NATSProtocol

/// Rewrites the subjects that cross between accounts: a stream import's `prefix` or `to`, a service
/// import's `to` mapped back onto the exported subject (nats-server's import transforms, legacy form:
/// the wildcard tokens of the source, in order, fill the wildcards of the destination; a destination
/// without wildcards is used as it is).
///
/// Applied per imported message into a caller's buffer, without allocation.
struct SubjectTransform {
    /// Prepended with a `.` (stream imports with `prefix`); empty: none.
    let prefix: [UInt8]
    /// The destination's tokens (`to`); empty with a prefix or when the subject stays as it is.
    let destination: [[UInt8]]
    /// Whether the destination has wildcards to fill from the source subject's wildcard tokens.
    let fillsWildcards: Bool
    /// The source pattern's tokens: which tokens of a subject are its wildcard parts.
    let source: [[UInt8]]
    /// Per destination token, the source wildcard (0-based) a `$N` or `{{wildcard(N)}}` names; nil for a
    /// literal or a legacy `*` (which take the source's wildcards in order).
    let references: [Int?]

    /// A transform from subjects matching `source` to `prefix.subject` (when `prefix` is set), `to`, or
    /// the subject itself.
    init(source: String, prefix: String = "", to: String = "") {
        self.source = SubjectTokens.split(Array(source.utf8))
        self.prefix = Array(prefix.utf8)
        self.destination = prefix.isEmpty && !to.isEmpty && to != source ? SubjectTokens.split(Array(to.utf8)) : []
        let references = destination.map { ImportMapping.reference(Substring(decoding: $0, as: UTF8.self)).map { $0 - 1 } }
        self.references = references
        self.fillsWildcards = destination.contains { $0 == SubjectTokens.star || $0 == SubjectTokens.rest }
            || references.contains { $0 != nil }
    }

    /// Whether subjects pass unchanged.
    var isIdentity: Bool { prefix.isEmpty && destination.isEmpty }

    /// Writes the transformed `subject` (which matches `source`) into `output`; returns its length.
    /// `output` must hold `maximumLength(subject)` bytes.
    func apply(_ subject: ByteSlice, into output: UnsafeMutablePointer<UInt8>) -> Int {
        var written = 0
        func put(_ bytes: UnsafeBufferPointer<UInt8>) {
            if let base = bytes.baseAddress { (output + written).update(from: base, count: bytes.count) }
            written &+= bytes.count
        }
        if destination.isEmpty {
            prefix.withUnsafeBufferPointer { put($0) }
            if !prefix.isEmpty {
                output[written] = UInt8(ascii: ".")
                written &+= 1
            }
            put(UnsafeBufferPointer(start: subject.start, count: subject.count))
            return written
        }
        var nextWildcard = 0
        for (index, token) in destination.enumerated() {
            if index > 0 {
                output[written] = UInt8(ascii: ".")
                written &+= 1
            }
            if let reference = references[index], let part = wildcardPart(reference, of: subject) {
                put(UnsafeBufferPointer(start: subject.start + part.start, count: part.count))
            } else if fillsWildcards && token == SubjectTokens.star, let part = wildcardPart(nextWildcard, of: subject) {
                nextWildcard += 1
                put(UnsafeBufferPointer(start: subject.start + part.start, count: part.count))
            } else if fillsWildcards && token == SubjectTokens.rest, let part = tailPart(of: subject) {
                put(UnsafeBufferPointer(start: subject.start + part.start, count: part.count))
            } else {
                token.withUnsafeBufferPointer { put($0) }
            }
        }
        return written
    }

    /// The token of `subject` at the `ordinal`-th `*` of `source` (offset and length), found by a scan: no
    /// allocation per message, and destinations have few wildcards.
    private func wildcardPart(_ ordinal: Int, of subject: ByteSlice) -> (start: Int, count: Int)? {
        var seen = 0
        var found: (Int, Int)?
        SubjectTokens.forEachToken(of: subject) { tokenIndex, start, count in
            guard tokenIndex < source.count, source[tokenIndex] == SubjectTokens.star else { return true }
            if seen == ordinal {
                found = (start, count)
                return false
            }
            seen += 1
            return true
        }
        return found
    }

    /// The tokens of `subject` that `source`'s trailing `>` matched.
    private func tailPart(of subject: ByteSlice) -> (start: Int, count: Int)? {
        guard source.last == SubjectTokens.rest else { return nil }
        var found: (Int, Int)?
        SubjectTokens.forEachToken(of: subject) { tokenIndex, start, _ in
            guard tokenIndex == source.count - 1 else { return true }
            found = (start, subject.count - start)
            return false
        }
        return found
    }

    /// An upper bound of the transformed length of `subject`.
    func maximumLength(_ subject: ByteSlice) -> Int {
        prefix.count + 1 + subject.count * (1 + references.count) + destination.reduce(destination.count) { $0 + $1.count }
    }
}

/// Subject patterns as token lists: the set arithmetic imports need when a subscription is made (how a
/// subscription in the importing account maps onto the exporting account), and the per-delivery check
/// that a mapped subject matches the subscription.
package enum SubjectTokens {
    package static func split(_ subject: [UInt8]) -> [[UInt8]] {
        subject.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map(Array.init)
    }

    static func join(_ tokens: [[UInt8]]) -> [UInt8] {
        Array(tokens.joined(separator: [UInt8(ascii: ".")]))
    }

    static let star: [UInt8] = [UInt8(ascii: "*")]
    static let rest: [UInt8] = [UInt8(ascii: ">")]

    /// Calls `body(index, start, count)` for each token of `subject` until it returns false.
    @inline(__always)
    static func forEachToken(of subject: ByteSlice, _ body: (Int, Int, Int) -> Bool) {
        var tokenIndex = 0
        var start = 0
        var position = 0
        while position <= subject.count {
            if position == subject.count || subject.start[position] == UInt8(ascii: ".") {
                if !body(tokenIndex, start, position - start) { return }
                tokenIndex += 1
                start = position + 1
            }
            position += 1
        }
    }

    /// Whether every subject `inner` matches, `outer` matches too.
    static func covers(_ outer: [[UInt8]], _ inner: [[UInt8]]) -> Bool {
        for (index, token) in outer.enumerated() {
            if token == rest { return index < inner.count }
            guard index < inner.count else { return false }
            if token == star {
                if inner[index] == rest { return false }
                continue
            }
            if token != inner[index] { return false }
        }
        return outer.count == inner.count
    }

    /// Whether some subject matches both patterns.
    static func intersect(_ first: [[UInt8]], _ second: [[UInt8]]) -> Bool {
        var index = 0
        while index < first.count && index < second.count {
            let a = first[index], b = second[index]
            if a == rest || b == rest { return true }
            if a != star && b != star && a != b { return false }
            index += 1
        }
        return first.count == second.count
    }

    /// Whether the literal `subject` matches `pattern` (tokens), byte by byte with no allocation.
    package static func matches(_ pattern: [[UInt8]], _ subject: ByteSlice) -> Bool {
        var tokenIndex = 0
        var start = 0
        var position = 0
        while position <= subject.count {
            if position == subject.count || subject.start[position] == UInt8(ascii: ".") {
                guard tokenIndex < pattern.count else { return false }
                let token = pattern[tokenIndex]
                if token == rest { return true }
                if token != star {
                    let count = position - start
                    guard token.count == count else { return false }
                    var offset = 0
                    while offset < count {
                        if token[offset] != subject.start[start + offset] { return false }
                        offset += 1
                    }
                }
                tokenIndex += 1
                start = position + 1
            }
            position += 1
        }
        return tokenIndex == pattern.count
    }
}
