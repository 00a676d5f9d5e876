/// The `accounts { … }` block: isolated subject spaces, each with its users, and the subjects accounts share
/// through exports and imports (nats-server's config-file accounts, opts.go `parseAccounts`; no JWT).
///
/// Users of an account join `ServerOptions.users`/`nkeyUsers` with their `account` set, so one list decides
/// every login; clients outside any account (the `authorization` block's users, or no authentication) are
/// in the global account `$G`.
public struct AccountConfig: Sendable, Equatable {
    /// The name as written; never `$G` (nats-server reserves it).
    public var name: String
    public var exports: [AccountExport] = []
    public var imports: [AccountImport] = []
    /// `default_permissions` of the account, already given to its users without their own.
    public var defaultPermissions: Permissions?
    public var position: ConfigPosition?

    public init(name: String, exports: [AccountExport] = [], imports: [AccountImport] = [], position: ConfigPosition? = nil) {
        self.name = name
        self.exports = exports
        self.imports = imports
        self.position = position
    }

    /// The account clients outside every `accounts` entry belong to.
    public static let globalName = "$G"
}

/// Streams (messages) or services (request-reply) shared between accounts.
public enum AccountShareKind: String, Sendable, Equatable {
    case stream
    case service
}

/// How many responses a service import routes back for one request (nats-server's `response_type`).
public enum ServiceResponseType: String, Sendable, Equatable {
    /// One response, then the reply mapping is gone (the default).
    case singleton = "Singleton"
    /// Any number of responses until the response threshold passes.
    case stream = "Stream"
    /// Like `stream`, the responses being chunks of one answer.
    case chunked = "Chunked"
}

/// One `exports` entry: `{stream: "subject"}` or `{service: "subject", response_type: …}`, public or
/// limited to `accounts`.
public struct AccountExport: Sendable, Equatable {
    public var kind: AccountShareKind
    /// The exported subject; may hold wildcards.
    public var subject: String
    /// The accounts allowed to import it; empty: every account (a public export).
    public var accounts: [String] = []
    public var responseType: ServiceResponseType = .singleton
    /// How long a stream or chunked response mapping lives, in seconds (`response_threshold`, nats-server's
    /// default 2 minutes).
    public var responseThresholdSeconds: Double = 120
    public var position: ConfigPosition?

    public init(kind: AccountShareKind, subject: String, accounts: [String] = [], position: ConfigPosition? = nil) {
        self.kind = kind
        self.subject = subject
        self.accounts = accounts
        self.position = position
    }

    /// Whether `account` may import this export.
    public func admits(_ account: String) -> Bool { accounts.isEmpty || accounts.contains(account) }
}

/// One `imports` entry: `{stream: {account, subject}, prefix | to}` or `{service: {account, subject}, to}`.
public struct AccountImport: Sendable, Equatable {
    public var kind: AccountShareKind
    /// The exporting account.
    public var account: String
    /// The subject in the exporting account.
    public var subject: String
    /// Streams: messages arrive as `prefix.subject` (empty: no prefix).
    public var prefix: String = ""
    /// Streams: messages arrive as `to` (the subject's wildcard tokens filled in); services: the subject
    /// the importing account's clients publish requests to (default: `subject`).
    public var to: String = ""
    public var position: ConfigPosition?

    public init(kind: AccountShareKind, account: String, subject: String, prefix: String = "", to: String = "",
                position: ConfigPosition? = nil) {
        self.kind = kind
        self.account = account
        self.subject = subject
        self.prefix = prefix
        self.to = to
        self.position = position
    }

    /// The subject the importing account sees: `prefix.subject`, `to`, or the subject itself.
    public var localSubject: String {
        if !prefix.isEmpty { return prefix + "." + subject }
        if !to.isEmpty { return to }
        return subject
    }
}
