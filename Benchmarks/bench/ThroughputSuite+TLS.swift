import Foundation

/// The `tls` group (issue 9): client TLS on one node, route TLS in the 3-node chain and the connection
/// set-up rate, each natsd vs nats-server on the same certificates (made for this run with `openssl`).
extension ThroughputSuite {
    /// Threads opening connections at once in the set-up rows.
    static let setUpConnectors = 4
    /// Seconds each set-up run opens connections for.
    static let setUpSeconds = 3.0

    func runTLS() {
        let files: (ca: String, cert: String, key: String)
        do {
            files = try BenchTLSSession.makeCertificates(in: logDirectory)
        } catch {
            FileHandle.standardError.write(Data("bench: no TLS rows: \(error)\n".utf8))
            return
        }
        let setUps = "\(Self.setUpConnectors) connectors, connect → CONNECT+PING/PONG → close, \(format1(Self.setUpSeconds)) s"
        // Both clients over TLS to one node started with --tls.
        run([
            throughput("1 node: pub → sub, 1 KiB, TLS", size: 1024, routed: false, subscribed: true,
                       tlsCAFile: files.ca, megabytes: true),
            throughput("1 node: pub → sub, 16 KiB, TLS", size: 16 * 1024, routed: false, subscribed: true,
                       tlsCAFile: files.ca, megabytes: true),
            connectionSetUps("1 node: TLS handshakes, \(setUps)", tlsCAFile: files.ca),
        ], topology: "single node with TLS") {
            try Deployment.single($0, logDirectory: self.logDirectory,
                                  tuning: NodeTuning(arguments: ["--tls", "--tlscert", files.cert, "--tlskey", files.key]))
        }
        // The same set-ups without TLS: what the TCP accept and the protocol cost on their own.
        run([connectionSetUps("1 node: plaintext connections (reference), \(setUps)", tlsCAFile: nil)],
            topology: "single node") { try Deployment.single($0, logDirectory: self.logDirectory) }

        // Every route of the chain over TLS, each side verifying the other's certificate (nats-server
        // always verifies route peers); the clients stay plaintext, so the rows price the routes' TLS.
        let routeTLS: String
        do {
            routeTLS = try writeConfig("route-tls.conf", """
                cluster {
                  tls { cert_file: "\(files.cert)", key_file: "\(files.key)", ca_file: "\(files.ca)" }
                }

                """)
        } catch {
            FileHandle.standardError.write(Data("bench: no route TLS rows: \(error)\n".utf8))
            return
        }
        run([1024, 16 * 1024].map { size in
            throughput("3-node chain, TLS routes, plaintext clients: pub s1 → sub s3, \(size / 1024) KiB", size: size,
                       routed: true, subscribed: true, megabytes: true)
        }, topology: "3-node cluster with route TLS") {
            try Deployment.chainedCluster($0, logDirectory: self.logDirectory, tuning: NodeTuning(arguments: ["-c", routeTLS]))
        }
    }

    /// Connection set-ups per second on node s1 (see `ConnectionSetupRun`), and the server's CPU time per
    /// set-up (user + system, from /proc: the load generator shares the machine and may be what limits the rate).
    private func connectionSetUps(_ title: String, tlsCAFile: String?) -> Scenario {
        Scenario(rows: [("\(title) (set-ups/s)", .higherIsBetter, .decimal),
                        ("\(title), server CPU per set-up (µs)", .lowerIsBetter, .decimal)]) { deployment in
            let run = ConnectionSetupRun(port: deployment.port(0), connectors: Self.setUpConnectors,
                                         durationSeconds: Self.setUpSeconds, tlsCAFile: tlsCAFile)
            let pid = deployment.servers[0].pid
            let before = ProcessCPU.read(pid: pid)
            let (setUps, seconds) = try run.run()
            guard let before, let after = ProcessCPU.read(pid: pid),
                  let cpu = ProcessCPU.seconds(from: [before], to: [after]), setUps > 0 else {
                throw BenchError("no CPU reading of \(deployment.servers[0].name) or no set-up completed")
            }
            return [Double(setUps) / seconds, cpu * 1e6 / Double(setUps)]
        }
    }
}
