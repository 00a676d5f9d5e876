import NATSProtocol

/// One token of a subject: a borrowed byte run plus its hash, built on the stack while matching.
@usableFromInline
struct SubjectToken {
    @usableFromInline let start: UnsafePointer<UInt8>
    @usableFromInline let count: Int
    @usableFromInline let hash: UInt64

    @inlinable
    init(start: UnsafePointer<UInt8>, count: Int, hash: UInt64) {
        self.start = start
        self.count = count
        self.hash = hash
    }

    /// The whole token is `*`.
    @inlinable var isSingleWildcard: Bool { count == 1 && start[0] == SubjectBytes.star }
    /// The whole token is `>`.
    @inlinable var isTailWildcard: Bool { count == 1 && start[0] == SubjectBytes.greater }
}

/// Byte-level subject helpers: hashing, tokenising, validation and pattern matching, all allocation free.
@usableFromInline
enum SubjectBytes {
    @usableFromInline static let dot: UInt8 = 0x2E
    @usableFromInline static let star: UInt8 = 0x2A
    @usableFromInline static let greater: UInt8 = 0x3E

    @usableFromInline static let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325
    @usableFromInline static let fnvPrime: UInt64 = 0x0000_0100_0000_01b3

    /// FNV-1a over the bytes; used for whole subjects (cache keys) and single tokens (trie levels).
    @inlinable
    static func hash(_ start: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        var hash = fnvOffset
        var index = 0
        while index < count {
            hash = (hash ^ UInt64(start[index])) &* fnvPrime
            index &+= 1
        }
        return hash
    }

    /// Splits `subject` at dots into tokens held in temporary (stack) memory and calls `body` with them.
    ///
    /// `body` gets nil when the subject is empty or has an empty token (`a..b`, `.a`, `a.`): such a
    /// published subject matches nothing, as in nats-server. Long subjects simply get a bigger
    /// temporary buffer (Swift moves it to the heap past its stack limit).
    @inlinable
    static func withTokens<Result>(
        _ subject: ByteSlice, _ body: (UnsafeBufferPointer<SubjectToken>?) -> Result
    ) -> Result {
        let bytes = subject.start
        let byteCount = subject.count
        if byteCount == 0 { return body(nil) }
        var tokenCount = 1
        var index = 0
        while index < byteCount {
            if bytes[index] == dot { tokenCount &+= 1 }
            index &+= 1
        }
        return withUnsafeTemporaryAllocation(of: SubjectToken.self, capacity: tokenCount) { buffer in
            var stored = 0
            var tokenStart = 0
            var hash = fnvOffset
            var position = 0
            while position < byteCount {
                let byte = bytes[position]
                if byte == dot {
                    if position == tokenStart { return body(nil) }
                    buffer.initializeElement(
                        at: stored, to: SubjectToken(start: bytes + tokenStart, count: position &- tokenStart, hash: hash))
                    stored &+= 1
                    tokenStart = position &+ 1
                    hash = fnvOffset
                } else {
                    hash = (hash ^ UInt64(byte)) &* fnvPrime
                }
                position &+= 1
            }
            if tokenStart == byteCount { return body(nil) }
            buffer.initializeElement(
                at: stored, to: SubjectToken(start: bytes + tokenStart, count: byteCount &- tokenStart, hash: hash))
            // SubjectToken is trivial, so the buffer needs no deinitialisation.
            return body(UnsafeBufferPointer(start: buffer.baseAddress, count: stored &+ 1))
        }
    }

    /// Whether tokens form a valid subscription subject: `>` only last, no whitespace inside tokens.
    /// Empty tokens never get here (`withTokens` reports them as nil).
    static func isValidSubscription(_ tokens: UnsafeBufferPointer<SubjectToken>) -> Bool {
        for (position, token) in tokens.enumerated() {
            if token.isTailWildcard && position != tokens.count - 1 { return false }
            for offset in 0..<token.count {
                switch token.start[offset] {
                case 0x20, 0x09, 0x0A, 0x0D, 0x0C: return false
                default: continue
                }
            }
        }
        return true
    }

    /// Whether any token is a wildcard (then a change can affect many cached subjects).
    static func hasWildcard(_ tokens: UnsafeBufferPointer<SubjectToken>) -> Bool {
        tokens.contains { $0.isSingleWildcard || $0.isTailWildcard }
    }

    /// Whether the literal (published) subject `literal` is matched by the subscription subject `pattern`.
    /// Both must be free of empty tokens. Used to find the cached results a wildcard change affects.
    static func literal(_ literal: UnsafeBufferPointer<UInt8>, isMatchedBy pattern: UnsafeBufferPointer<UInt8>) -> Bool {
        var patternStart = 0
        var literalStart = 0
        while patternStart < pattern.count {
            if literalStart >= literal.count { return false }
            let patternEnd = tokenEnd(pattern, from: patternStart)
            let literalEnd = tokenEnd(literal, from: literalStart)
            let patternLength = patternEnd - patternStart
            let isSingleToken = patternLength == 1
            if isSingleToken && pattern[patternStart] == greater { return true }
            if !(isSingleToken && pattern[patternStart] == star) {
                guard patternLength == literalEnd - literalStart else { return false }
                for offset in 0..<patternLength where pattern[patternStart + offset] != literal[literalStart + offset] {
                    return false
                }
            }
            patternStart = patternEnd + 1
            literalStart = literalEnd + 1
        }
        return literalStart >= literal.count
    }

    /// The index of the dot ending the token that starts at `start`, or the buffer's count.
    static func tokenEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        while index < bytes.count && bytes[index] != dot { index += 1 }
        return index
    }
}
