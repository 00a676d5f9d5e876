import Foundation
import Glibc

/// Finding and building the two servers, and describing the machine.
enum BenchSetup {
    /// The package root and scratch path the running `bench` was built with, so that building
    /// natsd reuses the same build directory (`swift run --scratch-path X bench` → X).
    static func packageLocation() -> (root: String, scratch: String) {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var url = URL(fileURLWithPath: executable)
        while url.pathComponents.count > 1 {
            let parent = url.deletingLastPathComponent()
            if url.lastPathComponent.hasPrefix(".build"),
               FileManager.default.fileExists(atPath: parent.appendingPathComponent("Package.swift").path) {
                return (parent.path, url.path)
            }
            url = parent
        }
        let cwd = FileManager.default.currentDirectoryPath
        return (cwd, cwd + "/.build")
    }

    /// Runs a command, returning its exit status and standard output (stderr passes through when
    /// `echo` is set, otherwise is discarded). Bounded by `timeoutSeconds`.
    @discardableResult
    static func run(_ path: String, _ arguments: [String], in directory: String? = nil, echo: Bool = false,
                    timeoutSeconds: Double = 1800) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = echo ? FileHandle.standardError : FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let timer = DispatchWorkItem { [process] in if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: timer)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Builds natsd in release mode (unless disabled) and returns its path, or why it is missing.
    static func natsdBinary(_ options: BenchOptions) -> Result<String, BenchError> {
        if let path = options.natsdPath { return .success(path) }
        let (root, scratch) = packageLocation()
        let swift = findInPath("swift") ?? "/usr/bin/swift"
        let common = ["-c", "release", "--scratch-path", scratch]
        do {
            if options.build {
                log("building natsd: swift build -c release --product natsd --scratch-path \(scratch)")
                let build = try run(swift, ["build", "--product", "natsd"] + common, in: root, echo: true)
                guard build.status == 0 else { return .failure(BenchError("swift build failed")) }
            }
            let binPath = try run(swift, ["build", "--show-bin-path"] + common, in: root)
            let path = binPath.output.trimmingCharacters(in: .whitespacesAndNewlines) + "/natsd"
            guard FileManager.default.isExecutableFile(atPath: path) else {
                return .failure(BenchError("no natsd binary at \(path)"))
            }
            return .success(path)
        } catch {
            return .failure(BenchError("\(error)"))
        }
    }

    /// `--nats-server`, else `.venv/bin/nats-server` in the package root, else PATH.
    static func natsServerBinary(_ options: BenchOptions) -> Result<String, BenchError> {
        if let path = options.natsServerPath {
            return FileManager.default.isExecutableFile(atPath: path) ? .success(path) : .failure(BenchError("not executable: \(path)"))
        }
        let venv = packageLocation().root + "/.venv/bin/nats-server"
        if FileManager.default.isExecutableFile(atPath: venv) { return .success(venv) }
        if let found = findInPath("nats-server") { return .success(found) }
        return .failure(BenchError("nats-server not found (.venv/bin/nats-server, PATH, --nats-server)"))
    }

    static func findInPath(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// First line of `binary --version`, or nil.
    static func version(of binary: String) -> String? {
        guard let result = try? run(binary, ["--version"], timeoutSeconds: 5), result.status == 0 else { return nil }
        let line = result.output.split(separator: "\n").first.map(String.init) ?? ""
        return line.isEmpty ? nil : line
    }

    /// Short commit of the package, to label a natsd that has no `--version` yet.
    static func gitRevision() -> String? {
        guard let git = findInPath("git"),
              let result = try? run(git, ["rev-parse", "--short", "HEAD"], in: packageLocation().root, timeoutSeconds: 5),
              result.status == 0 else { return nil }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// "nproc 2 · Intel(R) Xeon(R) … · 23.5 GiB".
    static func machineDescription() -> String {
        let cpus = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        let cpuInfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuInfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        let memInfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let totalKiB = memInfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first }
            .flatMap { Double($0) } ?? 0
        var name = utsname()
        uname(&name)
        let kernel = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return "nproc \(cpus) · \(model) · \(format1(totalKiB / 1_048_576)) GiB RAM · Linux \(kernel)"
    }

    /// Raises the soft open-file limit to the hard one (children inherit it).
    static func raiseFileLimit() -> Int {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Int(limit.rlim_cur)
    }

    /// Progress goes to stderr so that stdout is just the markdown report.
    static func log(_ message: String) {
        FileHandle.standardError.write(Data(("bench: " + message + "\n").utf8))
    }
}

/// Shorthand for progress lines.
func log(_ message: String) { BenchSetup.log(message) }
