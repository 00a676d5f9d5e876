/// A borrowed run of bytes inside a buffer someone else owns, usually the event loop's read buffer.
///
/// Subjects, sids, reply subjects and payloads travel through the hot path as `ByteSlice`s so that no
/// `String` or `Array` is built per message. A slice is only valid while the buffer it points into is:
/// for parser callbacks, until the callback returns. Copy it (`array`, `string`) to keep it longer.
@frozen
public struct ByteSlice {
    public let start: UnsafePointer<UInt8>
    public let count: Int

    @inlinable
    public init(start: UnsafePointer<UInt8>, count: Int) {
        self.start = start
        self.count = count
    }

    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer) {
        // An empty buffer may have a nil base address; point at a static byte instead.
        self.start = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? ByteSlice.emptyBase
        self.count = buffer.count
    }

    /// A zero-length slice (used for absent optional arguments such as a missing reply subject).
    @inlinable public static var empty: ByteSlice { ByteSlice(start: emptyBase, count: 0) }

    /// The start of an empty slice: never dereferenced (count is 0), and a constant rather than a lazily
    /// initialised global, so building an empty slice on the per-message path costs nothing.
    @inlinable static var emptyBase: UnsafePointer<UInt8> { UnsafePointer(bitPattern: 0x10)! }

    @inlinable public var isEmpty: Bool { count == 0 }

    @inlinable public var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: start, count: count) }

    @inlinable
    public subscript(index: Int) -> UInt8 {
        precondition(index >= 0 && index < count, "ByteSlice index out of range")
        return start[index]
    }

    /// The bytes `from ..< from + length` of this slice.
    @inlinable
    public func slice(from: Int, length: Int) -> ByteSlice {
        precondition(from >= 0 && length >= 0 && from + length <= count, "ByteSlice range out of bounds")
        return ByteSlice(start: start + from, count: length)
    }

    /// Byte-wise equality with another slice.
    @inlinable
    public func elementsEqual(_ other: ByteSlice) -> Bool {
        count == other.count && (count == 0 || memcmpBytes(start, other.start, count))
    }

    /// Byte-wise equality with an array (for comparing against stored subjects or sids).
    @inlinable
    public func elementsEqual(_ other: [UInt8]) -> Bool {
        guard count == other.count else { return false }
        return other.withUnsafeBufferPointer { memcmpBytes(start, $0.baseAddress ?? ByteSlice.emptyBase, count) }
    }

    /// A copy of the bytes (allocates; not for the per-message path).
    @inlinable public var array: [UInt8] { Array(UnsafeBufferPointer(start: start, count: count)) }

    /// A copy of the bytes decoded as UTF-8 (allocates; for logging, JSON and monitoring).
    public var string: String { String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self) }
}

/// Compares `count` bytes; a plain loop the optimiser vectorises, so the module needs no libc import.
@inlinable
func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    var index = 0
    while index < count {
        if a[index] != b[index] { return false }
        index &+= 1
    }
    return true
}

extension ByteSlice: CustomStringConvertible {
    public var description: String { string }
}
