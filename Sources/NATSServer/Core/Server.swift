import NATSAuth
import NATSConfig
import Foundation
import Logging
import NATSProtocol
import NATSSublist
import UVLoop

/// The natsd server: one libuv loop owning the client listener, every connection and the subject index.
///
/// Everything here is confined to the loop thread; nothing is `Sendable`.
public final class Server {
    public static let version = CommandLineParser.version
    /// The Go runtime field of INFO; nats clients only display it.
    package static let goVersion = "go1.24.0"

    package let options: ServerOptions
    package let logger: Logger
    package let loop: EventLoop
    package let serverID: String
    package let serverName: String
    package let authenticator: Authenticator
    package let sublist = Sublist<Subscription>()
    package var statistics = ServerStatistics()
    var random = FastRandom()
    package let startDate = Date()
    package let startLoopTime: UInt64
    /// The monitoring listener, built by `monitoringFactory` when `-m` is set.
    package var monitor: (any MonitoringEndpoint)?
    /// Builds the monitoring listener (NATSMonitoring, checked code) for this server; natsd's main sets it.
    public var monitoringFactory: ((Server) -> any MonitoringEndpoint)?
    /// Reopens the `-l` log file at its path (SIGUSR1, log rotation); natsd's main sets it to NATSLogging's.
    public var reopenLogFile: (() throws -> Void)?

    package var clients: [UInt64: ClientConnection] = [:]
    private var nextConnectionID: UInt64 = 0
    var clientListener: TCPListener?
    /// Routes and gossip; always present so interest is counted even before the first route.
    package private(set) var cluster: Cluster!
    var housekeepingTimer: LoopTimer?
    var signalWatchers: [SignalWatcher] = []
    var isShuttingDown = false
    var shutdownDeadline: LoopTimer?
    /// Flow control: connections paused until a loop time, the timer that resumes them, the connection
    /// whose input is being processed and the pause its deliveries asked for.
    var stalledReaders: [(connection: TCPConnection, until: UInt64)] = []
    var stallTimer: LoopTimer?
    var currentReader: TCPConnection?
    /// The loop time (uv_now, milliseconds) of the read being processed, read once per read: deliveries
    /// stamp their receivers' activity with it, so no message costs a clock read.
    var inputTime: UInt64 = 0
    /// Connections writing a last -ERR before closing, and when they are closed regardless.
    var flushingBeforeClose: [(connection: TCPConnection, deadline: UInt64)] = []
    var requestedStall: UInt64 = 0
    let stallThreshold: Int
    /// `-V`: trace every protocol op (checked before building any trace text).
    let isTracing: Bool

    /// Limits handed to the parser for client connections.
    let clientParserLimits: ParserLimits

    public init(options: ServerOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        self.loop = try EventLoop()
        self.serverID = ServerIdentity.newServerID()
        self.serverName = options.serverName.isEmpty ? serverID : options.serverName
        self.authenticator = Authenticator(options: options)
        self.clientParserLimits = ParserLimits(maxControlLine: options.maxControlLine, maxPayload: options.maxPayload)
        self.startLoopTime = loop.now
        self.stallThreshold = min(options.maxPending / 4 * 3, Server.stallCeiling)
        self.isTracing = options.trace
        self.cluster = Cluster(server: self)
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
