import NATSAuth
import NATSConfig
import NATSJSON
import Foundation
import Logging
import NATSProtocol
import NATSSublist
import Synchronization
import UVLoop

/// The natsd server: the state every loop shares (options, identity, the subscription index) and the
/// main loop's own (listeners, cluster, monitoring, signals). Per-loop state is in `LoopWorker`.
///
/// Confined to the main loop's thread except where a member says otherwise; nothing is `Sendable`.
public final class Server {
    public static let version = CommandLineParser.version
    /// INFO's and /varz's `go` field: nats-server puts its Go toolchain there; natsd names the Swift
    /// compiler it was built with instead of claiming a Go one (clients only display the field). Read at
    /// compile time; a compiler newer than the last branch reports that branch's version as a floor.
    package static let goVersion: String = {
        #if compiler(>=7.0)
        return "swift7.0"
        #elseif compiler(>=6.4)
        return "swift6.4"
        #elseif compiler(>=6.3.1)
        return "swift6.3.1"
        #elseif compiler(>=6.3)
        return "swift6.3"
        #elseif compiler(>=6.2)
        return "swift6.2"
        #elseif compiler(>=6.1)
        return "swift6.1"
        #else
        return "swift6.0"
        #endif
    }()

    /// The client connections that closed last, for /connz `state=closed` (`max_closed_clients`).
    package let closedClients: ClosedClientRing

    /// The options in force: the start-up ones, replaced by each configuration reload. Main loop only:
    /// the other loops read their worker's copy (`LoopWorker.options`), which a reload posts to them.
    package internal(set) var options: ServerOptions
    package let logger: Logger
    package let loop: EventLoop
    package let serverID: String
    package let serverName: String
    /// Main loop's; each loop checks credentials with its worker's copy (`LoopWorker.authenticator`).
    package internal(set) var authenticator: Authenticator
    /// Every account (`$G` and the `accounts` block's), each with its subscriptions and interest. Main
    /// loop's: a reload replaces it, and every loop reads its worker's copy (`LoopWorker.accounts`).
    package internal(set) var accounts: AccountRegistry
    /// The internal subscriptions of service imports and of exporters' responses, by the `ServiceImport` or
    /// `ServiceResponses` they serve (which they retain). Main loop only (Server+AccountReload.swift).
    var serviceSubscriptions: [ObjectIdentifier: Subscription] = [:]
    /// The global account's subscription index (clients outside every `accounts` entry).
    package var sublist: Sublist<Subscription> { accounts.global.interest.sublist }
    package let startDate = Date()
    /// When the configuration in force was loaded: the start, then each successful reload (/varz
    /// `config_load_time`). Main loop only.
    package internal(set) var configLoadDate = Date()
    package let startLoopTime: UInt64
    /// The monitoring listener, built by `monitoringFactory` when `-m` is set.
    package var monitor: (any MonitoringEndpoint)?
    /// Builds the monitoring listener (NATSMonitoring, checked code) for this server; natsd's main sets it.
    public var monitoringFactory: ((Server) -> any MonitoringEndpoint)?
    /// Reopens the `-l` log file at its path (SIGUSR1, log rotation); natsd's main sets it to NATSLogging's.
    public var reopenLogFile: (() throws -> Void)?
    /// Reads the options again for a configuration reload (SIGHUP); natsd's main sets it (Server+Reload.swift).
    public var reloadOptionsReader: OptionsReader?
    /// Points logging at reloaded options (debug, trace, log file…); natsd's main sets it to NATSLogging's.
    public var reconfigureLogging: ((ServerOptions) -> Void)?

