import Foundation
import Glibc
import Synchronization

/// Every server the benchmark started and has not reaped yet, so that Ctrl-C, errors and normal
/// exit all kill them.
final class ChildRegistry: Sendable {
    private let pids = Mutex<Set<pid_t>>([])

    func add(_ pid: pid_t) { pids.withLock { _ = $0.insert(pid) } }
    func remove(_ pid: pid_t) { pids.withLock { _ = $0.remove(pid) } }

    /// SIGKILLs and reaps every child still registered.
    func killAll() {
        let all = pids.withLock { current -> Set<pid_t> in
            defer { current.removeAll() }
            return current
        }
        for pid in all {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }
}

/// The process-wide registry (the signal handler reaches it from a dispatch queue).
let childRegistry = ChildRegistry()

/// On SIGINT, SIGTERM or SIGHUP: kill every registered server, remove `directory` (the logs)
/// and exit with status 130.
/// Defined outside main.swift so the handler is not main-actor isolated: it runs on a dispatch
/// queue while the main thread is busy measuring. Keep the returned sources alive.
func installCleanupOnSignals(removing directory: String?) -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM, SIGHUP].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { @Sendable in
            childRegistry.killAll()
            if let directory { try? FileManager.default.removeItem(atPath: directory) }
            log("interrupted; servers stopped")
            exit(130)
        }
        source.resume()
        return source
    }
}

/// One running server binary (natsd or nats-server) with its ports and log file.
///
/// A server started with `portsFileDirectory` (its command line has `--ports_file_dir` to it)
/// may bind port -1: `waitUntilReady` reads the bound ports from its ports file.
/// Spawned with `posix_spawn` from the main thread only: when `setpriv --pdeathsig` is available
/// the child is killed if the benchmark dies, and Linux ties that signal to the spawning *thread*.
final class ServerProcess {
    let name: String
    let pid: pid_t
    /// Client port; 0 until `waitUntilReady` read the ports file of a server started on -1.
    private(set) var clientPort: Int
    private(set) var monitorPort: Int?
    private(set) var clusterPort: Int?
    let logPath: String
    /// Where the server writes its ports file; nil when the ports were all given.
    let portsFileDirectory: String?
    private var reaped = false
    private var exitDescription: String?

    private init(name: String, pid: pid_t, clientPort: Int, monitorPort: Int?, logPath: String, portsFileDirectory: String?) {
        self.name = name
        self.pid = pid
        self.clientPort = clientPort
        self.monitorPort = monitorPort
        self.logPath = logPath
        self.portsFileDirectory = portsFileDirectory
    }

    deinit { stop() }

    /// `setpriv` (util-linux) sets PR_SET_PDEATHSIG and then execs the server, keeping its pid.
    private static let setpriv: String? = {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") ? "/usr/bin/setpriv" : nil
    }()

    /// Starts `binary arguments…` with stdout and stderr going to `logPath`. With
    /// `portsFileDirectory`, `--ports_file_dir` is appended and the ports are read back by
    /// `waitUntilReady` (`clientPort` and `monitorPort` may then be 0 and nil). The server inherits
    /// the bench's environment with `environment` set on top (`GOMAXPROCS` for nats-server).
    static func launch(
        name: String, binary: String, arguments: [String], environment: [String: String] = [:],
        clientPort: Int = 0, monitorPort: Int? = nil, portsFileDirectory: String? = nil, logPath: String
    ) throws -> ServerProcess {
        var argv = [binary] + arguments
        if let portsFileDirectory { argv += ["--ports_file_dir", portsFileDirectory] }
        var path = binary
        if let setpriv {
            argv = [setpriv, "--pdeathsig", "KILL", "--"] + argv
            path = setpriv
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        let cEnvironment: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cEnvironment.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, nil, cArguments, cEnvironment)
        guard status == 0 else {
            throw BenchError("cannot start \(binary): \(String(cString: strerror(status)))")
        }
        childRegistry.add(pid)
        return ServerProcess(
            name: name, pid: pid, clientPort: clientPort, monitorPort: monitorPort, logPath: logPath,
            portsFileDirectory: portsFileDirectory
        )
    }

    /// Nil while running; otherwise how the process ended.
    func exitStatus() -> String? {
        if reaped { return exitDescription }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        markReaped(status)
        return exitDescription
    }

    private func markReaped(_ status: Int32) {
        reaped = true
        childRegistry.remove(pid)
        let signal = status & 0x7F
        exitDescription = signal == 0 ? "exited with status \((status >> 8) & 0xFF)" : "killed by signal \(signal)"
    }

    /// Waits until the server has written its ports file (when it has a `portsFileDirectory`;
    /// the ports are taken from it) and its client port answers with INFO, or throws with the
    /// log's tail.
    func waitUntilReady(timeoutSeconds: Double = 10) throws {
        let limit = deadline(after: timeoutSeconds)
        var lastError = "no answer"
        var portsKnown = portsFileDirectory == nil
        while monotonicNanos() < limit {
            if let exit = exitStatus() {
                throw BenchError("\(name) \(exit): \(logTail())")
            }
            if !portsKnown, let portsFileDirectory {
                guard let ports = PortsFile.read(directory: portsFileDirectory, pid: pid) else {
                    lastError = "no ports file in \(portsFileDirectory)"
                    usleep(20_000)
                    continue
                }
                clientPort = ports.client
                monitorPort = ports.monitoring
                clusterPort = ports.cluster
                portsKnown = true
            }
            do {
                let socket = try ClientSocket(port: clientPort, timeoutSeconds: 1)
                var scanner = InboundScanner()
                try socket.read(into: &scanner, until: deadline(after: 2), what: "INFO") { $0.infos > 0 }
                return
            } catch {
                lastError = "\(error)"
                usleep(20_000)
            }
        }
        throw BenchError("\(name) not ready after \(Int(timeoutSeconds)) s (\(lastError)): \(logTail())")
    }

    /// SIGTERM, up to two seconds' grace, then SIGKILL. Idempotent.
    func stop() {
        guard exitStatus() == nil else { return }
        kill(pid, SIGTERM)
        let limit = deadline(after: 2)
        while monotonicNanos() < limit {
            if exitStatus() != nil { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        markReaped(status)
    }

    /// Resident set size from /proc/PID/status, in KiB.
    func residentKiB() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// The last non-empty line of the server's log, for error messages.
    func logTail() -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        let last = text.split(separator: "\n").last.map(String.init) ?? "(empty log)"
        return last.count > 160 ? String(last.prefix(160)) + "…" : last
    }
}
