/// Subject and queue-name checks, with nats-server's rules (sublist.go IsValidSubject and
/// IsValidLiteralSubject).
public enum SubjectValidator {
    /// Valid subscription subject: non-empty tokens separated by `.`, `>` only as the last token,
    /// wildcards only as whole tokens (`foo*` is a literal token), no whitespace.
    @inlinable
    public static func isValidSubscription(_ subject: ByteSlice) -> Bool {
        scan(subject, allowWildcards: true)
    }

    /// Valid subject without wildcard tokens: what a pedantic PUB must use.
    @inlinable
    public static func isValidLiteral(_ subject: ByteSlice) -> Bool {
        scan(subject, allowWildcards: false)
    }

    /// Queue group names: a non-empty token without whitespace.
    @inlinable
    public static func isValidQueueName(_ queue: ByteSlice) -> Bool {
        if queue.isEmpty { return false }
        var index = 0
        while index < queue.count {
            if isWhitespace(queue.start[index]) { return false }
            index += 1
        }
        return true
    }

    @inlinable
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C
    }

    @inlinable
    static func scan(_ subject: ByteSlice, allowWildcards: Bool) -> Bool {
        let count = subject.count
        if count == 0 { return false }
        var tokenStart = 0
        var sawFullWildcard = false
        var index = 0
        while index <= count {
            if index == count || subject.start[index] == UInt8(ascii: ".") {
                let length = index - tokenStart
                if length == 0 || sawFullWildcard { return false }
                if length == 1 {
                    let byte = subject.start[tokenStart]
                    if byte == UInt8(ascii: ">") || byte == UInt8(ascii: "*") {
                        if !allowWildcards { return false }
                        if byte == UInt8(ascii: ">") { sawFullWildcard = true }
                    }
                }
                tokenStart = index + 1
            } else if isWhitespace(subject.start[index]) {
                return false
            }
            index += 1
        }
        return true
    }
}
