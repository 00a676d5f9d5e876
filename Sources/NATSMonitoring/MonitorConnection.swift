import UVLoop

/// One HTTP connection to the monitor: reads a request within the request deadline, writes the answer
/// within the response deadline, and closes. Whichever way it ends (answered, bad request, deadline,
/// peer gone, shutdown), `connectionDidClose` closes the deadline timer and drops the connection from
/// the monitor, so both are freed.
///
/// Every answer ends gracefully (`TCPConnection.closeGracefully`): request bytes may still be unread (the
/// rest of an oversized header after a 431, a body or a second request after the first), and closing over
/// them would reset the connection, which can cost the client the answer. Go's net/http ends its error
/// answers the same way (`closeWriteAndWait`: CloseWrite, then a 500 ms wait).
final class MonitorConnection: TCPConnectionDelegate {
    unowned let monitor: MonitorServer
    let connection: TCPConnection
    private let reader = HTTPRequestReader()
    private var answered = false
    private var isClosed = false
    private var deadline: LoopTimer?

    init(monitor: MonitorServer, connection: TCPConnection) {
        self.monitor = monitor
        self.connection = connection
    }

    func start() {
        connection.delegate = self
        let deadline = LoopTimer(loop: connection.loop) { [weak self] in self?.deadlinePassed() }
        deadline.start(afterMilliseconds: monitor.requestDeadlineMilliseconds)
        self.deadline = deadline
        connection.startReading()
    }

    /// Closes without an answer, as Go's net/http does when a request does not arrive in time.
    private func deadlinePassed() {
        connection.close()
    }

    func connectionDidRead(_ connection: TCPConnection, bytes: UnsafeRawBufferPointer) -> ReadDisposition {
        guard !answered else { return ReadDisposition(consumed: bytes.count, needed: 0) }
        switch reader.feed(bytes) {
        case .incomplete:
            break
        case .complete(let method, let target) where MonitorServer.isTopologyRequest(target):
            // Waits for the peers (bounded by TopologyAggregation's deadline) under the response deadline.
            answered = true  // bytes still arriving are dropped, as after any answer
            deadline?.start(afterMilliseconds: monitor.responseDeadlineMilliseconds)
            monitor.answerTopology(for: self) { [weak self] response in self?.answer(response, includeBody: method != "HEAD") }
        case .complete(let method, let target):
            answer(monitor.respond(to: target), includeBody: method != "HEAD")
        case .invalid(.malformed):
            answer(.badRequest)
        case .invalid(.headerTooLarge):
            answer(.headerTooLarge)
        case .invalid(.unsupportedVersion):
            answer(.unsupportedVersion)
        }
        return ReadDisposition(consumed: bytes.count, needed: 0)
    }

    private func answer(_ response: MonitorResponse, includeBody: Bool = true) {
        guard !isClosed else { return }
        answered = true
        deadline?.start(afterMilliseconds: monitor.responseDeadlineMilliseconds)
        connection.write(response.encoded(includeBody: includeBody))
        connection.closeGracefully(lingerMilliseconds: MonitorServer.lingerMilliseconds)
    }

    func connectionDidClose(_ connection: TCPConnection, error: UVError?) {
        isClosed = true
        monitor.withdrawTopologyRequest(self)
        deadline?.close()
        deadline = nil
        connection.delegate = nil
        monitor.finished(self)
    }
}
