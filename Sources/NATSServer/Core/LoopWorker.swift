import NATSAuth
import NATSConfig
import NATSProtocol
import NATSSublist
import UVLoop

/// Everything one event loop owns: its libuv loop, the client connections it serves, its sublist
/// matcher, statistics, random numbers, flow control, close-after-flush deadlines and the scratch space
/// of the publish path. nats-server keeps the equivalent per client or per read goroutine; natsd keeps it
/// per loop, so the per-message path touches no state another thread writes.
///
/// Loop-confined: every member is used on the worker's loop thread only (checked in debug builds by
/// `assertOnLoop()`). Shared state lives on `Server` (options, the sublist, identity) and is either
/// immutable after start or synchronised there.
package final class LoopWorker {
    /// The server outlives its workers; unowned(unsafe) keeps refcounting off the per-message path.
    unowned(unsafe) let server: Server
    /// 0 for the main loop (listeners, routes, monitoring, signals), 1... for the others.
    package let index: Int
    package let loop: EventLoop
    /// How many loops the server runs (`--loops`).
    let loopCount: Int
    /// This loop's view of the shared subscription index: its own cache and read slot.
    package let matcher: SublistMatcher<Subscription>
    package var statistics = ServerStatistics()
    var random = FastRandom()
    /// The client connections this loop serves, by client id.
    package var clients: [UInt64: ClientConnection] = [:]
    /// The message counters of this loop's closed clients, added up per account name when they close, so
    /// /metrics' per-account totals keep counting after a client goes (nothing per message).
    package var closedClientCounters: [String: MessageCounters] = [:]
    var housekeepingTimer: LoopTimer?
    var isShuttingDown = false
    var shutdownDeadline: LoopTimer?

    /// Flow control: the connection whose input is being processed and the pause its deliveries asked
    /// for (the pause itself is the transport's, `TCPConnection.pauseReading`).
    var currentReader: TCPConnection?
    var requestedStall: UInt64 = 0
    /// The receiver the requested pause waits for (same loop), or whether it waits for receivers on
    /// other loops to drain.
    var stalledOn: TCPConnection?
    var crossLoopStall = false
    /// A subscription this read handed messages to whose receiver (on another loop) is backed up.
    var backedUpTarget: Subscription?
    /// The subscription whose handed-over message is being delivered (its receiver may back up).
    /// Unowned: the batch being delivered holds it; a plain store per target, no reference counting.
    unowned(unsafe) var handoffSubscription: Subscription?
    /// Receivers on this loop that backed up with another loop's messages, the loop that produced them,
    /// and the timer that watches them drain (LoopWorker+Handoff.swift).
    var backedUpForOthers: [(receiver: TCPConnection, subscription: Subscription)] = []
    var backedUpTimer: LoopTimer?
    /// The loop time (uv_now, milliseconds) of the read being processed, read once per read: deliveries
    /// stamp their receivers' activity with it, so no message costs a clock read.
    var inputTime: UInt64 = 0

    /// Routes picked while one message is being forwarded, each as one subscription of its interest, the
    /// queue groups each won (by index into `forwardTargets`), and the queue names of one RMSG being
    /// written. Plain values (unretained references, slices), so filling them costs no reference counting.
    var forwardTargets = ScratchBuffer<Unmanaged<Subscription>>(capacity: 16)
    var forwardQueues = ScratchBuffer<(target: Int, queue: ByteSlice)>(capacity: 16)
    var forwardQueueNames = ScratchBuffer<ByteSlice>(capacity: 16)
    /// `cluster.permissions` as this loop applies them to its routes' interest, and its check of messages to
    /// peers against their export rules (Cluster+RoutePermissions.swift); replaced by a reload.
    var routePermissions: RoutePermissionRules?
    var routeExportFilter: RouteExportFilter?
    /// The queue names of a route target in a batch being delivered.
    var queueScratch = ContiguousArray<ByteSlice>()
    /// Requests and responses that service imports carry into another account, run once the message that
    /// triggered them is delivered (LoopWorker+Imports.swift); `pendingServiceCalls` is their count, the
    /// one figure the publish path reads.
    var serviceCalls: [PendingServiceCall] = []
    var pendingServiceCalls = 0
    /// The service imports the call being performed went through (`PendingServiceCall.chain`).
    var serviceChain: [ObjectIdentifier] = []
    /// When the main loop next drops service response mappings nobody answered (loop milliseconds).
    var nextResponseSweep: UInt64 = 0
    /// The subject a stream import's message is delivered under, written per delivery.
    var importedSubject = ScratchBuffer<UInt8>(capacity: 256)
    /// The registered route connections this loop serves, by peer and pool slot (LoopWorker+Routes.swift).
    package var hostedRoutes = ContiguousArray<HostedRoute>()

    // Cross-loop delivery (LoopWorker+Handoff.swift).
    /// Every worker by index (this one included), set when the server starts its loops.
    var peers: [LoopWorker] = []
    /// Mail from other loops; nil with a single loop.
    var inbox: LoopInbox<LoopMail>!
    /// Batches given back by the loops that delivered them, and the flow-control state they share.
    let returns = HandoffReturns()
    /// The batch being filled for each loop (nil when none this turn; retained by hand, so the per-message
    /// lookup costs no reference counting), and which ones are open.
    var outboxes: [Unmanaged<HandoffBatch>?] = []
    var openOutboxes: [Int] = []
    var freeBatches: [HandoffBatch] = []
    /// Counts publishes (and routed messages), so a message goes into a loop's batch once.
    var publishSerial: UInt64 = 0
    /// Whether the read being processed handed anything over.
    var handedOffDuringRead = false
    /// The loop whose batch is being delivered (its readers are paused when a receiver backs up), or -1.
    var handoffSource = -1

    // Copies of server settings read per message, so the hot path does not chase `server`.
    let stallThreshold: Int
    var isTracing: Bool
    /// This loop's copy of the options in force, its authenticator, its clients' TLS context and parser
    /// limits: replaced together by a configuration reload, posted from the main loop
    /// (`Server+Reload.swift`), so a loop never reads what another thread writes.
    var options: ServerOptions
    var authenticator: Authenticator
    /// This loop's registry of accounts: the server's at start, then each one a reload posts
    /// (`adoptAccounts`).
    package var accounts: AccountRegistry
    var clientTLS: TLSContext?
    var clientParserLimits: ParserLimits
    /// `LoopWorker.handoffBytesLimit(maxPending:)` for this server's max_pending.
    let handoffBytesLimit: Int

    init(server: Server, index: Int, loop: EventLoop, loopCount: Int) {
        self.server = server
        self.index = index
        self.loop = loop
        self.loopCount = loopCount
        self.matcher = server.accounts.global.matcher(onLoop: index)
        self.stallThreshold = server.stallThreshold
        self.isTracing = server.isTracing
        self.options = server.options
        self.authenticator = server.authenticator
        self.accounts = server.accounts
        self.clientTLS = server.clientTLS
        self.clientParserLimits = ParserLimits(clientOptions: server.options)
        self.routePermissions = server.cluster.routePermissions
        self.routeExportFilter = server.cluster.routePermissions?.makeExportFilter()
        self.handoffBytesLimit = LoopWorker.handoffBytesLimit(maxPending: server.options.maxPending)
        queueScratch.reserveCapacity(16)
    }

    deinit {
        forwardTargets.deallocate()
        forwardQueues.deallocate()
        forwardQueueNames.deallocate()
        importedSubject.deallocate()
    }

    /// Traps in debug builds when called off this worker's loop thread.
    @inline(__always)
    func assertOnLoop() {
        assert(loop.isOnLoopThread, "LoopWorker \(index) used off its loop thread")
    }
}

extension LoopWorker {
    /// Stops this loop's timers and closes its clients, each after writing what is queued for it; the
    /// loop then ends once the last of them is closed (a loop after the first at the latest after the
    /// shutdown grace; the main loop's own deadline is the server's).
    func shutdown() {
        assertOnLoop()
        guard !isShuttingDown else { return }
        isShuttingDown = true
        housekeepingTimer?.close()
        housekeepingTimer = nil
        for client in Array(clients.values) { client.close(reason: .serverShutdown, flush: true) }
        for hosted in Array(hostedRoutes) { hosted.route.takeUnretainedValue().close(reason: .serverShutdown, flush: true) }
        postHandoffs()
        inbox?.close()
        releaseAllBackedUpReceivers()
        if index != 0 {
            let deadline = LoopTimer(loop: loop) { [unowned self] in self.loop.stop() }
            deadline.keepsLoopAlive = false
            deadline.start(afterMilliseconds: Server.shutdownGraceMilliseconds)
            shutdownDeadline = deadline
        }
    }
}
