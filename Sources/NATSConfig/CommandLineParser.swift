import Foundation

/// What `natsd` should do after reading its arguments.
public enum CommandLineAction: Sendable, Equatable {
    /// Start (or with `checkConfig`, only check the config file) with these options.
    case run(ServerOptions)
    /// Print this text to stdout and exit 0.
    case help(String)
    /// Print this text to stdout and exit 0.
    case version(String)
    /// Send `command` (ldm, stop, quit, term, reopen, reload) to a running server; `pid` is a process ID
    /// (read from the PID file when one was named), nil to find the process by name.
    case signal(command: String, pid: String?)
}

/// nats-server's command line with Go `flag` package rules: `-flag` and `--flag` are the same, values as
/// `-p 4222` or `-p=4222`, a boolean takes a value only with `=`, parsing stops at the first non-flag.
/// Flags override the config file given with `-c`.
public enum CommandLineParser {
    /// Parses `arguments` (without the program name) on top of `base`.
    public static func parse(
        _ arguments: [String], base: ServerOptions = .init()
    ) throws(CommandLineError) -> CommandLineAction {
        let (assignments, rest) = try scan(arguments)
        func last(_ flag: Flag) -> String? { assignments.last { $0.flag == flag }?.value }

        if last(.version) == "true" { return .version(versionText) }
        if last(.help) == "true" { return .help(usage) }
        if let command = rest.first {
            switch command.lowercased() {
            case "version": return .version(versionText)
            case "help": return .help(usage)
            default: throw .unrecognizedCommand(command)
            }
        }
        if let signal = last(.signal), !signal.isEmpty { return try signalAction(signal) }

        var options = base
        if let path = last(.config), !path.isEmpty {
            options.configFile = path
            options.checkConfig = last(.checkConfig) == "true"
            do throws(ConfigError) {
                let config = try ConfigFileParser.parse(file: path)
                options.configWarnings = try options.apply(config: config).map(\.description)
            } catch {
                throw .config(error)
            }
        }
        for assignment in assignments {
            try assign(assignment, to: &options)
        }
        try overrideTLS(assignments, &options)
        options.applyDefaultAuthTimeouts()
        if options.checkConfig && options.configFile.isEmpty {
            throw .invalid("must specify [-c, --config] option to check configuration file syntax")
        }
        if !options.cluster.routes.isEmpty && options.cluster.host.isEmpty && options.cluster.port == 0 {
            throw .invalid("solicited routes require cluster capabilities, e.g. --cluster")
        }
        do throws(ConfigError) {
            try options.validate()
        } catch {
            throw .invalid(error.message)
        }
        return .run(options)
    }

    // MARK: - Scanning

    struct Assignment: Equatable {
        var name: String
        var flag: Flag
        var value: String
    }

