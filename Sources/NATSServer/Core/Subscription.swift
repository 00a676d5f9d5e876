import NATSProtocol
import NATSSublist
import Synchronization

/// One entry of the server's subject index: a local client's subscription, or the interest a route
/// peer announced with RS+ (then `route` is set and `weight` counts that peer's queue members).
package final class Subscription: SublistEntry {
    package let subject: [UInt8]
    package let queue: [UInt8]?
    /// The account whose index holds the subscription (accounts live as long as the server).
    package unowned(unsafe) let account: Account
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
    /// What the subscription does for accounts that share subjects (nil for ordinary subscriptions): a
    /// shadow of an importing client's subscription in the exporting account, or the internal subscription
    /// of a service import or of an account's service responses (neither client nor route set).
    let importRole: ImportRole?
    /// The shadows this (client) subscription has in exporting accounts (stream imports); its loop only.
    package internal(set) var shadows: [Subscription] = []
    /// Auto-unsubscribe limit (`UNSUB sid max`); 0 = unlimited.
    package var maxMessages = 0
    package var delivered = 0

    /// Every field; the entry points below name what kind of subscription they make.
    private init(
        subject: [UInt8], queue: [UInt8]?, queueBytes: OwnedBytes?, sid: OwnedBytes, account: Account,
        client: ClientConnection? = nil, route: RouteConnection? = nil, loopIndex: Int, peerKey: UInt64 = 0,
        clientID: UInt64 = 0, spreadsByClient: Bool = false, poolSize: Int = 1, peerOffset: Int = 0,
        filtersExport: Bool = false, weight: Int = 1, importRole: ImportRole? = nil
    ) {
        self.subject = subject
        self.queue = queue
        self.queueBytes = queueBytes
        self.sid = sid
        self.account = account
        self.clientReference = client.map { Unmanaged.passUnretained($0) }
        self.routeReference = route.map { Unmanaged.passUnretained($0) }
        self.loopIndex = loopIndex
        self.peerKey = peerKey
        self.clientID = clientID
        self.spreadsByClient = spreadsByClient
        self.poolSize = poolSize
        self.peerOffset = peerOffset
        self.filtersExport = filtersExport
        self.weightValue = Atomic(max(weight, 1))
        self.importRole = importRole
    }

    /// A local client's subscription (`SUB`), in the client's account.
    convenience init(client: ClientConnection, subject: ByteSlice, queue: ByteSlice, sid: ByteSlice) {
        self.init(subject: subject.array, queue: queue.isEmpty ? nil : queue.array,
                  queueBytes: queue.isEmpty ? nil : OwnedBytes(queue), sid: OwnedBytes(sid), account: client.account,
                  client: client, loopIndex: client.worker.index, clientID: client.id)
    }

    /// A shadow of `primary` (a client's subscription in the importing account) in the exporting account
    /// of `streamImport`, on `subject`: messages matching it there reach the client under the imported
    /// subject, counted against `primary`'s limit.
    convenience init(shadowOf primary: Subscription, client: ClientConnection, streamImport: StreamImport, subject: [UInt8]) {
        self.init(subject: subject, queue: primary.queue, queueBytes: primary.queueBytes, sid: primary.sid,
                  account: streamImport.exporter, client: client, loopIndex: client.worker.index, clientID: client.id,
                  importRole: ImportRole(primary: primary, streamImport: streamImport))
    }

    /// An internal subscription of `account` on `subject`: a service import's (requests, never announced
    /// to routes) or the account's service responses (announced, so responses from anywhere come back).
    convenience init(internalIn account: Account, subject: [UInt8], role: ImportRole) {
        self.init(subject: subject, queue: nil, queueBytes: nil, sid: OwnedBytes([]), account: account, loopIndex: 0,
                  importRole: role)
    }

    /// Interest a route peer announced (`RS+`) in `account`.
    convenience init(route: RouteConnection, account: Account, subject: [UInt8], queue: [UInt8]?, weight: Int,
                     filtersExport: Bool = false) {
        self.init(subject: subject, queue: queue, queueBytes: queue.map { OwnedBytes($0) }, sid: OwnedBytes([]),
                  account: account, route: route, loopIndex: route.worker.index, peerKey: route.peerKey,
                  spreadsByClient: route.spreadsByClient, poolSize: route.poolSize, peerOffset: route.peerOffset,
                  filtersExport: filtersExport, weight: weight)
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

/// What a subscription does for sharing between accounts (`Subscription.importRole`).
final class ImportRole {
    /// Shadow: the importing client's own subscription, and the stream import it listens through.
    unowned(unsafe) let primary: Subscription?
    let streamImport: StreamImport?
    /// Internal: requests for this service import.
    let serviceImport: ServiceImport?
    /// Internal: responses to requests this account serves for importers.
    let responses: ServiceResponses?

    /// The primary's subject as tokens: a shadow may listen more broadly than its primary, so every
    /// imported subject is checked against it.
    let primaryPattern: [[UInt8]]

    init(primary: Subscription, streamImport: StreamImport) {
        self.primary = primary
        self.primaryPattern = SubjectTokens.split(primary.subject)
        self.streamImport = streamImport
        self.serviceImport = nil
        self.responses = nil
    }

    init(serviceImport: ServiceImport) {
        self.primary = nil
        self.primaryPattern = []
        self.streamImport = nil
        self.serviceImport = serviceImport
        self.responses = nil
    }

    init(responses: ServiceResponses) {
        self.primary = nil
        self.primaryPattern = []
        self.streamImport = nil
        self.serviceImport = nil
        self.responses = responses
    }
}
