/// What went wrong on the command line. `description` uses the wording of Go's `flag` package and
/// nats-server, so scripts grepping nats-server's messages keep working.
public enum CommandLineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `-x` is not a flag natsd (or nats-server) knows.
    case undefinedFlag(String)
    /// `---x`, `-=x` and similar.
    case badSyntax(String)
    /// A value flag was last on the line.
    case missingArgument(String)
    /// A boolean flag given a value that is not a Go boolean.
    case invalidBoolean(flag: String, value: String)
    /// A number flag given something that is not a number.
    case invalidValue(flag: String, value: String)
    /// A non-flag argument other than `version` or `help`.
    case unrecognizedCommand(String)
    /// A nats-server flag for a feature natsd does not have (TLS, JetStream, syslog…).
    case unsupported(String)
    /// The config file did not parse or map.
    case config(ConfigError)
    /// Any other invalid combination, with nats-server's message.
    case invalid(String)

    public var description: String {
        switch self {
        case .undefinedFlag(let name): "flag provided but not defined: -\(name)"
        case .badSyntax(let argument): "bad flag syntax: \(argument)"
        case .missingArgument(let name): "flag needs an argument: -\(name)"
        case .invalidBoolean(let name, let value): "invalid boolean value \"\(value)\" for -\(name): parse error"
        case .invalidValue(let name, let value): "invalid value \"\(value)\" for flag -\(name): parse error"
        case .unrecognizedCommand(let argument): "unrecognized command: \"\(argument)\""
        case .unsupported(let name): "natsd does not support -\(name)"
        case .config(let error): error.description
        case .invalid(let message): message
        }
    }

    /// True for errors of the flag syntax itself, after which Go's `flag` package prints the usage text.
    public var showsUsage: Bool {
        switch self {
        case .undefinedFlag, .badSyntax, .missingArgument, .invalidBoolean, .invalidValue: true
        default: false
        }
    }
}
