// Fuzzes the configuration file reader: file bytes → ConfigFileParser → ServerOptions.apply, the path
// `natsd -c FILE` takes (CommandLineParser), with the error text it would print.
//
// The input is written to a file in a private temporary directory and read from there, so invalid UTF-8
// reaches the parser as it would from disk. `include` resolves relative to that directory, where two fixed
// files wait (a.conf, and b.conf which includes a.conf); inputs that could name a file elsewhere (an
// include together with a '/' or a '\' escape) are rejected, so the harness never reads outside it.
// `$VARIABLE` lookups see a fixed environment, never the process's, so every input replays the same way.
import Foundation
import FuzzSupport
import NATSConfig

/// The private directory: created once per process, removed at exit.
let directory: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("natsd-config-fuzz-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    try! Data("port: 4333\ncluster { name: included, routes: [nats-route://127.0.0.1:6222] }\n".utf8)
        .write(to: url.appendingPathComponent("a.conf"))
    try! Data("include a.conf\nmax_payload: 2MB\nauthorization { user: $NATS_USER, password: 'p' }\n".utf8)
        .write(to: url.appendingPathComponent("b.conf"))
    atexit { try? FileManager.default.removeItem(at: directory) }
    return url
}()

/// The input's file inside `directory`.
let inputFile = directory.appendingPathComponent("fuzz.conf")

/// What `$NAME` falls back to after the enclosing maps; values are parsed like config values.
let environment = [
    "NATS_USER": "fuzzer", "NATS_PORT": "4222", "NATS_SIZE": "4kb", "NATS_ROUTES": "[nats://a:1, nats://b:2]",
    "NATS_MAP": "{ name: x, port: 1 }", "NATS_SELF": "$NATS_SELF", "NATS_DURATION": "\"2m\"",
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    if mayNameOutsideFile(input) { return -1 }
    let bytes = Data(input)
    do {
        try bytes.write(to: inputFile)
    } catch {
        fatalError("cannot write \(inputFile.path): \(error)")
    }
    do throws(ConfigError) {
        let config = try ConfigFileParser.parse(file: inputFile.path, environment: environment)
        var options = ServerOptions()
        let warnings = try options.apply(config: config)
        for warning in warnings { precondition(!warning.description.isEmpty, "empty warning") }
    } catch {
        precondition(!error.description.isEmpty, "empty config error")
    }
    return 0
}

/// True when the input has an `include` (in any case) and a '/' or '\' anywhere: only then could an
/// include name a path outside `directory`.
func mayNameOutsideFile(_ bytes: UnsafeRawBufferPointer) -> Bool {
    guard bytes.contains(UInt8(ascii: "/")) || bytes.contains(UInt8(ascii: "\\")) else { return false }
    let word = Array("include".utf8)
    guard bytes.count >= word.count else { return false }
    for start in 0...(bytes.count - word.count) {
        var index = 0
        while index < word.count && bytes[start + index] | 0x20 == word[index] { index += 1 }
        if index == word.count { return true }
    }
    return false
}

FuzzDriver.run(fuzzConfig)
