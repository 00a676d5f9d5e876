import Foundation
import Testing
@testable import NATSConfig

@Suite struct ConfigFileParserTests {
    func parse(_ text: String, environment: [String: String] = [:]) throws(ConfigError) -> ConfigMap {
        try ConfigFileParser.parse(text, file: "test.conf", environment: environment)
    }

    @Test(arguments: ["port: 4222", "port = 4222", "port 4222", "\"port\": 4222", "'port' = 4222", "port:4222;",
                      "  port: 4222 # comment", "// c\nport: 4222 // trailing"])
    func separatorsAndComments(_ text: String) throws {
        #expect(try parse(text)["port"] == .int(4222))
    }

    @Test(arguments: [
        ("1k", 1000), ("1kb", 1024), ("1KB", 1024), ("1ki", 1024), ("1kib", 1024), ("2m", 2_000_000),
        ("1mb", 1 << 20), ("1MiB", 1 << 20), ("1g", 1_000_000_000), ("1gb", 1 << 30), ("1t", 1_000_000_000_000),
        ("1tb", 1 << 40), ("1p", 1_000_000_000_000_000), ("1pb", 1 << 50), ("1e", 1_000_000_000_000_000_000),
        ("-1", -1), ("0", 0),
    ] as [(String, Int64)])
    func sizeSuffixes(_ text: String, _ expected: Int64) throws {
        #expect(try parse("x: \(text)")["x"] == .int(expected))
    }

    @Test(arguments: [
        ("true", ConfigValue.bool(true)), ("YES", .bool(true)), ("on", .bool(true)), ("False", .bool(false)),
        ("no", .bool(false)), ("OFF", .bool(false)), ("1.5", .double(1.5)), ("10s", .string("10s")),
        ("\"2m\"", .string("2m")), ("1h30m", .string("1h30m")), ("127.0.0.1:4222", .string("127.0.0.1:4222")),
        ("hello", .string("hello")), ("'raw \\n'", .string("raw \\n")), ("\"a\\tb\\n\\\"\\\\\\x41\"", .string("a\tb\n\"\\A")),
        ("\"$X\"", .string("$X")), ("$2a$11$abc", .string("$2a$11$abc")), ("nats://h:1", .string("nats://h:1")),
    ])
    func scalars(_ text: String, _ expected: ConfigValue) throws {
        #expect(try parse("x: \(text)")["x"] == expected)
    }

    @Test func datetime() throws {
        #expect(try parse("x: 2006-01-02T15:04:05Z")["x"] == .date(Date(timeIntervalSince1970: 1_136_214_245)))
    }

