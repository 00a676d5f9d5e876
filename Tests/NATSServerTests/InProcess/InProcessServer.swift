import Foundation
import Logging
import NATSConfig
import Synchronization
import Testing
@testable import NATSServer

/// A real `Server` inside the test process: built and started on the test's thread, its main loop run by
/// `Server.run()` on a thread of its own (the other loops on theirs, as in natsd), on a free port of
/// 127.0.0.1. Tests reach it over TCP (`RawClient`) and through its `ServerControl`.
///
/// `@unchecked Sendable`: `server` is touched by the test thread only before `run()` starts and after
/// `stopped` was signalled (the server thread's last act); in between only `control` (Sendable) is used.
final class InProcessServer: @unchecked Sendable {
    let port: Int
    let loopCount: Int
    private let server: Server
    private let stopped = DispatchSemaphore(value: 0)

    /// Starts a server with natsd's defaults except: 127.0.0.1, a free port, one loop, no signal watchers;
    /// `configure` changes more.
    init(loops: Int = 1, _ configure: (inout ServerOptions) -> Void = { _ in }) throws {
        var options = ServerOptions()
        options.host = "127.0.0.1"
        options.port = -1
        options.loops = loops
        configure(&options)
        let server = try Server(options: options, logger: Logger(label: "natsd-test") { _ in SwiftLogNoOpLogHandler() })
        server.trapsSignals = false
        try server.start()
        self.server = server
        port = server.clientPort
        loopCount = server.workers.count
        let thread = Thread { [self] in
            self.server.run()
            self.stopped.signal()
        }
        thread.name = "natsd-test-server"
        thread.start()
    }

    /// Connects a raw client and reads its INFO.
    func connect() throws -> (client: RawClient, info: [String: Any]) {
        let client = try RawClient(port: port)
        return (client, try client.readInfo())
    }

    /// Connects a client, reads INFO, sends `CONNECT` and waits for the PONG of a PING after it.
    /// Returns the client and its id (INFO `client_id`).
    func connectClient(_ connect: String = #"{"verbose":false}"#) throws -> (client: RawClient, id: UInt64) {
        let (client, info) = try self.connect()
        try client.send("CONNECT \(connect)\r\n")
        try client.flush()
        let id = try #require((info["client_id"] as? NSNumber)?.uint64Value, "INFO without client_id")
        return (client, id)
    }

    /// Runs `body` with the server on its main loop and returns the result, or nil when the loop did not
    /// answer within `timeout` (it ended, or is stuck: either way the caller's expectation fails).
    func onMainLoop<T: Sendable>(timeout: Duration = .seconds(20), _ body: @escaping @Sendable (Server) -> T) -> T? {
        let answer = Mutex<T?>(nil)
        let answered = DispatchSemaphore(value: 0)
        let posted = server.control.onMainLoop { server in
            let value = body(server)
            answer.withLock { $0 = value }
            answered.signal()
        }
        guard posted, answered.wait(timeout: .now() + timeout.timeInterval) == .success else { return nil }
        return answer.withLock { $0 }
    }

    /// The loop (worker index) serving each open client, by client id.
    func loopsOfClients() -> [UInt64: Int] {
        let perLoop = onMainLoop { server in server.onEveryLoop { worker in (worker.index, Array(worker.clients.keys)) } }
        var loops: [UInt64: Int] = [:]
        for (index, ids) in perLoop ?? [] {
            for id in ids { loops[id] = index }
        }
        return loops
    }

    /// Shuts the server down through its control and checks it stopped completely: `run()` returned
    /// within `timeout`, every loop thread ended, and every loop closed all its handles (uv_loop_close
    /// succeeded).
    func stop(timeout: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation) {
        server.control.shutdown()
        guard stopped.wait(timeout: .now() + timeout.timeInterval) == .success else {
            Issue.record("Server.run() did not return within \(timeout)", sourceLocation: sourceLocation)
            return
        }
        #expect(server.loopsLeftRunning.isEmpty, "loop threads still running", sourceLocation: sourceLocation)
        for worker in server.workers {
            #expect(worker.loop.isShutDown, "loop \(worker.index) left handles open", sourceLocation: sourceLocation)
        }
        #expect(!server.control.onMainLoop { _ in }, "control accepted work after the loop ended", sourceLocation: sourceLocation)
    }
}

/// Starts a server, runs `body` with it, then stops it and checks the stop (`InProcessServer.stop`), also
/// when `body` throws.
func withServer(loops: Int = 1, _ configure: (inout ServerOptions) -> Void = { _ in },
                sourceLocation: SourceLocation = #_sourceLocation,
                _ body: (InProcessServer) throws -> Void) throws {
    let server = try InProcessServer(loops: loops, configure)
    defer { server.stop(sourceLocation: sourceLocation) }
    try body(server)
}

extension Duration {
    /// Seconds as Dispatch wants them.
    var timeInterval: DispatchTimeInterval {
        .milliseconds(Int(self / .milliseconds(1)))
    }
}
