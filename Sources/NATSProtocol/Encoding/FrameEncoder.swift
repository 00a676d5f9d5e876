/// Writes outbound protocol frames. The per-message frames (MSG/HMSG to clients, RMSG/HMSG to routes)
/// are written straight into a caller's buffer without allocating; the caller sizes the space with
/// the matching `...Length` function first.
public enum FrameEncoder {
    // MARK: Client deliveries

    /// Length of `MSG <subject> <sid> [reply] <n>\r\n<payload>\r\n`, or HMSG `... <hdr> <total>` when headerSize >= 0.
    @inlinable
    public static func clientMessageLength(subject: ByteSlice, sid: ByteSlice, reply: ByteSlice, headerSize: Int, payloadCount: Int) -> Int {
        var length = (headerSize >= 0 ? 5 : 4) + subject.count + 1 + sid.count + 1
        if !reply.isEmpty { length += reply.count + 1 }
        if headerSize >= 0 { length += decimalLength(headerSize) + 1 }
        return length + decimalLength(payloadCount) + 2 + payloadCount + 2
    }

    /// Writes exactly that frame (payload copied once) and returns the byte count written.
    @inlinable
    public static func writeClientMessage(to destination: UnsafeMutableRawPointer, subject: ByteSlice, sid: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) -> Int {
        var offset = headerSize >= 0 ? writeVerb(.headerMessage, to: destination) : writeVerb(.message, to: destination)
        offset += write(subject, to: destination + offset)
        destination.storeBytes(of: 0x20, toByteOffset: offset, as: UInt8.self)
        offset += 1
        offset += write(sid, to: destination + offset)
        destination.storeBytes(of: 0x20, toByteOffset: offset, as: UInt8.self)
        offset += 1
        if !reply.isEmpty {
            offset += write(reply, to: destination + offset)
            destination.storeBytes(of: 0x20, toByteOffset: offset, as: UInt8.self)
            offset += 1
        }
        return offset + writeSizesAndPayload(to: destination + offset, headerSize: headerSize, payload: payload)
    }

    // MARK: Route messages

    /// `RMSG <acc> <subject> [reply] <n>` / `+ reply q1 q2` / `| q1 q2`; HMSG form when headerSize >= 0.
    /// account empty ⇒ omitted (pinned route). queues may be empty.
    @inlinable
    public static func routedMessageLength(account: ByteSlice, subject: ByteSlice, reply: ByteSlice, queues: UnsafeBufferPointer<ByteSlice>, headerSize: Int, payloadCount: Int) -> Int {
        var length = 5 + subject.count + 1
        if !account.isEmpty { length += account.count + 1 }
        if queues.isEmpty {
            if !reply.isEmpty { length += reply.count + 1 }
        } else {
            length += reply.isEmpty ? 2 : 2 + reply.count + 1
            for queue in queues { length += queue.count + 1 }
        }
        if headerSize >= 0 { length += decimalLength(headerSize) + 1 }
        return length + decimalLength(payloadCount) + 2 + payloadCount + 2
    }

    /// At least the length of the RMSG/HMSG frame `writeRoutedMessage` writes, found by additions only:
    /// room for the longest decimal sizes instead of counting their digits (the caller reserves this,
    /// then commits what was written). Exact, via `routedMessageLength`, when queues are named.
    @inlinable
    public static func routedMessageSpace(account: ByteSlice, subject: ByteSlice, reply: ByteSlice, queues: UnsafeBufferPointer<ByteSlice>, headerSize: Int, payloadCount: Int) -> Int {
        guard queues.isEmpty else {
            return routedMessageLength(account: account, subject: subject, reply: reply, queues: queues, headerSize: headerSize,
                                       payloadCount: payloadCount)
        }
        // "RMSG " + account + " " + subject + " " + reply + " " + header size (≤ 20 digits) + " " +
        // size (≤ 20 digits) + CRLF + payload + CRLF.
        return account.count &+ subject.count &+ reply.count &+ payloadCount &+ 56
    }

