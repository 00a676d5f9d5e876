import CLibUV
import Logging
import NATSConfig
import NATSServer
import Testing
import UVLoop
@testable import NATSMonitoring

/// The monitor on a real loop and loopback sockets: answers, the request deadline, and that every
/// connection is closed and freed whichever way it ends.
@Suite struct MonitorServerTests {
    /// A server whose monitor listens on a free loopback port with a short request deadline.
    final class Harness {
        let server: Server
        let monitor: MonitorServer
        /// Open libuv handles once the monitor listens (loop internals and the listener).
        private(set) var baselineHandles = 0
        var loop: EventLoop { server.loop }

        /// - Parameter loops: 1 keeps answers that ask every loop (/varz, /routez) from waiting for loop
        ///   threads, which an unstarted server does not run.
        init(requestDeadlineMilliseconds: UInt64 = 5_000, loops: Int = 0) throws {
            var options = ServerOptions()
            options.loops = loops
            server = try Server(options: options, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
            monitor = MonitorServer(server: server, requestDeadlineMilliseconds: requestDeadlineMilliseconds)
            try monitor.start(host: "127.0.0.1", port: 0)
            baselineHandles = openHandles
        }

        /// libuv handles on the loop that are not closing: every connection and deadline timer counts.
        var openHandles: Int {
            var count = 0
            withUnsafeMutablePointer(to: &count) { counter in
                uv_walk(loop.rawLoop, { handle, counter in
                    guard let handle, uv_is_closing(handle) == 0 else { return }
                    counter!.assumingMemoryBound(to: Int.self).pointee += 1
                }, counter)
            }
            return count
        }

        /// Runs the loop until the monitor holds no connection and the loop no handle beyond the baseline
        /// (client-side peers closed too); returns whether that happened within a second.
        func allFreed() -> Bool {
            // `run`'s own watchdog timer is open while the condition is checked.
            run(timeoutMilliseconds: 1_000) { monitor.openConnectionCount == 0 && openHandles == baselineHandles + 1 }
        }

        /// Runs the loop until `condition` holds or `timeoutMilliseconds` passed; returns whether it held.
        @discardableResult
        func run(timeoutMilliseconds: UInt64 = 5_000, until condition: () -> Bool) -> Bool {
            let deadline = loop.now + timeoutMilliseconds
            let watchdog = LoopTimer(loop: loop) {}
            watchdog.start(afterMilliseconds: 5, repeatMilliseconds: 5)
            defer { watchdog.close() }
            while !condition() {
                if loop.now >= deadline { return false }
                _ = loop.runOnce()
            }
            return true
        }

        /// Dials the monitor and sends `request` (if any); the peer records what comes back.
        func dial(sending request: String? = nil) throws -> Peer {
            var result: Result<TCPConnection, UVError>?
            TCPConnection.connect(loop: loop, host: "127.0.0.1", port: monitor.port, timeoutMilliseconds: 2_000) { result = $0 }
            run { result != nil }
            let connection = try #require(try result?.get())
            let peer = Peer()
            connection.delegate = peer
            connection.startReading()
            if let request { connection.write(Array(request.utf8)) }
            return peer
        }

        func finish() {
            monitor.stop()
            run(timeoutMilliseconds: 1_000) { monitor.openConnectionCount == 0 }
            #expect(monitor.openConnectionCount == 0)
            #expect(loop.shutdown() == 0)
        }
    }

    /// The client side of one monitoring connection.
    final class Peer: TCPConnectionDelegate {
        var received: [UInt8] = []
        var closedAt: UInt64?
        var response: String { String(decoding: received, as: UTF8.self) }

        func connectionDidRead(_ connection: TCPConnection, bytes: UnsafeRawBufferPointer) -> ReadDisposition {
            received.append(contentsOf: bytes)
            return ReadDisposition(consumed: bytes.count, needed: 0)
        }

        func connectionDidClose(_ connection: TCPConnection, error: UVError?) {
            closedAt = connection.loop.now
        }
    }

    @Test func defaultRequestDeadlineIsNatsServers() {
        #expect(MonitorServer.defaultRequestDeadlineMilliseconds == 5_000)
    }

