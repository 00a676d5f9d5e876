/// One permission subject, split into tokens, matched against subjects as nats-server's sublist matches
/// them (sublist.go `matchLevel`): `*` takes any one token, `>` one or more trailing tokens, any other
/// token only itself. A wildcard in the subject being checked (a SUB to `foo.*`) is an ordinary token on
/// that side: it matches only a `*` or `>` of the pattern, so `allow: "foo.bar"` does not admit `SUB foo.*`.
struct SubjectPattern: Sendable, Equatable {
    enum Token: Sendable, Equatable {
        case literal([UInt8])
        /// `*`
        case anyOne
        /// `>`
        case rest
    }

    let tokens: [Token]
    /// The pattern as written, for logs and tests.
    let text: String

    /// `text` must be a valid subject (NATSConfig checked it when reading the config).
    init(_ text: String) {
        self.text = text
        tokens = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map { token in
            if token.count == 1 && token.first == UInt8(ascii: "*") { return .anyOne }
            if token.count == 1 && token.first == UInt8(ascii: ">") { return .rest }
            return .literal(Array(token))
        }
    }

    var hasWildcard: Bool { tokens.contains { $0 == .anyOne || $0 == .rest } }

    /// Whether `subject` (raw bytes, tokens separated by `.`) is matched. Allocates nothing.
    func matches(_ subject: UnsafeRawBufferPointer) -> Bool {
        let count = subject.count
        var tokenIndex = 0
        var start = 0
        while true {
            var end = start
            while end < count && subject[end] != UInt8(ascii: ".") { end += 1 }
            guard tokenIndex < tokens.count else { return false }
            switch tokens[tokenIndex] {
            case .rest:
                return true
            case .anyOne:
                break
            case .literal(let literal):
                guard literal.count == end - start else { return false }
                var offset = 0
                while offset < literal.count {
                    if literal[offset] != subject[start + offset] { return false }
                    offset += 1
                }
            }
            tokenIndex += 1
            if end >= count { break }
            start = end + 1
        }
        return tokenIndex == tokens.count
    }

    /// Whether some literal subject matches both this pattern and `other` (nats-server's `SubjectsCollide`):
    /// token by token, two literals must be equal, `*` takes any token, and `>` takes whatever is left of
    /// the other (at least one token).
    func collides(with other: SubjectPattern) -> Bool {
        var index = 0
        while true {
            if index == tokens.count || index == other.tokens.count { return index == tokens.count && index == other.tokens.count }
            let mine = tokens[index]
            let theirs = other.tokens[index]
            if mine == .rest || theirs == .rest { return true }
            if mine != .anyOne && theirs != .anyOne && mine != theirs { return false }
            index += 1
        }
    }

    func matches(_ subject: [UInt8]) -> Bool {
        subject.withUnsafeBytes { matches($0) }
    }
}

/// Queue names in permissions (`"foo.> workers"`), compared as nats-server's `queueMatches` does: the
/// same name, or a name that is a subset of a wildcard queue pattern (`v1.*` admits `v1.blue`).
enum QueueName {
    /// Whether the queue group `queue` is admitted by one of `patterns`.
    static func matchesAny(_ queue: [UInt8], _ patterns: [[UInt8]]) -> Bool {
        for pattern in patterns {
            if queue == pattern { return true }
            if hasWildcard(pattern) && isSubset(queue, of: pattern) { return true }
        }
        return false
    }

    static func hasWildcard(_ name: [UInt8]) -> Bool {
        tokens(name).contains { $0 == [UInt8(ascii: "*")] || $0 == [UInt8(ascii: ">")] }
    }

    /// nats-server's `isSubsetMatchTokenized(tokens, test)`: every subject `queue` matches, `test` matches.
    static func isSubset(_ queue: [UInt8], of test: [UInt8]) -> Bool {
        let subject = tokens(queue)
        let pattern = tokens(test)
        for (index, patternToken) in pattern.enumerated() {
            if index >= subject.count || patternToken.isEmpty { return false }
            if patternToken == [UInt8(ascii: ">")] { return true }
            let token = subject[index]
            if token.isEmpty || token == [UInt8(ascii: ">")] { return false }
            if token == [UInt8(ascii: "*")] {
                if patternToken != [UInt8(ascii: "*")] { return false }
                continue
            }
            if patternToken != [UInt8(ascii: "*")] && token != patternToken { return false }
        }
        return subject.count == pattern.count
    }

    private static func tokens(_ name: [UInt8]) -> [ArraySlice<UInt8>] {
        name.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    }
}
