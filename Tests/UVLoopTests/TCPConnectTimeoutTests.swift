import CLibUV
import Foundation
import Testing
@testable import UVLoop

@Suite("TCP connect time limit")
struct TCPConnectTimeoutTests {
    /// A loopback socket that listens with backlog 0 and never accepts: once its queue is full the
    /// kernel drops further SYNs, so a dial to it hangs until its time limit.
    private func makeStuckListener() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(bound == 0)
        try #require(listen(fd, 0) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test func dialThatHangsTimesOut() throws {
        let loop = try EventLoop()
        let stuck = try makeStuckListener()
        defer { Foundation.close(stuck.fd) }
        var results: [Result<TCPConnection, UVError>] = []
        for _ in 0..<4 {
            TCPConnection.connect(loop: loop, host: "127.0.0.1", port: stuck.port, timeoutMilliseconds: 300) {
                results.append($0)
            }
        }
        #expect(runLoop(loop) { results.count == 4 })
        let timedOut = results.filter {
            if case .failure(let error) = $0 { return error == .timedOut }
            return false
        }
        #expect(timedOut.count >= 1)
        for case .success(let connection) in results { connection.close() }
        #expect(loop.shutdown() == 0)
    }

    @Test func shutdownCancelsDialInProgress() throws {
        let loop = try EventLoop()
        let stuck = try makeStuckListener()
        defer { Foundation.close(stuck.fd) }
        var results: [Result<TCPConnection, UVError>] = []
        for _ in 0..<4 {
            TCPConnection.connect(loop: loop, host: "127.0.0.1", port: stuck.port, timeoutMilliseconds: 0) {
                results.append($0)
            }
        }
        runLoop(loop, timeoutMilliseconds: 100) { false }
        #expect(loop.shutdown() == 0)
        #expect(results.count == 4, "every dial reports, a cancelled one with ECANCELED")
        #expect(results.contains {
            if case .failure(let error) = $0 { return error == .cancelled }
            return false
        })
    }

    /// A cancelled dial reports ECANCELED at once and leaves nothing that keeps the loop running.
    @Test func cancelEndsDialAtOnce() throws {
        let loop = try EventLoop()
        let stuck = try makeStuckListener()
        defer { Foundation.close(stuck.fd) }
        var results: [Result<TCPConnection, UVError>] = []
        var attempts: [ConnectAttempt] = []
        for _ in 0..<4 {
            attempts.append(TCPConnection.connect(loop: loop, host: "127.0.0.1", port: stuck.port, timeoutMilliseconds: 60_000) {
                results.append($0)
            })
        }
        runLoop(loop, timeoutMilliseconds: 100) { false }
        for attempt in attempts { attempt.cancel() }
        for attempt in attempts { attempt.cancel() }  // a second cancel does nothing
        #expect(results.count == 4, "every dial reports exactly once")
        let start = loop.now
        loop.run()  // returns once the cancelled sockets are closed
        #expect(loop.now - start < 1_000)
        #expect(results.count == 4)
        for case .success(let connection) in results { connection.close() }
        #expect(results.contains {
            if case .failure(let error) = $0 { return error == .cancelled }
            return false
        })
        #expect(loop.shutdown() == 0)
    }
}