    /// Splits `arguments` into flag assignments (values checked) and the arguments after the flags.
    static func scan(_ arguments: [String]) throws(CommandLineError) -> ([Assignment], ArraySlice<String>) {
        var assignments: [Assignment] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            guard argument.count >= 2, argument.hasPrefix("-") else { break }
            index += 1
            if argument == "--" { break }
            var name = Substring(argument.dropFirst(argument.hasPrefix("--") ? 2 : 1))
            guard let first = name.first, first != "-", first != "=" else { throw .badSyntax(argument) }
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = name[..<equals]
            }
            let flagName = String(name)
            guard let flag = Flag.byName[flagName] else { throw .undefinedFlag(flagName) }
            if flag.kind == .bool {
                let text = value ?? "true"
                guard let parsed = parseGoBool(text) else { throw .invalidBoolean(flag: flagName, value: text) }
                value = parsed ? "true" : "false"
            } else if value == nil {
                guard index < arguments.endIndex else { throw .missingArgument(flagName) }
                value = arguments[index]
                index += 1
            }
            if flag.kind == .int, parseGoInt(value!) == nil { throw .invalidValue(flag: flagName, value: value!) }
            assignments.append(Assignment(name: flagName, flag: flag, value: value!))
        }
        return (assignments, arguments[index...])
    }

    /// Go's `strconv.ParseBool`.
    static func parseGoBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }

    /// Go's `strconv.ParseInt(text, 0, 64)` for the forms people use: decimal, `0x`, `0o`, `0b`, `_`.
    static func parseGoInt(_ text: String) -> Int? {
        var body = Substring(text.replacingOccurrences(of: "_", with: ""))
        var sign = 1
        if let first = body.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            body = body.dropFirst()
        }
        let lower = body.lowercased()
        let magnitude: Int?
        if lower.hasPrefix("0x") {
            magnitude = Int(lower.dropFirst(2), radix: 16)
        } else if lower.hasPrefix("0o") {
            magnitude = Int(lower.dropFirst(2), radix: 8)
        } else if lower.hasPrefix("0b") {
            magnitude = Int(lower.dropFirst(2), radix: 2)
        } else if lower.count > 1, lower.hasPrefix("0") {
            magnitude = Int(lower.dropFirst(), radix: 8)
        } else {
            magnitude = Int(lower)
        }
        guard !body.isEmpty, body.first != "+", body.first != "-", let magnitude else { return nil }
        return sign * magnitude
    }

    // MARK: - Applying

    private static func assign(_ assignment: Assignment, to options: inout ServerOptions) throws(CommandLineError) {
        let value = assignment.value
        let number = parseGoInt(value) ?? 0
        let flag = value == "true"
        switch assignment.flag {
        case .help, .version, .signal, .config, .storeDirectory: break
        case .tls, .tlsVerify, .tlsCert, .tlsKey, .tlsCACert: break  // see overrideTLS
        case .checkConfig: options.checkConfig = flag
        case .port: options.port = number
        case .serverName: options.serverName = value
        case .host: options.host = value
        case .clientAdvertise: options.clientAdvertise = value
        case .debug: options.debug = flag
        case .trace: options.trace = flag
        case .verboseTrace: (options.trace, options.traceVerbose) = (flag, flag)
        case .debugAndTrace: (options.debug, options.trace) = (flag, flag)
        case .debugAndVerboseTrace: (options.debug, options.trace, options.traceVerbose) = (flag, flag, flag)
        case .logTime: options.logTime = flag
        case .logTimeUTC: options.logTimeUTC = flag
        case .user: options.username = value
        case .password: options.password = value
        case .token: options.authToken = value
        case .httpPort: options.httpPort = number
        case .pidFile: options.pidFile = value
        case .portsFileDir: options.portsFileDir = value
        case .logFile: options.logFile = value
        case .logSizeLimit: options.logSizeLimit = Int64(number)
        case .maxTracedMessageLength: options.maxTracedMessageLength = number
        case .routes: options.cluster.routes = try routes(value)
        case .cluster: try overrideCluster(value, &options.cluster)
        case .clusterAdvertise: options.cluster.advertise = value
        case .noAdvertise: options.cluster.noAdvertise = flag
        case .connectRetries: options.cluster.connectRetries = number
        case .clusterName: options.cluster.name = value
        case .clusterPoolSize:
            guard number <= ClusterOptions.maximumPoolSize else {
                throw .invalid("--cluster_pool_size must be at most \(ClusterOptions.maximumPoolSize)")
            }
            options.cluster.poolSize = number
        case .loops:
            guard (0...ServerOptions.maximumLoops).contains(number) else {
                throw .invalid("--loops must be between 0 (one per core) and \(ServerOptions.maximumLoops)")
            }
            options.loops = number
        case .unsupportedBool:
            if flag { throw .unsupported(assignment.name) }
        case .unsupportedValue:
            throw .unsupported(assignment.name)
        }
    }

    /// The `--tls*` flags: when any is given (and not `--tls=false`), TLS as they say replaces the config
    /// file's `tls` block; a certificate and its key are then required (nats-server's `overrideTLS`).
    static func overrideTLS(_ assignments: [Assignment], _ options: inout ServerOptions) throws(CommandLineError) {
        let tlsFlags: [Flag] = [.tls, .tlsVerify, .tlsCert, .tlsKey, .tlsCACert]
        func last(_ flag: Flag) -> String? { assignments.last { $0.flag == flag }?.value }
        guard assignments.contains(where: { tlsFlags.contains($0.flag) }), last(.tls) != "false" else { return }
        var tls = TLSOptions()
        tls.certFile = last(.tlsCert) ?? ""
        tls.keyFile = last(.tlsKey) ?? ""
        tls.caFile = last(.tlsCACert) ?? ""
        tls.verify = last(.tlsVerify) == "true"
        guard !tls.certFile.isEmpty else { throw .invalid("TLS Server certificate must be present and valid") }
        guard !tls.keyFile.isEmpty else { throw .invalid("TLS Server private key must be present and valid") }
        options.tls = tls
    }

    /// `--routes`: comma-separated route URLs; empty clears the routes.
    static func routes(_ text: String) throws(CommandLineError) -> [RouteURL] {
        var routes: [RouteURL] = []
        for part in text.split(separator: ",") {
            let trimmed = String(part).trimmingSpaces
            if trimmed.isEmpty { continue }
            guard let route = RouteURL(parsing: String(trimmed)) else {
                throw .invalid("invalid route URL \"\(trimmed)\"")
            }
            routes.append(route)
        }
        return routes
    }

    /// `--cluster nats://[user:pass@]host:port`: sets the route listener and its credentials; an empty
    /// value turns clustering off.
    static func overrideCluster(_ text: String, _ cluster: inout ClusterOptions) throws(CommandLineError) {
        if text.isEmpty {
            cluster.port = 0
            return
        }
        guard let url = RouteURL(parsing: text) else { throw .invalid("invalid cluster URL \"\(text)\"") }
        cluster.host = url.host
        cluster.port = url.port
        if let at = text.lastIndex(of: "@") {
            // Go's url.Userinfo: a user without ':' has no password, which nats-server refuses.
            guard let scheme = text.range(of: "://"), text[scheme.upperBound..<at].contains(":") else {
                throw .invalid("expected cluster password to be set")
            }
            cluster.username = url.username
            cluster.password = url.password
        } else {
            cluster.username = ""
            cluster.password = ""
        }
    }

    /// `-sl <command>[=<pid or pid file>]`.
    static func signalAction(_ text: String) throws(CommandLineError) -> CommandLineAction {
        let parts = text.split(separator: "=", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else {
            throw .invalid("invalid signal parameters: [\(parts.dropFirst(2).joined(separator: " "))]")
        }
        let command = parts[0]
        guard ["ldm", "stop", "quit", "term", "reopen", "reload"].contains(command) else {
            throw .invalid("unknown signal \"\(command)\"")
        }
        guard parts.count == 2 else { return .signal(command: command, pid: nil) }
        var pid = parts[1]
        if let data = FileManager.default.contents(atPath: pid) {
            pid = String(String(decoding: data, as: UTF8.self).trimmingSpaces)
        }
        return .signal(command: command, pid: pid)
    }
}
