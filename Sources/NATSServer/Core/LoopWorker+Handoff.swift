import NATSProtocol
import Synchronization
import UVLoop

/// What other loops may touch of a worker: batches given back to it, the bytes it has handed over that
/// are not delivered yet, and the backpressure flag its receivers' loops raise.
///
/// `@unchecked Sendable`: `returned` is guarded by `lock`; the rest are atomics.
final class HandoffReturns: @unchecked Sendable {
    private let lock = PThreadLock()
    /// Guarded by `lock`.
    private var returned: [HandoffBatch] = []
    /// Bytes in batches posted by this worker and not yet delivered by their loop.
    let bytesInFlight = Atomic<Int>(0)

    /// A serving loop is done with `batch` (already reset) of `bytes` bytes.
    func giveBack(_ batch: HandoffBatch, bytes: Int) {
        lock.withLock { returned.append(batch) }
        bytesInFlight.subtract(bytes, ordering: .relaxed)
    }

    /// Moves the returned batches into `free` (on the source's loop).
    func collect(into free: inout [HandoffBatch]) {
        lock.withLock {
            free.append(contentsOf: returned)
            returned.removeAll(keepingCapacity: true)
        }
    }
}

/// A closure run on another loop (control traffic: adopting a connection, interest changes, monitoring
/// reads, shutdown). `@unchecked Sendable`: it runs on the destination loop only, and whatever it
/// captures is handed over whole — the sender does not use it again, or it is immutable or synchronised.
struct LoopTask: @unchecked Sendable {
    let run: () -> Void
}

/// What one loop's inbox carries.
enum LoopMail: Sendable {
    case task(LoopTask)
    case messages(HandoffBatch)
}

extension LoopWorker {
    /// Most bytes a worker may have handed to other loops and not yet seen delivered before its reader
    /// is paused, as if a receiver had backed up: bounds memory when a serving loop falls behind, and
    /// keeps what is in flight well inside a receiver's headroom between the stall mark and max_pending
    /// (a receiver on another loop learns of it only on delivery).
    static func handoffBytesLimit(maxPending: Int) -> Int {
        max(64 * 1024, min(4 * 1024 * 1024, maxPending / 8))
    }

    /// Queues one message for `subscription`, served by another loop (`destination`, by default the
    /// subscription's): the message goes into that loop's batch once per publish, then the receiver
    /// (with the queue groups a route won).
    ///
    /// For a client, `pickHops` is 0 for a plain subscriber; for a queue group member picked here it is
    /// 1, and the serving loop picks again among the group's members if that one has gone meanwhile (a
    /// client that closed while its loop was busy), as nats-server tries the next member of a group when a
    /// delivery fails. Each further pick adds a hop; after `maximumPickHops` the message is dropped.
    /// For remote interest it is 0 to send on the publisher's pool slot, served by `destination`, or
    /// `interestRouteTarget` to send on the route the interest came from.
    func handOff(_ subscription: Subscription, to destination: Int? = nil,
                 queues: UnsafeBufferPointer<ByteSlice> = UnsafeBufferPointer(start: nil, count: 0),
                 publisher: UInt64 = 0, pickHops: Int = 0, subject: ByteSlice, reply: ByteSlice, headerSize: Int,
                 payload: ByteSlice) {
        let destination = destination ?? subscription.loopIndex
        let reference = outboxes[destination] ?? openOutbox(to: destination)
        reference._withUnsafeGuaranteedRef { batch in
            if batch.messageSerial != publishSerial {
                batch.appendMessage(serial: publishSerial, subject: subject, reply: reply, headerSize: headerSize, payload: payload)
            }
            batch.appendTarget(subscription, queues: queues, publisher: publisher, pickHops: pickHops)
        }
        handedOffDuringRead = true
        if subscription.isBackedUp.load(ordering: .relaxed) { backedUpTarget = subscription }
    }

    @inline(never)
    private func openOutbox(to destination: Int) -> Unmanaged<HandoffBatch> {
        if freeBatches.isEmpty { returns.collect(into: &freeBatches) }
        let batch = Unmanaged.passRetained(freeBatches.popLast() ?? HandoffBatch(source: index))
        outboxes[destination] = batch
        openOutboxes.append(destination)
        return batch
    }

    /// Posts every open batch to its loop (the end of each loop turn, and early when a batch is large).
    func postHandoffs() {
        guard !openOutboxes.isEmpty else { return }
        for destination in openOutboxes {
            guard let reference = outboxes[destination] else { continue }
            outboxes[destination] = nil
            let batch = reference.takeRetainedValue()
            returns.bytesInFlight.add(batch.used, ordering: .relaxed)
            if !peers[destination].inbox.post(.messages(batch)) {
                // That loop is shutting down: its receivers are going away, drop the messages.
                returns.bytesInFlight.subtract(batch.used, ordering: .relaxed)
                batch.reset()
                freeBatches.append(batch)
            }
        }
        openOutboxes.removeAll(keepingCapacity: true)
    }

