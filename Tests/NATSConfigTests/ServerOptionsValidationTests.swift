import Foundation
import Testing
@testable import NATSConfig

/// Start-up checks on the merged config file and flags (`ServerOptions.validate`, run by the command line parser).
@Suite struct ServerOptionsValidationTests {
    /// Parses `arguments` with `config` written to a temporary file named by `-c`.
    func parse(_ arguments: [String], config: String? = nil) throws(CommandLineError) -> ServerOptions {
        var arguments = arguments
        var file: URL?
        if let config {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("natsd-\(UUID()).conf")
            do { try config.write(to: url, atomically: true, encoding: .utf8) } catch { Issue.record("\(error)") }
            arguments += ["-c", url.path]
            file = url
        }
        defer { if let file { try? FileManager.default.removeItem(at: file) } }
        guard case .run(let options) = try CommandLineParser.parse(arguments) else {
            Issue.record("not a run action")
            return ServerOptions()
        }
        return options
    }

    func expectError(
        _ arguments: [String], config: String? = nil, _ message: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            _ = try parse(arguments, config: config)
            Issue.record("accepted", sourceLocation: sourceLocation)
        } catch {
            #expect(error.description == message, sourceLocation: sourceLocation)
        }
    }

    @Test func maxPayloadAboveMaxPendingIsRefused() throws {
        // nats-server's start-up message.
        expectError([], config: "max_payload: 2MB\nmax_pending: 1MB",
                    "max_payload (2097152) cannot be higher than max_pending (1048576)")
        expectError([], config: "max_payload: 100MB",
                    "max_payload (104857600) cannot be higher than max_pending (67108864)")
        let equal = try parse([], config: "max_payload: 1MB\nmax_pending: 1MB")
        #expect(equal.maxPayload == equal.maxPending)
    }

    @Test func credentialsFromFlagsAndConfigNeverMix() {
        let users = "authorization { users = [ {user: a, password: b} ] }"
        expectError(["--user", "x", "--pass", "y"], config: users, "Can not have a single user/pass and a users array")
        expectError(["--auth", "t"], config: users, "Can not have a token and a users array")
        expectError(["--user", "x", "--pass", "y", "--auth", "t"], "Cannot have a user/pass and token")
        expectError(["--user", "x"], config: "authorization { token: t }", "Cannot have a user/pass and token")
        expectError(["--pass", "y"], "a password is set without a user: clients would need no credentials")
        expectError([], config: "authorization { password: y }",
                    "a password is set without a user: clients would need no credentials")
    }

    /// nats-server's `validateNoAuthUser` messages (auth.go).
    @Test func noAuthUserMustNameAUserOfTheList() throws {
        let users = "authorization { users = [ {user: a, password: b}, {user: c, password: d} ] }\n"
        #expect(try parse([], config: users + "no_auth_user: c").noAuthUser == "c")
        expectError([], config: users + "no_auth_user: x",
                    "no_auth_user: \"x\" not present as user or nkey in authorization block or account configuration")
        expectError([], config: "no_auth_user: a", "no_auth_user: \"a\" present, but users/nkeys are not defined")
        expectError([], config: "authorization { users = [] }\nno_auth_user: a",
                    "no_auth_user: \"a\" present, but users/nkeys are not defined")
        expectError([], config: "authorization { user: a, password: b }\nno_auth_user: a",
                    "no_auth_user: \"a\" present, but users/nkeys are not defined")
        expectError(["--user", "a", "--pass", "b"], config: "no_auth_user: a",
                    "no_auth_user: \"a\" present, but users/nkeys are not defined")
    }

    @Test func singleCredentialsAreValid() throws {
        #expect(try parse(["--user", "x", "--pass", "y"]).authRequired)
        #expect(try parse(["--auth", "t"]).authRequired)
        #expect(try parse([], config: "authorization { users = [ {user: a, password: b} ] }").authRequired)
        #expect(try !parse([]).authRequired)
    }

    @Test(arguments: [
        ["--store_dir", "/tmp/js"], ["-sd", "/tmp/js"], ["--store_dir=/tmp/js"], ["-sd=/tmp/js", "-js=false"],
    ])
    func storeDirectoryWithoutJetStreamIsAccepted(_ arguments: [String]) throws {
        #expect(try parse(arguments + ["-p", "4333"]).port == 4333)
    }

    /// nats-server's start-up check (validateOptions), durations printed the Go way.
    @Test func lameDuckGracePeriodMustBeBelowDuration() {
        expectError([], config: "lame_duck_grace_period: \"2m30s\"",
                    "lame duck grace period (2m30s) should be strictly lower than lame duck duration (2m0s)")
        expectError([], config: "lame_duck_duration: \"90s\"\nlame_duck_grace_period: \"1m30.5s\"",
                    "lame duck grace period (1m30.5s) should be strictly lower than lame duck duration (1m30s)")
    }

    @Test func jetStreamFlagIsStillRefused() {
        expectError(["--store_dir", "/tmp/js", "-js"], "natsd does not support -js")
    }
}
