import NATSConfig
import NATSJSON
import Foundation

extension Server {
    /// `--ports_file_dir`: writes `<executable>_<pid>.ports`, a JSON list of the bound URLs, so tools
    /// that start natsd on random ports (`-p -1`) can find them.
    func writePortsFile() {
        guard let path = portsFilePath else { return }
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

    /// Deletes the ports file at shutdown, as nats-server does, so the directory lists running servers only;
    /// and from the old directory when a reload moves it (`directory`).
    func removePortsFile(in directory: String? = nil) {
        guard let path = Server.portsFilePath(in: directory ?? options.portsFileDir) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            logger.error("Error cleaning up ports file \(path): \(error)")
        }
    }

    /// `<ports_file_dir>/<executable>_<pid>.ports`, nil without `--ports_file_dir`.
    private var portsFilePath: String? { Server.portsFilePath(in: options.portsFileDir) }

    private static func portsFilePath(in directory: String) -> String? {
        guard !directory.isEmpty else { return nil }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "natsd").lastPathComponent
        return URL(fileURLWithPath: directory).appendingPathComponent("\(executable)_\(getpid()).ports").path
    }
}
