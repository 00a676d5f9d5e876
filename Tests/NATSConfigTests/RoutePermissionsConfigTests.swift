import Testing
@testable import NATSConfig

/// Issue 8, point 3: `cluster { permissions { import, export } }`, read with the user permission shapes and
/// nats-server's cluster rules and messages (opts.go `parseCluster`, `checkClusterPermissionSubjects`).
@Suite struct RoutePermissionsConfigTests {
    func apply(_ text: String) throws(ConfigError) -> ServerOptions {
        var options = ServerOptions()
        _ = try options.apply(config: ConfigFileParser.parse(text, file: "t.conf", environment: [:]))
        return options
    }

    @Test func noPermissionsByDefault() throws {
        #expect(try apply("cluster { port: 6222 }").cluster.permissions == nil)
    }

    @Test func everyShapeOfImportAndExport() throws {
        #expect(try apply("cluster { permissions { import: \"a.>\", export: [\"b\", \"c.*\"] } }").cluster.permissions
            == RoutePermissions(import: SubjectPermission(allow: ["a.>"]), export: SubjectPermission(allow: ["b", "c.*"])))
        #expect(try apply("cluster { permissions { import: {allow: \">\", deny: \"x\"}, export: {deny: [\"y\", \"z.>\"]} } }")
            .cluster.permissions
            == RoutePermissions(import: SubjectPermission(allow: [">"], deny: ["x"]), export: SubjectPermission(deny: ["y", "z.>"])))
        // Only one direction; an empty map is no restriction.
        #expect(try apply("cluster { permissions { export: \"b\", import: {} } }").cluster.permissions
            == RoutePermissions(export: SubjectPermission(allow: ["b"])))
        // nats-server's parser takes the user words too (publish is import, subscribe export).
        #expect(try apply("cluster { permissions { publish: \"a\", sub: \"b\" } }").cluster.permissions
            == RoutePermissions(import: SubjectPermission(allow: ["a"]), export: SubjectPermission(allow: ["b"])))
    }

    @Test(arguments: [
        ("cluster { permissions { import: \"a\", allow_responses: true } }",
         "t.conf:1:11: Cluster permissions do not support dynamic responses"),
        ("cluster { permissions { export: \"a q\" } }", "t.conf:1:11: cluster export allow: subject \"a q\" is not a valid subject"),
        ("cluster { permissions { export: {deny: \"a q\"} } }", "t.conf:1:11: cluster export deny: subject \"a q\" is not a valid subject"),
        ("cluster { permissions { import: \"a..b\" } }", "t.conf:1:25: subject \"a..b\" is not a valid subject"),
        ("cluster { permissions { bogus: \"a\" } }", "t.conf:1:25: Unknown field \"bogus\" parsing permissions"),
        ("cluster { permissions: \"a\" }", "t.conf:1:11: Expected permissions to be a map/struct, got string"),
    ])
    func errors(_ text: String, _ expected: String) {
        do {
            _ = try apply(text)
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.description == expected)
        }
    }
}
