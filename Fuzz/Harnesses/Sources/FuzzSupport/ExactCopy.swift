/// Runs `body` on a copy of `bytes` in a heap allocation of exactly `bytes.count` bytes.
///
/// AddressSanitizer only reports a read past the end when nothing valid follows the last byte. A parser
/// handed a slice of a larger buffer (libFuzzer's input, a Swift array with spare capacity) could read
/// beyond its slice unnoticed; an exact-size copy makes every such read a reported heap-buffer-overflow.
public func withExactCopy<Result>(
    of bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Result
) rethrows -> Result {
    let storage = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 1)
    defer { storage.deallocate() }
    if let source = bytes.baseAddress, bytes.count > 0 {
        storage.copyMemory(from: source, byteCount: bytes.count)
    }
    return try body(UnsafeRawBufferPointer(start: storage, count: bytes.count))
}
