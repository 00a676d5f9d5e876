import NATSProtocol

/// A small immutable byte string with a stable address, for values read on the per-message path
/// (a subscription's sid, a route's account name): it hands out a `ByteSlice` with no array bridging.
package final class OwnedBytes {
    let pointer: UnsafeMutablePointer<UInt8>
    let count: Int

    init(_ slice: ByteSlice) {
        count = slice.count
        pointer = .allocate(capacity: max(count, 1))
        if count > 0 { pointer.initialize(from: slice.start, count: count) }
    }

    convenience init(_ bytes: [UInt8]) {
        self.init(bytes.withUnsafeBytes { ByteSlice($0) })
    }

    deinit { pointer.deallocate() }

    @inline(__always) var slice: ByteSlice { ByteSlice(start: pointer, count: count) }
    var array: [UInt8] { slice.array }
    package var string: String { slice.string }
}
