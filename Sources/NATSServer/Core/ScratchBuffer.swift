/// A growable buffer of plain values (no references counted: `Unmanaged`, slices, integers) for the
/// per-message path: appending and reading cost a store and a load, with no uniqueness check or copy-on-
/// write as an array stored in a class has. Grows by doubling, never shrinks; its owner calls
/// `deallocate()` once, when it goes away.
struct ScratchBuffer<Element> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var capacity: Int
    /// Elements in use; those past it are stale.
    var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }

    @inline(__always)
    subscript(position: Int) -> Element {
        get { base[position] }
        nonmutating set { base[position] = newValue }
    }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count == capacity { grow() }
        (base + count).initialize(to: element)
        count &+= 1
    }

    /// Makes room for at least `wanted` elements (those in use are kept).
    mutating func reserve(_ wanted: Int) {
        while capacity < wanted { grow() }
    }

    @inline(never)
    private mutating func grow() {
        let larger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        larger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = larger
        capacity *= 2
    }

    /// The elements in use.
    var elements: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }

    func deallocate() { base.deallocate() }
}
