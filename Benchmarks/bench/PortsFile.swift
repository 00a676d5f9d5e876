import Foundation

/// The ports a server bound, read from the file `--ports_file_dir DIR` makes it write: natsd and
/// nats-server both write `DIR/<executable>_<pid>.ports`, JSON such as
/// `{"nats":["nats://127.0.0.1:41234"],"monitoring":["http://127.0.0.1:40001"],"cluster":["nats://127.0.0.1:39001"]}`
/// (a key only for an enabled listener). Servers started on port -1 are found this way.
struct PortsFile: Equatable {
    let client: Int
    let cluster: Int?
    let monitoring: Int?

    /// The ports file of process `pid` in `directory`, or nil while it is absent or incomplete
    /// (nats-server does not write it atomically). Matched on `_<pid>.ports` so the executable's
    /// name does not matter.
    static func read(directory: String, pid: pid_t) -> PortsFile? {
        let suffix = "_\(pid).ports"
        guard let name = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.first(where: { $0.hasSuffix(suffix) }),
              let data = FileManager.default.contents(atPath: directory + "/" + name)
        else {
            return nil
        }
        return parse(data)
    }

    /// Parses a ports file's JSON; nil without a client URL.
    static func parse(_ data: Data) -> PortsFile? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let client = firstPort(object["nats"])
        else {
            return nil
        }
        return PortsFile(client: client, cluster: firstPort(object["cluster"]), monitoring: firstPort(object["monitoring"]))
    }

    /// The port of the first URL in a JSON list that has one.
    private static func firstPort(_ value: Any?) -> Int? {
        (value as? [String])?.lazy.compactMap { URLComponents(string: $0)?.port }.first
    }
}
