/// `cluster { permissions { import, export } }`: which interest and messages cross a route (nats-server's
/// `RoutePermissions`, opts.go `parseCluster` and `setClusterPermissions`).
///
/// The values take the shapes of user permissions (a subject, a list, or `{allow, deny}`), read by the same
/// parser: `import` is read as `publish`, `export` as `subscribe`, as nats-server does. Subjects are kept as
/// written; NATSAuth compiles them (`RoutePermissionRules`).
/// - `import`: the subjects this server accepts messages on from peers, so the local interest it announces
///   (RS+/RS-) is limited to them;
/// - `export`: the subjects this server sends messages on to peers, so a peer's RS+ outside them is ignored.
public struct RoutePermissions: Sendable, Equatable {
    /// nil: every subject is imported.
    public var `import`: SubjectPermission?
    /// nil: every subject is exported.
    public var export: SubjectPermission?

    public init(import: SubjectPermission? = nil, export: SubjectPermission? = nil) {
        self.import = `import`
        self.export = export
    }
}

extension ConfigReader {
    /// A cluster `permissions` map. Beyond the user rules: no `allow_responses` ("Cluster permissions do not
    /// support dynamic responses") and no queue-qualified entries (`"foo workers"`), with nats-server's
    /// messages (opts.go `checkClusterPermissionSubjects`).
    mutating func routePermissions(_ entry: ConfigEntry) throws(ConfigError) -> RoutePermissions {
        let permissions = try permissions(entry)
        if permissions.responses != nil {
            throw ConfigError("Cluster permissions do not support dynamic responses", at: entry.position)
        }
        try Self.checkRouteSubjects(permissions.publish, direction: "import", at: entry.position)
        try Self.checkRouteSubjects(permissions.subscribe, direction: "export", at: entry.position)
        return RoutePermissions(import: permissions.publish, export: permissions.subscribe)
    }

    private static func checkRouteSubjects(
        _ permission: SubjectPermission?, direction: String, at position: ConfigPosition
    ) throws(ConfigError) {
        guard let permission else { return }
        for (list, subjects) in [("allow", permission.allow ?? []), ("deny", permission.deny)] {
            for subject in subjects {
                if let problem = PermissionSubject.problem(subject, allowQueue: false) {
                    throw ConfigError("cluster \(direction) \(list): \(problem)", at: position)
                }
            }
        }
    }
}
