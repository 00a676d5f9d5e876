import Foundation
import Testing
@testable import UVLoop

/// The unspecified addresses listen dual-stack, as Go's net.Listen (nats-server) does.
@Suite("TCP listener on the unspecified address")
struct TCPListenerDualStackTests {
    /// True when the loopback interface has ::1 (Linux lists IPv6 addresses in /proc/net/if_inet6).
    static var hasIPv6Loopback: Bool {
        guard let text = try? String(contentsOfFile: "/proc/net/if_inet6", encoding: .utf8) else { return false }
        return text.split(separator: "\n").contains { $0.hasPrefix("00000000000000000000000000000001") }
    }

    @Test func bindOrderForUnspecifiedHosts() {
        #expect(TCPListener.bindHosts(for: "0.0.0.0") == ["::", "0.0.0.0"])
        #expect(TCPListener.bindHosts(for: "") == ["::", "0.0.0.0"])
        #expect(TCPListener.bindHosts(for: "::") == ["::", "0.0.0.0"])
        #expect(TCPListener.bindHosts(for: "127.0.0.1") == ["127.0.0.1"])
        #expect(TCPListener.bindHosts(for: "::1") == ["::1"])
    }

    @Test(.enabled(if: TCPListenerDualStackTests.hasIPv6Loopback, "::1 is not configured on this machine"),
          arguments: ["0.0.0.0", "::"])
    func acceptsIPv4AndIPv6Peers(host: String) throws {
        let loop = try EventLoop()
        let server = try TestServer(loop: loop, host: host) { RecordingDelegate() }
        let overIPv4 = try #require(try dial(loop, host: "127.0.0.1", port: server.port)?.get())
        let overIPv6 = try #require(try dial(loop, host: "::1", port: server.port)?.get())
        #expect(runLoop(loop) { server.connections.count == 2 })
        // An IPv4 peer of the dual-stack socket is named as IPv4, not ::ffff:127.0.0.1.
        let peers = Set(server.connections.map(\.remoteHost))
        #expect(peers == ["127.0.0.1", "::1"])
        for connection in [overIPv4, overIPv6] + server.connections { connection.close() }
        server.listener.close()
        #expect(loop.shutdown() == 0)
    }

    @Test func specificIPv4HostStaysIPv4Only() throws {
        let loop = try EventLoop()
        let server = try TestServer(loop: loop, host: "127.0.0.1") { RecordingDelegate() }
        let overIPv6 = dial(loop, host: "::1", port: server.port, timeoutMilliseconds: 2_000)
        if case .success(let connection) = overIPv6 { connection.close() }
        #expect(overIPv6.map { if case .failure = $0 { true } else { false } } == true)
        server.listener.close()
        #expect(loop.shutdown() == 0)
    }
}
