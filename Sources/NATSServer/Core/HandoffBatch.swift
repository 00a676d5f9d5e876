import NATSProtocol

/// Messages one loop hands to another in one go: the cross-loop half of the publish path.
///
/// The publishing loop copies each message once into the batch of the loop that serves a receiver
/// (subject, reply, header size, payload), followed by one target per receiver there: the subscription
/// and, for a route, the queue groups it won. At the end of its turn it posts the batch to that loop's
/// inbox; the serving loop writes MSG/RMSG frames from the batch straight into its receivers' outbound
/// buffers (the payload's one copy into a receiver's buffer), then gives the batch back to its source
/// for reuse. So per batch one lock per side and one wake-up, none per message, and in steady state no
/// allocation: batches, their buffers and their subscription arrays are recycled.
///
/// Layout, 4-byte aligned `UInt32` fields: a message is `subject count, reply count, header size (-1
/// none), payload count, target count`, then the three byte runs each padded to 4; a target is
/// `subscription index, queue count | pick hops << 16`, for a route the publishing client's id (two
/// fields, low half first), then per queue `length` and its bytes padded to 4. Pick hops is 0 for a
/// plain receiver, else how many loops a queue group's pick has been to.
///
/// `@unchecked Sendable`: a batch is owned by one loop at a time. It passes to the serving loop through
/// its `LoopInbox` and back through the source's `HandoffReturns`, both behind a mutex, so each owner's
/// writes happen-before the next owner's reads.
final class HandoffBatch: @unchecked Sendable {
    /// The worker that fills the batch (and gets it back).
    let source: Int
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    /// Bytes written.
    var used = 0
    /// The receivers named by the targets, retained (by hand, so reading one back costs no reference
    /// counting) while the batch travels; the serving loop checks each is still subscribed before
    /// delivering. Consecutive targets on one subscription share a slot.
    private(set) var subscriptions = ContiguousArray<Unmanaged<Subscription>>()
    /// The publish (worker serial) whose message was written last, and where its target count is.
    var messageSerial: UInt64 = 0
    var targetCountOffset = 0

    static let initialCapacity = 64 * 1024
    /// A batch this full is posted before the turn ends, so one turn's output cannot grow it unbounded.
    static let postThreshold = 1024 * 1024

    init(source: Int) {
        self.source = source
        capacity = HandoffBatch.initialCapacity
        base = .allocate(byteCount: capacity, alignment: 16)
        subscriptions.reserveCapacity(64)
    }

    deinit {
        reset()
        base.deallocate()
    }

    /// Empties the batch for reuse (keeps its buffer; drops its subscription references).
    func reset() {
        used = 0
        messageSerial = 0
        for subscription in subscriptions { subscription.release() }
        subscriptions.removeAll(keepingCapacity: true)
    }

    /// The subscription of a target's slot, valid until `reset`.
    @inline(__always)
    func subscription(at slot: Int) -> Unmanaged<Subscription> { subscriptions[slot] }

    @inline(__always)
    static func padded(_ count: Int) -> Int { (count &+ 3) & ~3 }

    @inline(__always)
    private func reserve(_ count: Int) {
        if used &+ count > capacity { grow(to: used &+ count) }
    }

    @inline(never)
    private func grow(to needed: Int) {
        let newCapacity = max(capacity * 2, needed)
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: used)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    private func store(_ value: Int, at offset: Int) {
        base.storeBytes(of: UInt32(truncatingIfNeeded: value), toByteOffset: offset, as: UInt32.self)
    }

    @inline(__always)
    private func copy(_ bytes: ByteSlice, at offset: Int) {
        if bytes.count > 0 { (base + offset).copyMemory(from: bytes.start, byteCount: bytes.count) }
    }

    /// Appends a message record for publish `serial`; its targets follow with `appendTarget`.
    @inline(__always)
    func appendMessage(serial: UInt64, subject: ByteSlice, reply: ByteSlice, headerSize: Int, payload: ByteSlice) {
        let subjectSpace = HandoffBatch.padded(subject.count)
        let replySpace = HandoffBatch.padded(reply.count)
        let size = 20 &+ subjectSpace &+ replySpace &+ HandoffBatch.padded(payload.count)
        reserve(size)
        let start = used
        store(subject.count, at: start)
        store(reply.count, at: start &+ 4)
        store(headerSize, at: start &+ 8)
        store(payload.count, at: start &+ 12)
        store(0, at: start &+ 16)
        copy(subject, at: start &+ 20)
        copy(reply, at: start &+ 20 &+ subjectSpace)
        copy(payload, at: start &+ 20 &+ subjectSpace &+ replySpace)
        used = start &+ size
        messageSerial = serial
        targetCountOffset = start &+ 16
    }

    /// Appends a receiver of the message appended last: a client subscription, or a route (any
    /// subscription of that route's interest) with the queue groups it won.
    @inline(__always)
    func appendTarget(_ subscription: Subscription, queues: UnsafeBufferPointer<ByteSlice>, publisher: UInt64,
                      pickHops: Int) {
        let isRoute = subscription.clientReference == nil
        var slot = subscriptions.count &- 1
        let reference = Unmanaged.passUnretained(subscription)
        if slot < 0 || subscriptions[slot].toOpaque() != reference.toOpaque() {
            subscriptions.append(reference.retain())
            slot = subscriptions.count &- 1
        }
        var size = isRoute ? 16 : 8
        for queue in queues { size &+= 4 &+ HandoffBatch.padded(queue.count) }
        reserve(size)
        var offset = used
        store(slot, at: offset)
        store(queues.count | pickHops << 16, at: offset &+ 4)
        offset &+= 8
        if isRoute {
            store(Int(truncatingIfNeeded: publisher & 0xFFFF_FFFF), at: offset)
            store(Int(truncatingIfNeeded: publisher >> 32), at: offset &+ 4)
            offset &+= 8
        }
        for queue in queues {
            store(queue.count, at: offset)
            copy(queue, at: offset &+ 4)
            offset &+= 4 &+ HandoffBatch.padded(queue.count)
        }
        used = offset
        let count = base.load(fromByteOffset: targetCountOffset, as: UInt32.self)
        base.storeBytes(of: count &+ 1, toByteOffset: targetCountOffset, as: UInt32.self)
    }

    @inline(__always)
    func load(at offset: Int) -> Int {
        Int(base.load(fromByteOffset: offset, as: UInt32.self))
    }

    /// The publishing client's id of a route target (two fields, low half first).
    @inline(__always)
    func loadPublisher(at offset: Int) -> UInt64 {
        UInt64(load(at: offset)) | UInt64(load(at: offset &+ 4)) << 32
    }

    @inline(__always)
    func slice(at offset: Int, count: Int) -> ByteSlice {
        ByteSlice(start: (base + offset).assumingMemoryBound(to: UInt8.self), count: count)
    }
}
