/// The whitespace-separated arguments of one control line, found in a single pass without allocating.
///
/// Keeps the first six tokens and the last three, which is all any op needs: RMSG/HMSG queue lists
/// are kept as a span between a known leading token and a known trailing one.
@usableFromInline
struct ArgumentTokens {
    @usableFromInline var count = 0
    @usableFromInline var first0 = ByteSlice.empty
    @usableFromInline var first1 = ByteSlice.empty
    @usableFromInline var first2 = ByteSlice.empty
    @usableFromInline var first3 = ByteSlice.empty
    @usableFromInline var first4 = ByteSlice.empty
    @usableFromInline var first5 = ByteSlice.empty
    @usableFromInline var last0 = ByteSlice.empty
    @usableFromInline var last1 = ByteSlice.empty
    @usableFromInline var last2 = ByteSlice.empty

    /// Splits `start ..< start + length` on spaces and tabs (and on `\r` when `splitOnReturn`, as
    /// nats-server does for every op but PUB/HPUB).
    @inlinable
    init(_ start: UnsafePointer<UInt8>, length: Int, splitOnReturn: Bool) {
        var index = 0
        var tokenStart = -1
        while index < length {
            let byte = start[index]
            let isBlank = byte == 0x20 || byte == 0x09 || (splitOnReturn && byte == 0x0D)
            if isBlank {
                if tokenStart >= 0 {
                    append(ByteSlice(start: start + tokenStart, count: index - tokenStart))
                    tokenStart = -1
                }
            } else if tokenStart < 0 {
                tokenStart = index
            }
            index += 1
        }
        if tokenStart >= 0 {
            append(ByteSlice(start: start + tokenStart, count: length - tokenStart))
        }
    }

    @inlinable
    mutating func append(_ token: ByteSlice) {
        switch count {
        case 0: first0 = token
        case 1: first1 = token
        case 2: first2 = token
        case 3: first3 = token
        case 4: first4 = token
        case 5: first5 = token
        default: break
        }
        last2 = last1
        last1 = last0
        last0 = token
        count += 1
    }

    /// Token `index` counted from the front; valid for index < min(count, 6).
    @inlinable
    func fromStart(_ index: Int) -> ByteSlice {
        switch index {
        case 0: return first0
        case 1: return first1
        case 2: return first2
        case 3: return first3
        case 4: return first4
        default: return first5
        }
    }

    /// Token `index` counted from the back (0 = last); valid for index < min(count, 3).
    @inlinable
    func fromEnd(_ index: Int) -> ByteSlice {
        switch index {
        case 0: return last0
        case 1: return last1
        default: return last2
        }
    }

    /// The span from the start of token `from` to the end of token `through`, both given as front
    /// indexes; `from` must be < 6 and `through` within the last three.
    @inlinable
    func span(from: Int, through: Int) -> ByteSlice {
        let head = fromStart(from)
        let tail = fromEnd(count - 1 - through)
        return ByteSlice(start: head.start, count: tail.start + tail.count - head.start)
    }
}

/// Decimal size fields as nats-server reads them: 1 to 9 ASCII digits, else -1.
@inlinable
func parseSize(_ token: ByteSlice) -> Int {
    let length = token.count
    if length == 0 || length > 9 { return -1 }
    var value = 0
    var index = 0
    while index < length {
        let digit = token.start[index] &- 0x30
        if digit > 9 { return -1 }
        value = value &* 10 &+ Int(digit)
        index += 1
    }
    return value
}
