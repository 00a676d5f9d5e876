import CLibUV
@testable import UVLoop

/// Runs `loop` until `condition` holds or `timeoutMilliseconds` passed; returns whether it held.
/// A repeating watchdog timer keeps the loop from blocking forever.
@discardableResult
func runLoop(_ loop: EventLoop, timeoutMilliseconds: UInt64 = 10_000, until condition: () -> Bool) -> Bool {
    let deadline = loop.now + timeoutMilliseconds
    let watchdog = LoopTimer(loop: loop) {}
    watchdog.start(afterMilliseconds: 5, repeatMilliseconds: 5)
    defer { watchdog.close() }
    while !condition() {
        if loop.now >= deadline { return false }
        loop.runOnce()
    }
    return true
}

/// Records everything a connection tells its delegate; echoes when `echo` is set.
final class RecordingDelegate: TCPConnectionDelegate {
    var received: [UInt8] = []
    var readCalls = 0
    var closeCalls = 0
    var closeError: UVError?
    var echo = false

    func connectionDidRead(_ connection: TCPConnection, bytes: UnsafeRawBufferPointer) -> ReadDisposition {
        readCalls += 1
        received.append(contentsOf: bytes)
        if echo { connection.write(bytes) }
        return ReadDisposition(consumed: bytes.count, needed: 0)
    }

    func connectionDidClose(_ connection: TCPConnection, error: UVError?) {
        closeCalls += 1
        closeError = error
    }
}

/// A listener on 127.0.0.1 with a free port whose accepted connections get a fresh delegate
/// from `makeDelegate` and start reading at once.
final class TestServer<Delegate: TCPConnectionDelegate> {
    var listener: TCPListener!
    var connections: [TCPConnection] = []
    var delegates: [Delegate] = []

    init(loop: EventLoop, host: String = "127.0.0.1", makeDelegate: @escaping () -> Delegate) throws {
        listener = try TCPListener(loop: loop, host: host, port: 0) { [unowned self] connection in
            let delegate = makeDelegate()
            self.delegates.append(delegate)
            self.connections.append(connection)
            connection.delegate = delegate
            connection.startReading()
        }
    }

    var port: Int { listener.port }
}

/// Dials `port` on `host` and runs the loop until the dial finished.
func dial(_ loop: EventLoop, host: String = "127.0.0.1", port: Int, timeoutMilliseconds: UInt64 = 5_000)
    -> Result<TCPConnection, UVError>? {
    var result: Result<TCPConnection, UVError>?
    TCPConnection.connect(loop: loop, host: host, port: port, timeoutMilliseconds: timeoutMilliseconds) {
        result = $0
    }
    runLoop(loop) { result != nil }
    return result
}

/// A deterministic byte pattern, so reordering or loss shows up.
func pattern(_ count: Int, seed: Int = 7) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        var index = 0
        while index < count {
            buffer[index] = UInt8(truncatingIfNeeded: (index &* 31) &+ (index >> 8) &+ seed)
            index += 1
        }
        initialized = count
    }
}