    @Test func mapsArraysAndTerminators() throws {
        let map = try parse("""
            cluster {
              name: A; listen: 127.0.0.1:6222
              routes = [
                nats://a:1, nats://b:2
                "nats://c:3" # comment
              ]
              nested: { a: 1, b: [1, 2] }
            }
            empty {}
            list: []
            """)
        let cluster = try #require(map["cluster"]?.mapValue)
        #expect(cluster.keys == ["name", "listen", "routes", "nested"])
        #expect(cluster["name"] == .string("A"))
        #expect(cluster["listen"] == .string("127.0.0.1:6222"))
        #expect(cluster["routes"] == .array([.string("nats://a:1"), .string("nats://b:2"), .string("nats://c:3")]))
        #expect(cluster["nested"] == .map(ConfigMap(entries: [
            ConfigEntry(key: "a", value: .int(1), position: ConfigPosition(file: "test.conf", line: 7, column: 13)),
            ConfigEntry(key: "b", value: .array([.int(1), .int(2)]), position: ConfigPosition(file: "test.conf", line: 7, column: 19)),
        ])))
        #expect(map["empty"] == .map(ConfigMap()))
        #expect(map["list"] == .array([]))
    }

    @Test func wrappedInBracesAndLastKeyWins() throws {
        let map = try parse("{ port: 1\n port: 2 }")
        #expect(map.keys == ["port"])
        #expect(map["port"] == .int(2))
    }

    @Test func rawBlock() throws {
        let map = try parse("text (\nline one\n  line ) two\n)\nport: 1\n")
        #expect(map["text"] == .string("\nline one\n  line ) two"))
        #expect(map["port"] == .int(1))
    }

    @Test func variables() throws {
        let map = try parse("X=4kb\nmax_payload: $X\nouter { Y: 7, inner { z: $Y, w: $X } }")
        #expect(map["max_payload"] == .int(4096))
        #expect(map.entries.first { $0.key == "X" }?.usedAsVariable == true)
        #expect(map["outer"]?.mapValue?["inner"]?.mapValue?["z"] == .int(7))
        #expect(map["outer"]?.mapValue?["inner"]?.mapValue?["w"] == .int(4096))
    }

    @Test func environmentVariables() throws {
        let map = try parse("a: $SIZE\nb: $NAME", environment: ["SIZE": "2kb", "NAME": "hello"])
        #expect(map["a"] == .int(2048))
        #expect(map["b"] == .string("hello"))
        #expect(throws: ConfigError.self) { try parse("a: $LOOP", environment: ["LOOP": "$LOOP"]) }
    }

    /// Each level of nesting is a recursive call: too many is an error, not a stack overflow (found by fuzzing).
    @Test(arguments: [("[", "]"), ("{a: ", "}"), ("{a: [", "]}")])
    func nestingIsBounded(_ open: String, _ close: String) throws {
        let levels = ConfigFileParser.maxDepth - 1  // the document's own map is one level
        let deepest = "x: " + String(repeating: open, count: levels / open.filter { "[{".contains($0) }.count)
        #expect(throws: Never.self) { try parse(deepest + "1" + String(repeating: close, count: levels / close.count)) }
        let tooDeep = "x: " + String(repeating: open, count: 5000)
        do {
            _ = try parse(tooDeep + "1" + String(repeating: close, count: 5000))
            Issue.record("5000 levels must fail")
        } catch {
            #expect(error.message.contains("nesting too deep: more than 64 levels"))
        }
    }

    @Test func selfIncludeIsAnError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("natsd-conf-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let main = directory.appendingPathComponent("main.conf")
        try "port: 1\ninclude main.conf\n".write(to: main, atomically: true, encoding: .utf8)
        do {
            _ = try ConfigFileParser.parse(file: main.path)
            Issue.record("a file including itself must fail")
        } catch {
            #expect(error.description.hasPrefix("\(main.path):2:9: error parsing include file 'main.conf'"))
            #expect(error.description.contains("nesting too deep"))
        }
    }

    @Test func include() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("natsd-conf-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "port: 5222\nauthorization { user: a, password: b }\n".write(
            to: directory.appendingPathComponent("auth.conf"), atomically: true, encoding: .utf8)
        let main = directory.appendingPathComponent("main.conf")
        try "server_name: s1\ninclude \"auth.conf\"\ndebug: true\ninclude 'missing.conf'\n".write(
            to: main, atomically: true, encoding: .utf8)
        do {
            _ = try ConfigFileParser.parse(file: main.path)
            Issue.record("missing include must fail")
        } catch {
            #expect(error.position?.line == 4)
            #expect(error.description.contains("missing.conf"))
        }
        try "server_name: s1\ninclude auth.conf\ndebug: true\n".write(to: main, atomically: true, encoding: .utf8)
        let map = try ConfigFileParser.parse(file: main.path)
        #expect(map.keys == ["server_name", "port", "authorization", "debug"])
        #expect(map["port"] == .int(5222))
        // A syntax error inside an included file: nats-server's "error parsing include file 'x', Parse error…".
        let bad = directory.appendingPathComponent("bad.conf")
        try "a: [1\n".write(to: bad, atomically: true, encoding: .utf8)
        try "port: 1\ninclude bad.conf\n".write(to: main, atomically: true, encoding: .utf8)
        do {
            _ = try ConfigFileParser.parse(file: main.path)
            Issue.record("a bad include must fail")
        } catch {
            #expect(error.description == "\(main.path):2:9: error parsing include file 'bad.conf', "
                + "Parse error on line 2: 'unexpected end of file inside an array, expected ']'' (\(bad.path):2:1)")
        }
    }

    /// Syntax errors read `Parse error on line N: '…' (file:line:col)`, the start nats-server prints; errors
    /// of meaning (unknown variables, numbers out of range) read `file:line:col: …`.
    @Test(arguments: [
        ("port: 1\nx: $NOPE", 2, 4, "variable reference for 'NOPE' can not be found", false),
        ("a {\n b: 1\n", 3, 1, "expected '}'", true),
        ("a: [1, 2", 1, 9, "expected ']'", true),
        ("a: \"open", 1, 9, "quoted string", true),
        ("\n\n  a: \"\\q\"", 3, 8, "invalid escape", true),
        ("a: \"\\x4\"", 1, 6, "hexadecimal", true),
        ("a: 1 2", 1, 6, "after a value", true),
        ("a:\n1", 1, 3, "new line", true),
        ("a: .5", 1, 4, "digit", true),
        ("a: -x", 1, 4, "digit", true),
        ("a: 1.x", 1, 4, "digit after the '.'", true),
        ("a: 2006-01-02", 1, 4, "Zulu", true),
        ("a: 99999999999999999999", 1, 4, "out of range", false),
        ("}", 1, 1, "unexpected '}'", true),
        ("x (\nno end", 2, 7, "block", true),
    ])
    func errors(_ text: String, _ line: Int, _ column: Int, _ fragment: String, _ isParseError: Bool) {
        do {
            _ = try parse(text)
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.position == ConfigPosition(file: "test.conf", line: line, column: column), "\(error)")
            #expect(error.message.contains(fragment), "\(error)")
            #expect(error.isParseError == isParseError, "\(error)")
            if isParseError {
                let expected = "Parse error on line \(line): '\(error.message)' (test.conf:\(line):\(column))"
                #expect(error.description == expected)
            } else {
                #expect(error.description == "test.conf:\(line):\(column): \(error.message)")
            }
        }
    }

    @Test(arguments: [
        ("2m", 120.0), ("500ms", 0.5), ("1h30m", 5400), ("1.5s", 1.5), ("-3s", -3), ("0", 0), ("10us", 0.00001),
    ])
    func goDurations(_ text: String, _ seconds: Double) {
        #expect(GoDuration.seconds(text).map { abs($0 - seconds) < 1e-9 } == true)
    }

    /// Go's `time.Duration.String`.
    @Test(arguments: [
        (120.0, "2m0s"), (90.5, "1m30.5s"), (30, "30s"), (3600, "1h0m0s"), (5400.25, "1h30m0.25s"), (0, "0s"),
        (0.5, "500ms"), (0.0015, "1.5ms"), (0.00001, "10µs"), (0.000000001, "1ns"), (-3, "-3s"), (1.000000001, "1.000000001s"),
    ])
    func goDurationStrings(_ seconds: Double, _ text: String) {
        #expect(GoDuration.string(seconds: seconds) == text)
    }

    @Test(arguments: ["", "2", "m", "1x", "1.s.", "--1s"])
    func invalidGoDurations(_ text: String) {
        #expect(GoDuration.seconds(text) == nil)
    }
}
