import Foundation

/// One node's `/routez` at one moment, reduced to what `bench mesh` needs.
///
/// nats-server lists every pooled connection (and the pinned `$SYS` one) as its own entry with the
/// same `remote_id`, so "routed to a peer" means "some entry has its `remote_id`", and connections
/// are counted separately.
struct RoutezSnapshot: Sendable, Equatable {
    /// One route connection: enough to notice that it was closed and replaced.
    struct Route: Sendable, Hashable {
        /// `rid`: the connection id, unique per server process.
        let rid: Int
        /// `remote_id`: the peer's server id.
        let remoteID: String
        /// `start`: when the connection was created (RFC 3339 text, compared verbatim).
        let start: String
    }

    let serverID: String
    /// `num_routes`, or the number of entries when the field is missing.
    let numRoutes: Int
    let routes: [Route]

    /// Peers this node has at least one route to.
    var remoteIDs: Set<String> { Set(routes.map(\.remoteID)) }

    /// The most route connections this node has to any single peer (0 without routes).
    var maxConnectionsPerPeer: Int {
        Dictionary(grouping: routes, by: \.remoteID).values.map(\.count).max() ?? 0
    }

    /// Parses a `/routez` body; nil when it is not a routez JSON object.
    static func parse(_ body: [UInt8]) -> RoutezSnapshot? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              object["server_id"] is String || object["num_routes"] is NSNumber else { return nil }
        // nats-server writes `"routes": null` when it has none.
        let entries: [[String: Any]]
        switch object["routes"] {
        case nil, is NSNull: entries = []
        case let list as [[String: Any]]: entries = list
        default: return nil
        }
        var routes: [Route] = []
        for entry in entries {
            // Older nats-server versions may lack remote_id; fall back to remote_name.
            guard let remote = (entry["remote_id"] as? String) ?? (entry["remote_name"] as? String),
                  let rid = (entry["rid"] as? NSNumber)?.intValue else { return nil }
            routes.append(Route(rid: rid, remoteID: remote, start: entry["start"] as? String ?? ""))
        }
        let numRoutes = (object["num_routes"] as? NSNumber)?.intValue ?? routes.count
        return RoutezSnapshot(serverID: object["server_id"] as? String ?? "", numRoutes: numRoutes, routes: routes)
    }

    /// GETs and parses `/routez` on `monitorPort`; nil while the node is not answering yet.
    static func fetch(monitorPort: Int) -> RoutezSnapshot? {
        guard let body = try? httpGet(port: monitorPort, path: "/routez") else { return nil }
        return parse(body)
    }
}
