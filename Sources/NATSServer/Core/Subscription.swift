import NATSProtocol
import NATSSublist
import Synchronization

/// One entry of the server's subject index: a local client's subscription, or the interest a route
/// peer announced with RS+ (then `route` is set and `weight` counts that peer's queue members).
package final class Subscription: SublistEntry {
    package let subject: [UInt8]
    package let queue: [UInt8]?
    /// The queue name at a stable address, for naming won groups in an RMSG without copying.
    let queueBytes: OwnedBytes?
    /// The client's sid (local subscriptions) — echoed verbatim in MSG.
    package let sid: OwnedBytes
    /// The subscribing client, unretained: a connection removes all its subscriptions before it goes
    /// away. Held as `Unmanaged` so the per-message path reads it without reference counting
    /// (`_withUnsafeGuaranteedRef`); `client` is the plain view for everything else.
    let clientReference: Unmanaged<ClientConnection>?
    /// The route the interest came from (remote subscriptions), unretained like `clientReference`.
    let routeReference: Unmanaged<RouteConnection>?
    package var client: ClientConnection? { clientReference?.takeUnretainedValue() }
    var route: RouteConnection? { routeReference?.takeUnretainedValue() }
    /// The worker (loop) that serves the client or route: only that loop touches `client`, `route`,
    /// `delivered`, `maxMessages` and `isRemoved`; other loops hand messages for it over to that loop.
    let loopIndex: Int
    /// For remote interest, the peer server it came from (its `RoutePeer.joinOrder`; 0 for a client):
    /// one message goes to a peer once, whichever of its pool connections announced the interest, and
    /// peers are told apart without touching a route (which may belong to another loop).
    let peerKey: UInt64
    /// The subscribing client's id (0 for remote interest), readable from any loop: the main loop keys
    /// the interest a client creates by it (route pool slots) without touching the client.
    let clientID: UInt64
    /// For remote interest from a natsd peer with several pool slots: local publishers' messages go on
    /// their own slot (`RouteSlots`), found from the pool's size and the peer's loop offset; otherwise
    /// (false) on the route the interest came from.
    let spreadsByClient: Bool
    let poolSize: Int
    let peerOffset: Int
    /// For remote interest: a wildcard that export-denied subjects match (`cluster.permissions`), so each
    /// message for it is checked before it is forwarded (`LoopWorker.exportDenies`).
    let filtersExport: Bool
    /// Set by the owning loop when the subscription leaves the index; a message another loop handed
    /// over for it is then dropped (its client or route may be gone).
    var isRemoved = false
    /// Queue weight: 1 for a client, the peer's member count for remote queue interest. Atomic: the
    /// route's loop updates it (RS+) while any loop may be picking a member (relaxed: a figure).
    private let weightValue: Atomic<Int>
    var weight: Int {
        get { weightValue.load(ordering: .relaxed) }
        set { weightValue.store(newValue, ordering: .relaxed) }
    }
    /// Set by the loop serving the receiver while it is backed up with messages other loops handed over
    /// for this subscription: those loops pause the readers that feed it until it clears (only the
    /// producers of this subscription, not every reader of the loop).
    let isBackedUp = Atomic<Bool>(false)
    /// Auto-unsubscribe limit (`UNSUB sid max`); 0 = unlimited.
    package var maxMessages = 0
    package var delivered = 0

    init(client: ClientConnection, subject: ByteSlice, queue: ByteSlice, sid: ByteSlice) {
        self.subject = subject.array
        self.queue = queue.isEmpty ? nil : queue.array
        self.queueBytes = queue.isEmpty ? nil : OwnedBytes(queue)
        self.sid = OwnedBytes(sid)
        self.clientReference = Unmanaged.passUnretained(client)
        self.routeReference = nil
        self.loopIndex = client.worker.index
        self.peerKey = 0
        self.clientID = client.id
        self.spreadsByClient = false
        self.poolSize = 1
        self.peerOffset = 0
        self.filtersExport = false
        self.weightValue = Atomic(1)
    }

    init(route: RouteConnection, subject: [UInt8], queue: [UInt8]?, weight: Int, filtersExport: Bool = false) {
        self.subject = subject
        self.queue = queue
        self.queueBytes = queue.map { OwnedBytes($0) }
        self.sid = OwnedBytes([])
        self.clientReference = nil
        self.routeReference = Unmanaged.passUnretained(route)
        self.loopIndex = route.worker.index
        self.peerKey = route.peerKey
        self.clientID = 0
        self.spreadsByClient = route.spreadsByClient
        self.poolSize = route.poolSize
        self.peerOffset = route.peerOffset
        self.filtersExport = filtersExport
        self.weightValue = Atomic(max(weight, 1))
    }
}

extension ContiguousArray where Element: AnyObject {
    /// Calls `body` with each element, borrowed: no retain and release per element (the array keeps
    /// them alive, and `body` must not change it).
    @inline(__always)
    func forEachBorrowed(_ body: (Element) -> Void) {
        withUnsafeBufferPointer { elements in
            var position = 0
            while position < elements.count {
                Unmanaged.passUnretained(elements[position])._withUnsafeGuaranteedRef(body)
                position &+= 1
            }
        }
    }
}
