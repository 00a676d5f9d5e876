/// Reading `permissions { publish, subscribe, allow_responses }` blocks with nats-server's rules and messages
/// (opts.go `parseUserPermissions`, `parseVariablePermissions`, `parsePermSubjects`, `parseAllowResponses`,
/// `checkPermSubjectArray`).
extension ConfigReader {
    /// A `permissions` map. With `allow_responses` and no publish allow list, the allow list becomes empty:
    /// such a user may publish only to the reply subjects of messages it received (nats-server turns off
    /// the blanket allow the same way).
    mutating func permissions(_ entry: ConfigEntry) throws(ConfigError) -> Permissions {
        guard case .map(let map) = entry.value else {
            throw ConfigError("Expected permissions to be a map/struct, got \(entry.value.typeName)", at: entry.position)
        }
        var permissions = Permissions()
        for field in map.entries {
            switch field.key.lowercased() {
            // `import`/`export` are the route words for the same lists; nats-server takes them here too.
            case "pub", "publish", "import":
                permissions.publish = try subjectPermission(field, allowQueue: false)
            case "sub", "subscribe", "export":
                permissions.subscribe = try subjectPermission(field, allowQueue: true)
            case "publish_allow_responses", "allow_responses":
                permissions.responses = try responsePermission(field)
            default:
                if !field.usedAsVariable {
                    throw ConfigError("Unknown field \"\(field.key)\" parsing permissions", at: field.position)
                }
            }
        }
        if permissions.responses != nil {
            var publish = permissions.publish ?? SubjectPermission()
            if publish.allow == nil { publish.allow = [] }
            permissions.publish = publish
        }
        return permissions
    }

    /// `publish`/`subscribe`: a subject, a list (both an allow list), or `{allow, deny}`; an empty map is
    /// no restriction at all, as in nats-server.
    private func subjectPermission(_ entry: ConfigEntry, allowQueue: Bool) throws(ConfigError) -> SubjectPermission? {
        guard case .map(let map) = entry.value else {
            return SubjectPermission(allow: try subjects(entry, allowQueue: allowQueue))
        }
        if map.entries.isEmpty { return nil }
        var permission = SubjectPermission()
        for field in map.entries {
            switch field.key.lowercased() {
            case "allow": permission.allow = try subjects(field, allowQueue: allowQueue)
            case "deny": permission.deny = try subjects(field, allowQueue: allowQueue)
            default:
                if !field.usedAsVariable {
                    throw ConfigError(
                        "Unknown field name \"\(field.key)\" parsing subject permissions, only 'allow' or 'deny' are permitted",
                        at: field.position)
                }
            }
        }
        return permission
    }

    /// A subject or a list of subjects, each valid (with an optional queue group when `allowQueue`).
    private func subjects(_ entry: ConfigEntry, allowQueue: Bool) throws(ConfigError) -> [String] {
        var subjects: [String] = []
        switch entry.value {
        case .string(let subject):
            subjects = [subject]
        case .array(let values):
            for value in values {
                guard case .string(let subject) = value else {
                    throw ConfigError("Subject in permissions array cannot be cast to string", at: entry.position)
                }
                subjects.append(subject)
            }
        default:
            throw ConfigError(
                "Expected subject permissions to be a subject, or array of subjects, got \(entry.value.typeName)",
                at: entry.position)
        }
        for subject in subjects {
            if let problem = PermissionSubject.problem(subject, allowQueue: allowQueue) {
                throw ConfigError(problem, at: entry.position)
            }
        }
        return subjects
    }

    /// `allow_responses`: `true`/`false`, or `{max, expires}` (0 keeps a default; negative is unlimited).
    private func responsePermission(_ entry: ConfigEntry) throws(ConfigError) -> ResponsePermission? {
        switch entry.value {
        case .bool(let on):
            return on ? ResponsePermission() : nil
        case .map(let map):
            var permission = ResponsePermission()
            for field in map.entries {
                switch field.key.lowercased() {
                case "max", "max_msgs", "max_messages", "max_responses":
                    let maximum = try int(field)
                    if maximum != 0 { permission.maxMessages = maximum }
                case "expires", "expiration", "ttl":
                    guard case .string(let text) = field.value else {
                        throw ConfigError("error parsing expires, not a duration string", at: field.position)
                    }
                    guard let seconds = GoDuration.seconds(text) else {
                        throw ConfigError("error parsing expires: invalid duration \"\(text)\"", at: field.position)
                    }
                    let milliseconds = Int64((seconds * 1000).rounded(.up))
                    if seconds != 0 { permission.expiresMilliseconds = seconds < 0 ? -1 : max(1, milliseconds) }
                default:
                    if !field.usedAsVariable {
                        throw ConfigError("Unknown field \"\(field.key)\" parsing permissions", at: field.position)
                    }
                }
            }
            return permission
        default:
            throw ConfigError("error parsing response permissions, expected a boolean or a map", at: entry.position)
        }
    }
}

/// nats-server's subject rules for permission entries (sublist.go `IsValidSubject`, opts.go
/// `checkPermSubjectArray`).
enum PermissionSubject {
    /// Why `text` is not a valid permission subject (with `allowQueue`, `"subject queue"` too), or nil.
    static func problem(_ text: String, allowQueue: Bool) -> String? {
        if isValid(text) { return nil }
        guard allowQueue else { return "subject \"\(text)\" is not a valid subject" }
        let elements = text.split(whereSeparator: { " \t\n\r\u{0C}".contains($0) })
        guard elements.count == 2 else { return "subject \"\(text)\" is not a valid subject" }
        if !isValid(String(elements[0])) { return "subject \"\(elements[0])\" is not a valid subject" }
        if !isValid(String(elements[1])) { return "queue \"\(elements[1])\" is not a valid queue" }
        return nil
    }

    /// Tokens are non-empty, carry no whitespace, and `>` may only be the last one.
    static func isValid(_ text: String) -> Bool {
        if text.isEmpty { return false }
        var sawFullWildcard = false
        for token in text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            if token.isEmpty || sawFullWildcard { return false }
            if token.contains(where: { [9, 10, 12, 13, 32].contains($0) }) { return false }
            if token.count == 1 && token.first == UInt8(ascii: ">") { sawFullWildcard = true }
        }
        return true
    }
}
