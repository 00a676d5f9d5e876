import UVLoop

/// The way into a running server from another thread: ask it to shut down, or run a closure on its main
/// loop (the in-process tests use both; natsd's own shutdown comes through signals instead).
///
/// `Sendable`: it holds only the main loop's inbox, whose `post` is thread-safe; the closures it carries
/// run on the main loop's thread, where they may touch anything `Server` owns.
package final class ServerControl: Sendable {
    /// One closure to run on the main loop with the server.
    struct Request: Sendable {
        let run: @Sendable (Server) -> Void
    }

    private let inbox: LoopInbox<Request>

    /// Created by `Server.init` on the main loop. The open inbox does not keep the loop alive.
    init(server: Server) throws(UVError) {
        inbox = try LoopInbox(loop: server.loop, keepsLoopAlive: false) { [unowned server] requests in
            for request in requests { request.run(server) }
        }
    }

    /// Runs `body` with the server on its main loop's thread, after what was posted before. Callable from
    /// any thread. Returns false, and never runs `body`, once the main loop has ended (`Server.run()`
    /// is returning or returned).
    @discardableResult
    package func onMainLoop(_ body: @escaping @Sendable (Server) -> Void) -> Bool {
        inbox.post(Request(run: body))
    }

    /// Starts the server's shutdown, as SIGTERM does (`Server.shutdown()`); `Server.run()` returns once
    /// every connection is closed. Callable from any thread; returns false when the loop had already ended.
    @discardableResult
    package func shutdown() -> Bool {
        onMainLoop { server in server.shutdown() }
    }

    /// Runs what is still posted and refuses later posts (on the main loop, once it ended).
    func close() {
        inbox.close()
    }
}