    /// After a read that handed messages over: posts batches that grew large, and asks for the reader to
    /// be paused when a serving loop reported a backed-up receiver or falls too far behind.
    func checkHandoffsAfterRead() {
        handedOffDuringRead = false
        for destination in openOutboxes {
            if let batch = outboxes[destination],
               batch._withUnsafeGuaranteedRef({ $0.used }) >= min(HandoffBatch.postThreshold, handoffBytesLimit) {
                postHandoffs()
                break
            }
        }
        var open = 0
        for destination in openOutboxes {
            if let batch = outboxes[destination] { open &+= batch._withUnsafeGuaranteedRef { $0.used } }
        }
        if backedUpTarget != nil || returns.bytesInFlight.load(ordering: .relaxed) &+ open > handoffBytesLimit {
            if Server.longStallMilliseconds > requestedStall { requestedStall = Server.longStallMilliseconds }
            crossLoopStall = true
        }
    }

    /// A receiver on this loop backed up with messages another loop handed over for `subscription`:
    /// flag the subscription, so the loops feeding it pause the readers that do, until the receiver
    /// drained (checked every millisecond) or closed.
    func watchBackedUpReceiver(_ receiver: TCPConnection, subscription: Subscription) {
        if backedUpForOthers.contains(where: { $0.subscription === subscription }) { return }
        backedUpForOthers.append((receiver, subscription))
        subscription.isBackedUp.store(true, ordering: .relaxed)
        if backedUpTimer == nil {
            backedUpTimer = LoopTimer(loop: loop) { [unowned self] in self.releaseDrainedReceivers() }
        }
        if backedUpForOthers.count == 1 { backedUpTimer?.start(afterMilliseconds: 1, repeatMilliseconds: 1) }
    }

    private func releaseDrainedReceivers() {
        let threshold = stallThreshold
        backedUpForOthers.removeAll { entry in
            guard entry.receiver.isClosing || entry.receiver.pendingBytes <= threshold else { return false }
            entry.subscription.isBackedUp.store(false, ordering: .relaxed)
            return true
        }
        if backedUpForOthers.isEmpty { backedUpTimer?.stop() }
    }

    /// Lets every other loop's producers go (this loop is shutting down).
    func releaseAllBackedUpReceivers() {
        for entry in backedUpForOthers { entry.subscription.isBackedUp.store(false, ordering: .relaxed) }
        backedUpForOthers.removeAll()
        backedUpTimer?.close()
        backedUpTimer = nil
    }

    /// The most loops one queue group pick may visit before the message is dropped.
    static let maximumPickHops = 3
    /// A remote-interest target's `pickHops` for "on the route the interest came from" (0: on the
    /// publisher's pool slot).
    static let interestRouteTarget = 1

    /// A queue group member picked on another loop is gone: pick again among the group's members that
    /// are clients (nats-server tries the next member when a delivery fails), found through this loop's
    /// own match of the subject.
    @inline(never)
    private func pickAgain(for gone: Subscription, hops: Int, subject: ByteSlice, reply: ByteSlice, headerSize: Int,
                           payload: ByteSlice) {
        guard let queue = gone.queueBytes else { return }
        let result = gone.account.matcher(onLoop: index).match(subject)
        guard let group = result.queueGroups.first(where: { $0.first?.queueBytes?.slice.elementsEqual(queue.slice) == true }),
              let member = pickLocalQueueMember(group, subject: subject), let receiver = member.clientReference
        else { return }
        if member.loopIndex == index {
            receiver._withUnsafeGuaranteedRef { receiver in
                _ = deliver(to: member, receiver: receiver, subject: subject, reply: reply, headerSize: headerSize,
                            payload: payload)
            }
        } else if hops < LoopWorker.maximumPickHops {
            publishSerial &+= 1
            handOff(member, pickHops: hops + 1, subject: subject, reply: reply, headerSize: headerSize, payload: payload)
        }
    }

    /// Everything other loops posted to this one, in order.
    func drainInbox(_ mail: inout [LoopMail]) {
        assertOnLoop()
        for item in mail {
            switch item {
            case .task(let task): task.run()
            case .messages(let batch): deliverHandoff(batch)
            }
        }
        mail.removeAll(keepingCapacity: true)
    }

