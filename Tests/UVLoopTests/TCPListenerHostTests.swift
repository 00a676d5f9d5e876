import CLibUV
import Testing
@testable import UVLoop

/// Listen hosts given as names are resolved as Go's net.Listen (nats-server) resolves them.
@Suite("TCP listener on a host name")
struct TCPListenerHostTests {
    @Test func numericAndEmptyHostsAreKeptAsTheyAre() throws {
        let loop = try EventLoop()
        for host in ["", "0.0.0.0", "127.0.0.1", "::", "::1"] {
            #expect(try TCPListener.listenAddress(for: host, loop: loop) == host)
        }
        #expect(loop.shutdown() == 0)
    }

    @Test func localhostListensOnItsIPv4Address() throws {
        // Go takes the first IPv4 address of a name, so `-a localhost` never listens on ::1 alone.
        let loop = try EventLoop()
        #expect(try TCPListener.listenAddress(for: "localhost", loop: loop) == "127.0.0.1")
        let server = try TestServer(loop: loop, host: "localhost") { RecordingDelegate() }
        let client = try #require(try dial(loop, host: "127.0.0.1", port: server.port)?.get())
        client.write(Array("PING\r\n".utf8))
        #expect(runLoop(loop) { server.delegates.first?.received == Array("PING\r\n".utf8) })
        client.close()
        server.listener.close()
        #expect(loop.shutdown() == 0)
    }

    @Test func unresolvableNameIsALookupFailure() throws {
        // `.invalid` never resolves (RFC 2606); no handle is left behind by the failed listener.
        let loop = try EventLoop()
        do {
            _ = try TCPListener(loop: loop, host: "nosuchhost.invalid", port: 0) { _ in }
            Issue.record("listened on an unresolvable name")
        } catch {
            #expect(error.isAddressLookupFailure)
            #expect(error.isNoSuchHost)
        }
        #expect(loop.shutdown() == 0)
    }

    @Test func lookupFailureCodesAreRecognised() {
        #expect(UVError(code: UV_EAI_NONAME.rawValue).isAddressLookupFailure)
        #expect(UVError(code: UV_EAI_AGAIN.rawValue).isAddressLookupFailure)
        #expect(!UVError(code: UV_EAI_AGAIN.rawValue).isNoSuchHost)
        #expect(!UVError.connectionRefused.isAddressLookupFailure)
        #expect(!UVError(code: UV_EADDRINUSE.rawValue).isAddressLookupFailure)
    }
}
