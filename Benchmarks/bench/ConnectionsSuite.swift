import Glibc

/// `bench conns`: server memory idle and with N subscribed client connections.
final class ConnectionsSuite {
    private let options: BenchOptions
    private let contenders: [Contender]
    private let logDirectory: String
    private(set) var rows: [ReportRow] = []

    /// Connections opened before waiting for their PONGs; bounded so the listen backlog never overflows.
    static let batchSize = 256

    init(options: BenchOptions, contenders: [Contender], logDirectory: String) {
        self.options = options
        self.contenders = contenders
        self.logDirectory = logDirectory
    }

    func runAll() {
        let count = options.connectionCount
        rows = [
            ReportRow("RSS idle (MiB)", .lowerIsBetter, .decimal, contenders: contenders.count),
            ReportRow("RSS with \(count) connections, 1 SUB each (MiB)", .lowerIsBetter, .decimal, contenders: contenders.count),
            ReportRow("per connection (KiB)", .lowerIsBetter, .decimal, contenders: contenders.count),
        ]
        for runNumber in 0..<options.runs {
            var order = Array(contenders.indices)
            if runNumber % 2 == 1 { order.reverse() }
            for index in order {
                switch contenders[index].binary {
                case .failure(let error):
                    fail(index, "\(contenders[index].label) unavailable: \(error.message)")
                case .success(let path):
                    do {
                        let (idle, loaded) = try measure(ServerBinary(label: contenders[index].label, path: path), count: count)
                        log("conns · \(contenders[index].label) · run \(runNumber + 1): idle \(idle) KiB, loaded \(loaded) KiB")
                        rows[0].cells[index].record(Double(idle) / 1024)
                        rows[1].cells[index].record(Double(loaded) / 1024)
                        rows[2].cells[index].record(Double(loaded - idle) / Double(count))
                    } catch {
                        log("conns · \(contenders[index].label): failed: \(error)")
                        fail(index, "\(error)")
                    }
                }
            }
        }
    }

    private func fail(_ contender: Int, _ reason: String) {
        for row in rows.indices { rows[row].cells[contender].fail(reason) }
    }

    /// Returns VmRSS in KiB before and after opening `count` connections.
    private func measure(_ binary: ServerBinary, count: Int) throws -> (idle: Int, loaded: Int) {
        let deployment = try Deployment.single(binary, logDirectory: logDirectory)
        defer { deployment.stop() }
        let server = deployment.servers[0]
        usleep(500_000)
        guard let idle = server.residentKiB() else { throw BenchError("cannot read VmRSS of \(server.name)") }

        let limit = deadline(after: options.timeoutSeconds + Double(count) / 500)
        var sockets: [ClientSocket] = []
        sockets.reserveCapacity(count)
        defer { sockets.removeAll() }
        var scanners: [InboundScanner] = []
        while sockets.count < count {
            let batch = min(Self.batchSize, count - sockets.count)
            let firstInBatch = sockets.count
            for offset in 0..<batch {
                let socket = try ClientSocket(port: server.clientPort, timeoutSeconds: 10, readBufferSize: 4096)
                try socket.write(
                    "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB bench.conn.\(firstInBatch + offset) 1\r\nPING\r\n"
                )
                sockets.append(socket)
            }
            scanners = Array(repeating: InboundScanner(), count: batch)
            for offset in 0..<batch {
                try sockets[firstInBatch + offset].read(into: &scanners[offset], until: limit, what: "PONG") { $0.pongs > 0 }
            }
            if let exit = server.exitStatus() { throw BenchError("\(server.name) \(exit): \(server.logTail())") }
        }
        // Let the server settle (buffers grow and shrink lazily) before sampling.
        usleep(1_000_000)
        guard let loaded = server.residentKiB() else { throw BenchError("cannot read VmRSS of \(server.name)") }
        return (idle, loaded)
    }
}
