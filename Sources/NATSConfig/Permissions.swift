/// What one user may publish and subscribe to: the `permissions` of a user entry, or the block's
/// `default_permissions` (nats-server's `Permissions`, opts.go `parseUserPermissions`).
///
/// Subjects are kept as written; NATSAuth compiles them into matchers when the server starts.
public struct Permissions: Sendable, Equatable {
    /// `publish` (alias `pub`); nil: any subject may be published.
    public var publish: SubjectPermission?
    /// `subscribe` (alias `sub`); entries may name a queue group: `"foo.> workers"`.
    public var subscribe: SubjectPermission?
    /// `allow_responses`: the user may publish to the reply subject of a message it received.
    public var responses: ResponsePermission?

    public init(publish: SubjectPermission? = nil, subscribe: SubjectPermission? = nil,
                responses: ResponsePermission? = nil) {
        self.publish = publish
        self.subscribe = subscribe
        self.responses = responses
    }
}

/// An `allow`/`deny` pair of subject lists. A bare subject or list in the config is an allow list.
public struct SubjectPermission: Sendable, Equatable {
    /// nil: no allow list (everything not denied is allowed). Empty: nothing is allowed, which is what
    /// `allow_responses` makes of a missing publish allow list (only replies may be published).
    public var allow: [String]?
    public var deny: [String]

    public init(allow: [String]? = nil, deny: [String] = []) {
        self.allow = allow
        self.deny = deny
    }
}

/// `allow_responses`: how often and for how long a reply subject may be published to after a message
/// carrying it was delivered. nats-server's defaults: one response within two minutes.
public struct ResponsePermission: Sendable, Equatable {
    /// Responses per received request; negative: unlimited.
    public var maxMessages: Int
    /// How long the permission lasts after delivery, in milliseconds; negative: forever.
    public var expiresMilliseconds: Int64

    public static let defaultMaxMessages = 1
    public static let defaultExpiresMilliseconds: Int64 = 2 * 60 * 1000

    public init(maxMessages: Int = ResponsePermission.defaultMaxMessages,
                expiresMilliseconds: Int64 = ResponsePermission.defaultExpiresMilliseconds) {
        self.maxMessages = maxMessages
        self.expiresMilliseconds = expiresMilliseconds
    }
}
