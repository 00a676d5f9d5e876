import CLibUV

/// An object that owns one or more libuv handles on an `EventLoop`.
///
/// Every handle's `data` field points at its owner (retained with `Unmanaged.passRetained` when
/// the handle is initialised, released exactly once in the handle's close callback). At shutdown
/// the loop walks its handles, finds each owner through `data` and asks it to close, so every
/// handle goes through its own type's close callback and its memory is freed there.
protocol LoopHandleOwner: AnyObject {
    /// Closes the owned handle(s) if they are not closing already. Called by `EventLoop.shutdown()`.
    func closeForShutdown()
}

/// Allocates zeroed memory for one libuv handle or request at a stable address.
/// libuv keeps pointers to handles in its queues, so they must never move.
@inline(__always)
func allocateUVObject<T>(_ type: T.Type) -> UnsafeMutablePointer<T> {
    let pointer = UnsafeMutablePointer<T>.allocate(capacity: 1)
    UnsafeMutableRawPointer(pointer).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<T>.size)
    return pointer
}