    /// Delivers a batch another loop filled: every target that is still subscribed gets its frame.
    private func deliverHandoff(_ batch: HandoffBatch) {
        handoffSource = batch.source
        inputTime = loop.now
        var offset = 0
        let end = batch.used
        while offset < end {
            let subjectCount = batch.load(at: offset)
            let replyCount = batch.load(at: offset &+ 4)
            let headerSize = Int(Int32(truncatingIfNeeded: batch.load(at: offset &+ 8)))
            let payloadCount = batch.load(at: offset &+ 12)
            let targetCount = batch.load(at: offset &+ 16)
            offset &+= 20
            let subject = batch.slice(at: offset, count: subjectCount)
            offset &+= HandoffBatch.padded(subjectCount)
            let reply = batch.slice(at: offset, count: replyCount)
            offset &+= HandoffBatch.padded(replyCount)
            let payload = batch.slice(at: offset, count: payloadCount)
            offset &+= HandoffBatch.padded(payloadCount)
            var target = 0
            while target < targetCount {
                let reference = batch.subscription(at: batch.load(at: offset))
                let counts = batch.load(at: offset &+ 4)
                let queueCount = counts & 0xFFFF
                let pickHops = counts >> 16
                offset &+= 8
                var publisher: UInt64 = 0
                if reference._withUnsafeGuaranteedRef({ $0.clientReference == nil }) {
                    publisher = batch.loadPublisher(at: offset)
                    offset &+= 8
                }
                queueScratch.removeAll(keepingCapacity: true)
                var queue = 0
                while queue < queueCount {
                    let length = batch.load(at: offset)
                    queueScratch.append(batch.slice(at: offset &+ 4, count: length))
                    offset &+= 4 &+ HandoffBatch.padded(length)
                    queue &+= 1
                }
                reference._withUnsafeGuaranteedRef { subscription in
                    handoffSubscription = subscription
                    if subscription.clientReference == nil {
                        deliverToPeer(subscription, mode: pickHops, publisher: publisher, source: batch.source,
                                      subject: subject, reply: reply, headerSize: headerSize, payload: payload)
                        return
                    }
                    // Checked before the subscription's client is touched: once removed, its client may be
                    // gone (removal happens on this loop, so the flag is current).
                    if subscription.isRemoved || subscription.client?.isClosed == true {
                        if pickHops > 0 {
                            pickAgain(for: subscription, hops: pickHops, subject: subject, reply: reply,
                                      headerSize: headerSize, payload: payload)
                        }
                        return
                    }
                    if let receiver = subscription.clientReference {
                        let delivered = receiver._withUnsafeGuaranteedRef { receiver in
                            deliver(to: subscription, receiver: receiver, subject: subject, reply: reply,
                                    headerSize: headerSize, payload: payload)
                        }
                        // A queue member picked on another loop that could not take it (its deny list, its
                        // auto-unsubscribe limit): another member gets it, as nats-server tries the next.
                        if !delivered && pickHops > 0 {
                            pickAgain(for: subscription, hops: pickHops, subject: subject, reply: reply,
                                      headerSize: headerSize, payload: payload)
                        }
                    }
                }
                target &+= 1
            }
        }
        handoffSource = -1
        handoffSubscription = nil
        batch.reset()
        peers[batch.source].returns.giveBack(batch, bytes: end)
    }

    /// A message another loop handed over for a peer (remote interest `subscription`): on the connection
    /// of the publisher's slot, which this loop serves (`mode` 0; the slot is computed as the publishing
    /// loop `source` did), or on the route the interest came from (`interestRouteTarget`; this is its
    /// loop). A natsd peer whose slot connection is down gets it on the interest's route. The remote
    /// subscription's route is touched only on its own loop.
    @inline(__always)
    private func deliverToPeer(_ subscription: Subscription, mode: Int, publisher: UInt64, source: Int, subject: ByteSlice,
                               reply: ByteSlice, headerSize: Int, payload: ByteSlice) {
        queueScratch.withUnsafeBufferPointer { queues in
            if mode == 0 && subscription.spreadsByClient {
                let slot = RouteSlots.slot(forClient: publisher, onLoop: source, poolSize: subscription.poolSize,
                                           offset: subscription.peerOffset, loops: loopCount)
                if let route = hostedRoute(peer: subscription.peerKey, slot: slot) {
                    route._withUnsafeGuaranteedRef {
                        $0.forward(account: subscription.account.nameBytes.slice, subject: subject, reply: reply, queues: queues, headerSize: headerSize, payload: payload)
                    }
                    return
                }
                if subscription.loopIndex != index { publishSerial &+= 1 }
            }
            forwardOnInterestRoute(subscription, queues: queues, publisher: publisher, subject: subject, reply: reply,
                                   headerSize: headerSize, payload: payload)
        }
    }
}