    /// Issue 6: these targets crashed natsd. Each is answered, and its connection closed and freed.
    @Test(arguments: ["/connz?=", "/varz?=", "/routez?a=1&=&b", "/connz?%zz", "/connz?&&&", "/subsz?=", "/healthz?="])
    func oddQueriesAreAnsweredAndFreed(target: String) throws {
        let harness = try Harness()
        let peer = try harness.dial(sending: "GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(harness.run { peer.closedAt != nil })
        #expect(peer.response.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(harness.allFreed())
        harness.finish()
    }

    @Test func badRequestsAreAnsweredAndFreed() throws {
        let harness = try Harness()
        let cases = [
            ("GARBAGE\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"),
            ("GET /conn%zz HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"),
            ("GET /connz?sort=nope HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"),
            ("GET /varz HTTP/2.0\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported\r\n"),
            // Past the head limit (1 MiB + 4 KiB, as nats-server's).
            ("GET /varz HTTP/1.1\r\nX: " + String(repeating: "x", count: HTTPMessageParser.maxHeadBytes) + "\r\n\r\n",
             "HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            ("GET /nothing HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n"),
        ]
        for (request, status) in cases {
            let peer = try harness.dial(sending: request)
            #expect(harness.run { peer.closedAt != nil })
            #expect(peer.response.hasPrefix(status), "\(request.prefix(40))")
        }
        #expect(harness.allFreed())
        harness.finish()
    }

    /// Sockets that send nothing or half a request are closed without an answer at the deadline, not
    /// before, and the monitor drops every one of them.
    @Test func unfinishedRequestsAreClosedAtTheDeadline() throws {
        let harness = try Harness(requestDeadlineMilliseconds: 300)
        let opened = harness.loop.now
        var peers: [Peer] = []
        for index in 0..<40 {
            peers.append(try harness.dial(sending: index % 2 == 0 ? nil : "GET /varz HTTP/1.1\r\nHost: x\r\n"))
        }
        #expect(harness.run(timeoutMilliseconds: 200) { harness.monitor.openConnectionCount == 40 })
        #expect(harness.run(timeoutMilliseconds: 3_000) { peers.allSatisfy { $0.closedAt != nil } })
        #expect(peers.allSatisfy { $0.received.isEmpty })
        #expect(peers.compactMap(\.closedAt).min().map { $0 - opened >= 250 } == true)
        #expect(harness.allFreed())
        harness.finish()
    }

    @Test func stopClosesOpenConnections() throws {
        let harness = try Harness()
        let peers = try (0..<5).map { _ in try harness.dial() }
        #expect(harness.run(timeoutMilliseconds: 1_000) { harness.monitor.openConnectionCount == 5 })
        harness.monitor.stop()
        #expect(harness.run(timeoutMilliseconds: 1_000) { peers.allSatisfy { $0.closedAt != nil } })
        harness.finish()
    }

    @Test func requestCountsOnlyKnownEndpoints() throws {
        let harness = try Harness()
        for target in ["/varz", "/connz?=", "/subscriptionsz", "/nope", "/nope2", "/conn%zz", "/connz?sort=x"] {
            _ = harness.monitor.respond(to: target)
        }
        #expect(harness.monitor.requestCounts == ["/varz": 1, "/connz": 2, "/subsz": 1])
        harness.finish()
    }

    @Test func connzErrorsAreTextWithNatsServerWording() throws {
        let harness = try Harness()
        #expect(harness.monitor.respond(to: "/connz?sort=bogus") == .text("400 Bad Request", "invalid sorting option: bogus"))
        #expect(harness.monitor.respond(to: "/subsz?subs=detail").status == "400 Bad Request")
        #expect(harness.monitor.respond(to: "/connz?sort=idle&offset=2&limit=3").status == "200 OK")
        harness.finish()
    }

    @Test func headResponseHasNoBody() {
        let response = MonitorResponse.json("{}")
        let head = String(decoding: response.encoded(includeBody: false), as: UTF8.self)
        #expect(head.hasSuffix("Content-Length: 2\r\nConnection: close\r\n\r\n"))
        #expect(String(decoding: response.encoded(), as: UTF8.self) == head + "{}")
    }
}