    /// The per-loop state of each event loop; `workers[0]` runs the main loop (`loop`).
    package private(set) var workers: [LoopWorker] = []
    /// The main loop's worker: listeners, routes, monitoring, signals and cluster housekeeping live there.
    package var mainWorker: LoopWorker { workers[0] }
    private var nextConnectionID: UInt64 = 0
    /// The worker the next accepted client goes to (round robin).
    var nextAcceptWorker = 0
    /// Open clients on every loop, for max_connections (each loop adds and subtracts its own).
    let openClients = Atomic<Int>(0)
    /// The client INFO's shared fields, kept by the main loop (`refreshClientInfo`), read by every loop.
    let clientInfoTemplate = LockedValue(ServerInfo())
    /// The worker threads (loops 1...), joined at the end of `run()`.
    var loopThreads: [LoopThread] = []
    var clientListener: TCPListener?
    /// Routes and gossip; always present so interest is counted even before the first route.
    package private(set) var cluster: Cluster!
    var signalWatchers: [SignalWatcher] = []
    /// Whether `start()` installs the signal watchers (natsd: yes). An in-process test turns it off: the
    /// process's signals belong to the test runner, and several servers may share it.
    package var trapsSignals = true
    /// Shutdown requests and main-loop tasks from other threads (tests); see `ServerControl`.
    package private(set) var control: ServerControl!
    /// The loops (by index) whose threads had not ended when `run()` gave up waiting for them; empty
    /// after a clean stop.
    package internal(set) var loopsLeftRunning: [Int] = []
    var isShuttingDown = false
    /// Set when lame duck mode begins (Server+LameDuck.swift).
    var lameDuck: LameDuckMode?
    /// Whether a peer's client URLs have been listed since start (`clientConnectURLs`); until then INFO
    /// and /varz have no `connect_urls`.
    var hasListedPeerClientURLs = false
    var shutdownDeadline: LoopTimer?
    let stallThreshold: Int
    /// `-V`: trace every protocol op (checked before building any trace text). Main loop's; each loop
    /// reads its worker's copy.
    var isTracing: Bool


    /// The checks of the security settings that need NATSAuth (an nkey that is not a user's public key),
    /// made before the server starts and by `-t`.
    public static func checkSecurity(_ options: ServerOptions) throws(ConfigError) {
        try Authenticator.check(options)
        if let tls = options.tls { _ = try ClientTLS.makeContext(tls) }
        if let tls = options.cluster.tls { _ = try ClientTLS.makeRouteContexts(tls) }
    }

    /// The TLS context clients are served with (`tls`); nil: plaintext clients. Main loop's; each loop
    /// serves new clients with its worker's copy.
    var clientTLS: TLSContext?
    /// The TLS contexts of routes (`cluster { tls }`); nil: plaintext routes. Routes start on the main loop.
    var routeTLS: ClientTLS.RouteContexts?
    /// The contents of the files `clientTLS` and `routeTLS` were built from (`ClientTLS.fileContents`).
    var clientTLSFiles: [[UInt8]] = []
    var routeTLSFiles: [[UInt8]] = []

    /// When the client and the route certificates expire (Unix seconds), for /varz; nil without TLS.
    package var clientCertificateNotAfter: Int64? { clientTLS?.certificateNotAfter }
    package var routeCertificateNotAfter: Int64? { routeTLS?.accepting.certificateNotAfter }

    public init(options: ServerOptions, logger: Logger) throws {
        try Server.checkSecurity(options)
        self.options = options
        self.logger = logger
        self.loop = try EventLoop()
        self.serverID = ServerIdentity.newServerID()
        self.serverName = options.serverName.isEmpty ? serverID : options.serverName
        self.authenticator = Authenticator(options: options)
        self.clientTLS = try options.tls.map { tls throws(ConfigError) in try ClientTLS.makeContext(tls) }
        self.routeTLS = try options.cluster.tls.map { tls throws(ConfigError) in try ClientTLS.makeRouteContexts(tls) }
        self.clientTLSFiles = ClientTLS.fileContents(options.tls)
        self.routeTLSFiles = ClientTLS.fileContents(options.cluster.tls)
        let loopCount = options.effectiveLoops(onlineCores: ProcessInfo.processInfo.activeProcessorCount)
        self.accounts = AccountRegistry(options: options, loopCount: loopCount)
        self.closedClients = ClosedClientRing(capacity: options.maxClosedClients)
        self.startLoopTime = loop.now
        self.stallThreshold = min(options.maxPending / 4 * 3, Server.stallCeiling)
        self.isTracing = options.trace
        self.cluster = Cluster(server: self)
        var workers = [LoopWorker(server: self, index: 0, loop: loop, loopCount: loopCount)]
        for index in 1..<loopCount {
            workers.append(LoopWorker(server: self, index: index, loop: try EventLoop(), loopCount: loopCount))
        }
        self.workers = workers
        if loopCount > 1 { try connectLoops() }
        syncServiceSubscriptions()
        control = try ServerControl(server: self)
    }

    /// The port the client listener bound (set by `start()`, kept after shutdown closed the listener).
    var boundClientPort: Int?

    /// The port clients connect to (the bound one when the configured port was 0 or -1).
    public var clientPort: Int { boundClientPort ?? options.port }

    func nextID() -> UInt64 {
        nextConnectionID += 1
        return nextConnectionID
    }
}
