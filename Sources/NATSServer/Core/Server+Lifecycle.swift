import NATSConfig
import Foundation
import Logging
import NATSProtocol
import UVLoop

extension Server {
    /// Binds the listeners and installs signal handlers; logs nats-server's startup lines.
    public func start() throws {
        logger.info("Starting nats-server")
        logger.info("  Version:  \(Server.version)")
        logger.info("  Name:     \(serverName)")
        logger.info("  ID:       \(serverID)")
        let bindPort = options.clientListenPort
        let listener: TCPListener
        do {
            listener = try listen(host: options.host, port: bindPort) { [unowned self] connection in
                self.accept(connection)
            }
        } catch {
            throw StartupError("Error listening on port: \(hostPort(options.host, bindPort)), \"\(error)\"")
        }
        clientListener = listener
        boundClientPort = listener.port
        logger.info("Listening for client connections on \(hostPort(options.host, listener.port))")
        if clientTLS != nil { logger.info("TLS required for client connections") }
        if authenticator.isRequired { logger.info("Client authorization required") }
        try cluster.start()
        if let monitoringPort = options.monitoringListenPort, let monitoringFactory {
            let monitor = monitoringFactory(self)
            try monitor.start(host: options.monitoringHost, port: monitoringPort)
            self.monitor = monitor
        }
        refreshClientInfo()
        mainWorker.startHousekeeping()
        startLoopThreads()
        if trapsSignals { installSignalHandlers() }
        try writePidFile()
        writePortsFile()
        logger.info("Server is ready")
    }

    /// Runs the main event loop until shutdown, waits for the other loops' threads, then closes what is
    /// left (the signal watchers among it).
    public func run() {
        loop.run()
        control.close()
        if trapsSignals { Server.blockTrappedSignals() }
        joinLoopThreads()
        loop.shutdown()
    }

    /// Stops accepting, flushes and closes every connection, then stops the loop.
    public func shutdown() {
        guard !isShuttingDown else { return }
        isShuttingDown = true
        logger.info("Initiating Shutdown...")
        clientListener?.close()
        clientListener = nil
        stopLameDuckTimer()
        cluster.shutdown()
        monitor?.stop()
        for worker in workers.dropFirst() { worker.post { worker.shutdown() } }
        mainWorker.shutdown()
        // The signal watchers stay (they do not keep the loop alive): see Server+Signals.swift.
        if !options.pidFile.isEmpty { try? FileManager.default.removeItem(atPath: options.pidFile) }
        removePortsFile()
        logger.info("Server Exiting..")
        // The loop ends by itself once the last handle is closed, i.e. as soon as every close-after-flush
        // write is done (an idle server exits at once). The grace timer does not keep the loop alive: it
        // only bounds the wait for a peer that stopped reading.
        let deadline = LoopTimer(loop: loop) { [unowned self] in self.loop.stop() }
        deadline.keepsLoopAlive = false
        deadline.start(afterMilliseconds: Server.shutdownGraceMilliseconds)
        shutdownDeadline = deadline
    }

    /// How long shutdown waits at most for connections to take their last output (milliseconds).
    static let shutdownGraceMilliseconds: UInt64 = 2000

    /// Writes the process id to `-P FILE`.
    /// - Throws: `StartupError` worded as nats-server's fatal `Could not write pidfile: open FILE: reason`:
    ///   a supervisor that relies on the file must not find a server running without it.
    private func writePidFile() throws {
        guard !options.pidFile.isEmpty else { return }
        if let failure = Server.writePid(to: options.pidFile) { throw StartupError("Could not write pidfile: \(failure)") }
    }

    /// A reload named another pid file: the process id is written there (the old file is left, as
    /// nats-server leaves it); a failure is logged with nats-server's `Failed to write pidfile: …` and the
    /// server runs on.
    func rewritePidFile() {
        guard !options.pidFile.isEmpty, let failure = Server.writePid(to: options.pidFile) else { return }
        logger.error("Failed to write pidfile: \(failure)")
    }

    /// Writes this process's id to `path`; nil, or what failed as Go words it (`open FILE: reason`).
    private static func writePid(to path: String) -> String? {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o660)
        guard descriptor >= 0 else { return "open \(path): \(Server.errnoText())" }
        defer { close(descriptor) }
        let bytes = Array("\(getpid())".utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        return written == bytes.count ? nil : "write \(path): \(Server.errnoText())"
    }

    /// `strerror(code)` (errno by default) with a lower-case first letter, as Go words system errors.
    static func errnoText(_ code: Int32 = errno) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }

    package func hostPort(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
