import NATSConfig
import NATSJSON
import Foundation

extension Server {
    /// `--ports_file_dir`: writes `<executable>_<pid>.ports`, a JSON list of the bound URLs, so tools
    /// that start natsd on random ports (`-p -1`) can find them.
    func writePortsFile() {
        guard !options.portsFileDir.isEmpty else { return }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "natsd").lastPathComponent
        let path = URL(fileURLWithPath: options.portsFileDir).appendingPathComponent("\(executable)_\(getpid()).ports").path
        var fields: [(String, JSON)] = [("nats", .array([.string("nats://\(hostPort(options.host, clientPort))")]))]
        if let monitor { fields.append(("monitoring", .array([.string("http://\(hostPort(options.monitoringHost, monitor.port))")]))) }
        if options.cluster.isEnabled {
            let host = options.cluster.host.isEmpty ? "0.0.0.0" : options.cluster.host
            fields.append(("cluster", .array([.string("nats://\(hostPort(host, cluster.port))")])))
        }
        do {
            try JSON.object(fields).rendered().write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            logger.error("Error writing ports file (\(path)): \(error)")
        }
    }
}