    /// Writes exactly the frame measured by `routedMessageLength` and returns the byte count written.
    @inlinable
    public static func writeRoutedMessage(to destination: UnsafeMutableRawPointer, account: ByteSlice, subject: ByteSlice, reply: ByteSlice, queues: UnsafeBufferPointer<ByteSlice>, headerSize: Int, payload: ByteSlice) -> Int {
        var offset = headerSize >= 0 ? writeVerb(.headerMessage, to: destination) : writeVerb(.routedMessage, to: destination)
        if !account.isEmpty {
            offset += writeShort(account, to: destination + offset)
            destination.storeBytes(of: 0x20, toByteOffset: offset, as: UInt8.self)
            offset += 1
        }
        offset += write(subject, to: destination + offset)
        destination.storeBytes(of: 0x20, toByteOffset: offset, as: UInt8.self)
        offset += 1
        if queues.isEmpty {
            if !reply.isEmpty {
                offset += write(reply, to: destination + offset)
                destination.storeBytes(of: 0x20, toByteOffset: offset, as: UInt8.self)
                offset += 1
            }
        } else {
            destination.storeBytes(of: reply.isEmpty ? UInt8(ascii: "|") : UInt8(ascii: "+"), toByteOffset: offset, as: UInt8.self)
            destination.storeBytes(of: 0x20, toByteOffset: offset + 1, as: UInt8.self)
            offset += 2
            if !reply.isEmpty {
                offset += write(reply, to: destination + offset)
                destination.storeBytes(of: 0x20, toByteOffset: offset, as: UInt8.self)
                offset += 1
            }
            for queue in queues {
                offset += write(queue, to: destination + offset)
                destination.storeBytes(of: 0x20, toByteOffset: offset, as: UInt8.self)
                offset += 1
            }
        }
        return offset + writeSizesAndPayload(to: destination + offset, headerSize: headerSize, payload: payload)
    }

    // MARK: Decimals

    /// Decimal digits of a non-negative Int.
    @inlinable
    public static func decimalLength(_ value: Int) -> Int {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return digits
    }

    /// Writes the decimal digits of a non-negative Int and returns how many were written.
    @inlinable
    public static func writeDecimal(_ value: Int, to destination: UnsafeMutableRawPointer) -> Int {
        let digits = decimalLength(value)
        var rest = value
        var index = digits - 1
        while index >= 0 {
            destination.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 + rest % 10), toByteOffset: index, as: UInt8.self)
            rest /= 10
            index -= 1
        }
        return digits
    }

    // MARK: Pieces

    @usableFromInline
    enum FrameVerb {
        case message, headerMessage, routedMessage
    }

    /// Writes `MSG `, `HMSG ` or `RMSG `.
    @inlinable
    static func writeVerb(_ verb: FrameVerb, to destination: UnsafeMutableRawPointer) -> Int {
        switch verb {
        case .message:
            // "MSG " as one little-endian word.
            destination.storeBytes(of: 0x2047_534D as UInt32, toByteOffset: 0, as: UInt32.self)
            return 4
        case .headerMessage:
            destination.storeBytes(of: 0x4753_4D48 as UInt32, toByteOffset: 0, as: UInt32.self)
            destination.storeBytes(of: 0x20, toByteOffset: 4, as: UInt8.self)
            return 5
        case .routedMessage:
            destination.storeBytes(of: 0x4753_4D52 as UInt32, toByteOffset: 0, as: UInt32.self)
            destination.storeBytes(of: 0x20, toByteOffset: 4, as: UInt8.self)
            return 5
        }
    }

    /// `[hdr ]<size>\r\n<payload>\r\n`.
    @inlinable
    static func writeSizesAndPayload(to destination: UnsafeMutableRawPointer, headerSize: Int, payload: ByteSlice) -> Int {
        var offset = 0
        if headerSize >= 0 {
            offset += writeDecimal(headerSize, to: destination)
            destination.storeBytes(of: 0x20, toByteOffset: offset, as: UInt8.self)
            offset += 1
        }
        offset += writeDecimal(payload.count, to: destination + offset)
        destination.storeBytes(of: 0x0A0D as UInt16, toByteOffset: offset, as: UInt16.self)
        offset += 2
        offset += write(payload, to: destination + offset)
        destination.storeBytes(of: 0x0A0D as UInt16, toByteOffset: offset, as: UInt16.self)
        return offset + 2
    }

    @inlinable
    static func write(_ slice: ByteSlice, to destination: UnsafeMutableRawPointer) -> Int {
        if slice.count > 0 { destination.copyMemory(from: slice.start, byteCount: slice.count) }
        return slice.count
    }

    /// `write` for a slice that is usually a few bytes (an account name, `$G` on every routed message):
    /// copied byte by byte up to 8 bytes, cheaper than a call to memmove.
    @inlinable @inline(__always)
    static func writeShort(_ slice: ByteSlice, to destination: UnsafeMutableRawPointer) -> Int {
        guard slice.count <= 8 else { return write(slice, to: destination) }
        var index = 0
        while index < slice.count {
            destination.storeBytes(of: slice.start[index], toByteOffset: index, as: UInt8.self)
            index &+= 1
        }
        return slice.count
    }
}
