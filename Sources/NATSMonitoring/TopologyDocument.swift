import NATSJSON

/// One server as `/topologyz` describes it: this server, a peer whose monitoring answered, or a peer known
/// only from this server's routes.
struct TopologyMember {
    /// Where the member's numbers come from.
    enum Source: String {
        /// The serving server itself.
        case this = "self"
        /// The peer's own /varz and /routez, fetched from its monitoring port.
        case monitor
        /// Nothing but this server's routes to it (its monitoring port is unknown or did not answer).
        case routes
    }

    var serverID: String
    var serverName: String
    var source: Source
    /// `host:port` of the peer's monitoring listener, when known.
    var monitor: String?
    /// Why the peer's own documents are missing, for the page to show.
    var problem: String?
    var varz: JSON?
    var routez: JSON?
}

/// The `/topologyz` document (natsd's own, beyond nats-server): every server of the cluster as seen from
/// the serving one, each with a subset of its /varz and /routez under the same field names, so the
/// topology page can draw every node and every route connection and derive message rates from two
/// successive documents (counter differences over the `now` of each document).
enum TopologyDocument {
    /// /varz fields kept per server.
    static let varzFields = ["now", "version", "uptime", "connections", "in_msgs", "out_msgs", "in_bytes", "out_bytes"]
    /// /routez fields kept per route connection (`pool_idx` only where the server shows it).
    static let routeFields = ["rid", "remote_id", "remote_name", "did_solicit", "is_configured", "ip", "port", "pool_idx",
                              "pending_size", "in_msgs", "out_msgs", "in_bytes", "out_bytes", "subscriptions"]

    static func render(serverID: String, serverName: String, now: String, members: [TopologyMember]) -> JSON {
        .object([
            ("server_id", .string(serverID)), ("server_name", .string(serverName)), ("now", .string(now)),
            ("servers", .array(members.map(node))),
        ])
    }

    static func node(_ member: TopologyMember) -> JSON {
        var fields: [(String, JSON)] = [
            ("server_id", .string(member.serverID)), ("server_name", .string(member.serverName)),
            ("source", .string(member.source.rawValue)),
        ]
        if let monitor = member.monitor { fields.append(("monitor", .string(monitor))) }
        if let problem = member.problem { fields.append(("problem", .string(problem))) }
        if let varz = member.varz { fields.append(("varz", picking(varzFields, from: varz))) }
        if let routez = member.routez {
            let routes = (routez["routes"]?.arrayValue ?? []).map { picking(routeFields, from: $0) }
            fields.append(("routez", .object([("now", routez["now"] ?? .null), ("routes", .array(routes))])))
        }
        return .object(fields)
    }

    /// Checks a peer's fetched documents before they are shown: both must be JSON objects naming the peer
    /// we asked for (a monitoring port reached at the route's address could belong to another server).
    /// - Returns: nil when they are fine, else the problem to show.
    static func problem(expecting serverID: String, varz: JSON?, routez: JSON?) -> String? {
        for (name, document) in [("/varz", varz), ("/routez", routez)] {
            guard let document, case .object = document else { return "\(name) is not a JSON object" }
            guard let id = document["server_id"]?.stringValue else { return "\(name) has no server_id" }
            if id != serverID { return "\(name) answered for server \(id.prefix(64))" }
        }
        return nil
    }

    private static func picking(_ names: [String], from document: JSON) -> JSON {
        .object(names.compactMap { name in document[name].map { (name, $0) } })
    }
}
