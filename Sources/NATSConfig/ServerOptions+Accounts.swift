/// Reading `accounts { NAME: { users, exports, imports, default_permissions } }` (or a list of names) with
/// nats-server's rules and messages (opts.go `parseAccounts`, `parseExportStreamOrService`,
/// `parseImportStreamOrService`). Exports and imports are checked against each other once every account is
/// known (`checkAccountSharing`).
extension ServerOptions {
    mutating func applyAccounts(_ entry: ConfigEntry, _ reader: inout ConfigReader) throws(ConfigError) {
        switch entry.value {
        case .array(let names):
            for value in names {
                guard let name = value.stringValue else {
                    throw ConfigError("Expected account names to be strings, got \(value.typeName)", at: entry.position)
                }
                try addAccount(AccountConfig(name: name, position: entry.position), at: entry.position)
            }
        case .map(let map):
            for field in map.entries {
                if field.usedAsVariable { continue }
                guard case .map(let body) = field.value else {
                    throw ConfigError("Expected map entries for accounts", at: field.position)
                }
                try applyAccount(named: field.key, body, at: field.position, &reader)
            }
        default:
            throw ConfigError("Expected accounts to be a map or an array of names, got \(entry.value.typeName)", at: entry.position)
        }
    }

    private mutating func addAccount(_ account: AccountConfig, at position: ConfigPosition) throws(ConfigError) {
        if account.name == AccountConfig.globalName {
            throw ConfigError("\"\(account.name)\" is a Reserved Account", at: position)
        }
        if accountNames.contains(account.name) {
            throw ConfigError("Duplicate Account Entry: \(account.name)", at: position)
        }
        accounts.append(account)
        accountNames.insert(account.name)
    }

    private mutating func applyAccount(
        named name: String, _ body: ConfigMap, at position: ConfigPosition, _ reader: inout ConfigReader
    ) throws(ConfigError) {
        var account = AccountConfig(name: name, position: position)
        var accountUsers: [User] = []
        var accountNkeys: [NkeyUser] = []
        for field in body.entries {
            let key = field.key.lowercased()
            switch key {
            case "users":
                (accountUsers, accountNkeys) = try AuthorizationBlock.users(field, path: "accounts.\(name).users", &reader)
            case "exports":
                account.exports = try exports(field, path: "accounts.\(name).exports", &reader)
            case "imports":
                account.imports = try imports(field, path: "accounts.\(name).imports", &reader)
            case "default_permissions":
                account.defaultPermissions = try reader.permissions(field)
            default:
                if let policy = UnsupportedConfigKey.accountEntry[key] {
                    try reader.handleUnsupported(field, path: "accounts.\(name).\(field.key)", policy: policy)
                } else if !field.usedAsVariable {
                    throw ConfigError("unknown field \"\(field.key)\"", at: field.position)
                }
            }
        }
        try addAccount(account, at: position)
        for var user in accountUsers {
            if user.permissions == nil { user.permissions = account.defaultPermissions }
            user.account = name
            users.append(user)
        }
        for var user in accountNkeys {
            if user.permissions == nil { user.permissions = account.defaultPermissions }
            user.account = name
            nkeyUsers.append(user)
        }
    }

    /// `exports = [ {stream: S, accounts: [...]}, {service: S, response_type: …, response_threshold: …} ]`.
    private func exports(_ field: ConfigEntry, path: String, _ reader: inout ConfigReader) throws(ConfigError) -> [AccountExport] {
        var result: [AccountExport] = []
        for map in try shareItems(field, kind: "Export") {
            var kind: AccountShareKind?
            var subject = ""
            var accounts: [String] = []
            var responseType: ServiceResponseType?
            var threshold: Double?
            var responsePosition: ConfigPosition?
            for entry in map.entries {
                switch entry.key.lowercased() {
                case "stream", "service":
                    let found: AccountShareKind = entry.key.lowercased() == "stream" ? .stream : .service
                    if let kind, kind != found {
                        throw ConfigError("Detected \(found.rawValue) \"\(entry.value.stringValue ?? "")\" but already saw a \(kind.rawValue)",
                                          at: entry.position)
                    }
                    guard let text = entry.value.stringValue else {
                        throw ConfigError("Expected \(found.rawValue) name to be string, got \(entry.value.typeName)", at: entry.position)
                    }
                    kind = found
                    subject = text
                case "response", "response_type":
                    guard responseType == nil else { throw ConfigError("Duplicate response type definition", at: entry.position) }
                    let text = try reader.string(entry)
                    switch text.lowercased() {
                    case "single", "singleton": responseType = .singleton
                    case "stream": responseType = .stream
                    case "chunk", "chunked": responseType = .chunked
                    default: throw ConfigError("Unknown response type: \"\(text)\"", at: entry.position)
                    }
                    responsePosition = entry.position
                case "threshold", "response_threshold", "response_max_time", "response_time":
                    guard threshold == nil else { throw ConfigError("Duplicate response threshold detected", at: entry.position) }
                    guard let text = entry.value.stringValue, let seconds = GoDuration.seconds(text) else {
                        throw ConfigError("Expected response threshold to be a parseable time duration, got \(entry.value.typeName)",
                                          at: entry.position)
                    }
                    threshold = seconds
                    responsePosition = entry.position
                case "accounts":
                    guard case .array(let names) = entry.value else {
                        throw ConfigError("Expected accounts to be an array of names, got \(entry.value.typeName)", at: entry.position)
                    }
                    for name in names {
                        guard let text = name.stringValue else {
                            throw ConfigError("Expected account names to be strings, got \(name.typeName)", at: entry.position)
                        }
                        accounts.append(text)
                    }
                default:
                    try otherShareKey(entry, path: path, &reader)
                }
            }
            let position = map.entries.first?.position ?? field.position
            guard let kind else { throw ConfigError("Export Items should be a map with type entry", at: position) }
            if kind == .stream, let responsePosition {
                throw ConfigError("Detected response directive on non-service", at: responsePosition)
            }
            try checkSubject(subject, at: position)
            var export = AccountExport(kind: kind, subject: subject, accounts: accounts, position: position)
            if let responseType { export.responseType = responseType }
            if let threshold { export.responseThresholdSeconds = threshold }
            result.append(export)
        }
        return result
    }

    /// `imports = [ {stream: {account, subject}, prefix | to}, {service: {account, subject}, to} ]`.
    private func imports(_ field: ConfigEntry, path: String, _ reader: inout ConfigReader) throws(ConfigError) -> [AccountImport] {
        var result: [AccountImport] = []
        for map in try shareItems(field, kind: "Import") {
            var kind: AccountShareKind?
            var account = ""
            var subject = ""
            var prefix = ""
            var to = ""
            for entry in map.entries {
                switch entry.key.lowercased() {
                case "stream", "service":
                    let found: AccountShareKind = entry.key.lowercased() == "stream" ? .stream : .service
                    if let kind, kind != found {
                        throw ConfigError("Detected \(found.rawValue) but already saw a \(kind.rawValue)", at: entry.position)
                    }
                    guard case .map(let source) = entry.value else {
                        throw ConfigError("\(found == .stream ? "Stream" : "Service") entry should be an account map, got \(entry.value.typeName)",
                                          at: entry.position)
                    }
                    for part in source.entries {
                        switch part.key.lowercased() {
                        case "account": account = try reader.string(part)
                        case "subject": subject = try reader.string(part)
                        default:
                            if !part.usedAsVariable { throw ConfigError("unknown field \"\(part.key)\"", at: part.position) }
                        }
                    }
                    guard !account.isEmpty && !subject.isEmpty else {
                        throw ConfigError("Expect an account name and a subject", at: entry.position)
                    }
                    kind = found
                case "prefix": prefix = try reader.string(entry)
                case "to": to = try reader.string(entry)
                default:
                    try otherShareKey(entry, path: path, &reader)
                }
            }
            let position = map.entries.first?.position ?? field.position
            guard let kind else { throw ConfigError("Import Items should be a map with type entry", at: position) }
            if kind == .stream && !prefix.isEmpty && !to.isEmpty {
                throw ConfigError("Stream import can not have a 'prefix' and a 'to' property", at: position)
            }
            if kind == .service && !prefix.isEmpty {
                throw ConfigError("Service import can not have a 'prefix' property", at: position)
            }
            // nats-server adds the separator itself when a prefix does not end with one.
            while prefix.hasSuffix(".") { prefix.removeLast() }
            var entry = AccountImport(kind: kind, account: account, subject: subject, prefix: prefix, to: to, position: position)
            try checkSubject(subject, at: position)
            try checkSubject(entry.localSubject, at: position)
            if kind == .service && entry.to.isEmpty { entry.to = subject }
            if prefix.split(separator: ".").contains(where: { $0 == "*" || $0 == ">" }) {
                throw ConfigError("Error adding stream import \"\(subject)\": prefix \"\(prefix)\" can not contain wildcards",
                                  at: position)
            }
            // Streams map the exported subject onto `to`, services `to` onto the exported subject.
            let (source, destination) = kind == .stream ? (subject, entry.to) : (entry.to, subject)
            if !destination.isEmpty && !ImportMapping.isValid(source: source, destination: destination) {
                throw ConfigError("Error adding \(kind.rawValue) import \"\(subject)\": invalid mapping destination \"\(destination)\" "
                                  + "for \"\(source)\" (its wildcards must stand for the source's, one each)", at: position)
            }
            if kind == .service, result.contains(where: { $0.kind == .service && $0.to == entry.to && $0.account == account }) {
                throw ConfigError("Duplicate service import subject \"\(entry.to)\", previously used in import for account \"\(account)\", subject \"\(subject)\"",
                                  at: position)
            }
            result.append(entry)
        }
        return result
    }

    /// The maps of an `exports`/`imports` array (`kind`: "Export" or "Import", for nats-server's messages).
    private func shareItems(_ field: ConfigEntry, kind: String) throws(ConfigError) -> [ConfigMap] {
        guard case .array(let values) = field.value else {
            throw ConfigError("\(kind)s should be an array, got \(field.value.typeName)", at: field.position)
        }
        var maps: [ConfigMap] = []
        for value in values {
            guard case .map(let map) = value else {
                throw ConfigError("\(kind) Items should be a map with type entry, got \(value.typeName)", at: field.position)
            }
            maps.append(map)
        }
        return maps
    }

    /// A key of an export or import entry natsd does not read: refused or ignored by its policy, or unknown.
    private func otherShareKey(_ entry: ConfigEntry, path: String, _ reader: inout ConfigReader) throws(ConfigError) {
        if let policy = UnsupportedConfigKey.shareEntry[entry.key.lowercased()] {
            try reader.handleUnsupported(entry, path: "\(path).\(entry.key)", policy: policy)
        } else if !entry.usedAsVariable {
            throw ConfigError("unknown field \"\(entry.key)\"", at: entry.position)
        }
    }

    private func checkSubject(_ subject: String, at position: ConfigPosition) throws(ConfigError) {
        let tokens = subject.split(separator: ".", omittingEmptySubsequences: false)
        let valid = !subject.isEmpty && !subject.contains(" ") && !tokens.contains(where: \.isEmpty)
            && !tokens.dropLast().contains(">")
        guard valid else { throw ConfigError("subject \"\(subject)\" is not a valid subject", at: position) }
    }

    /// Checks every import against the exports of the account it names, once all accounts are read
    /// (nats-server's messages: `"X" account not defined for stream import`, `Error adding stream import
    /// "s": stream import not authorized`), and that `system_account` names an account.
    func checkAccountSharing() throws(ConfigError) {
        var byName: [String: AccountConfig] = [:]
        for account in accounts { byName[account.name] = account }
        for account in accounts {
            for export in account.exports {
                for name in export.accounts where byName[name] == nil {
                    throw ConfigError("\"\(name)\" account not defined for \(export.kind.rawValue) export", at: export.position)
                }
            }
            for entry in account.imports {
                guard let exporter = byName[entry.account] else {
                    throw ConfigError("\"\(entry.account)\" account not defined for \(entry.kind.rawValue) import", at: entry.position)
                }
                let authorized = exporter.exports.contains { export in
                    export.kind == entry.kind && export.admits(account.name)
                        && SubjectCoverage.covers(pattern: export.subject, subject: entry.subject)
                }
                guard authorized else {
                    throw ConfigError("Error adding \(entry.kind.rawValue) import \"\(entry.subject)\": \(entry.kind.rawValue) import not authorized",
                                      at: entry.position)
                }
            }
        }
        try checkImportCycles()
        if !systemAccount.isEmpty && systemAccount != "$SYS" && byName[systemAccount] == nil {
            throw ConfigError("error resolving system account: account missing (\"\(systemAccount)\" is not in the accounts block)",
                              at: nil)
        }
    }
}

extension ServerOptions {
    /// nats-server's checks as each import is added, in file order (accounts.go `AddStreamImport`,
    /// `serviceImportFormsCycle`): an import the account already has is refused, and so is one through
    /// which messages (streams) or requests (services) could come back to the importing account, following
    /// the imports added before it (at most 32 accounts deep, nats-server's search depth).
    func checkImportCycles() throws(ConfigError) {
        var added: [(importer: String, entry: AccountImport)] = []
        for account in accounts {
            for entry in account.imports {
                let duplicate = entry.kind == .stream && added.contains {
                    $0.importer == account.name && $0.entry.kind == .stream && $0.entry.account == entry.account
                        && $0.entry.subject == entry.subject && $0.entry.localSubject == entry.localSubject
                }
                if duplicate {
                    throw ConfigError("Error adding stream import \"\(entry.subject)\": stream import already exists",
                                      at: entry.position)
                }
                if leadsBack(to: account.name, from: entry.account, subject: entry.subject, kind: entry.kind, among: added, depth: 0) {
                    throw ConfigError("Error adding \(entry.kind.rawValue) import \"\(entry.subject)\": import forms a cycle",
                                      at: entry.position)
                }
                added.append((account.name, entry))
            }
        }
    }

    /// Whether `subject` of account `current`, followed through the imports in `added` (each one's local
    /// subject colliding with it), reaches `target`.
    private func leadsBack(to target: String, from current: String, subject: String, kind: AccountShareKind,
                           among added: [(importer: String, entry: AccountImport)], depth: Int) -> Bool {
        guard depth < 32 else { return true }
        for (importer, entry) in added where importer == current && entry.kind == kind {
            guard SubjectCoverage.collide(subject, entry.localSubject) else { continue }
            if entry.account == target { return true }
            if leadsBack(to: target, from: entry.account, subject: entry.subject, kind: kind, among: added, depth: depth + 1) {
                return true
            }
        }
        return false
    }
}

/// The subject mappings imports make (nats-server's legacy and `$N`/`{{wildcard(N)}}` transforms, strict as
/// for imports): a destination's wildcards stand for the source's wildcards, every one used.
public enum ImportMapping {
    /// The source wildcard (1-based) a destination token names: `$N` or `{{wildcard(N)}}`; nil otherwise.
    public static func reference(_ token: Substring) -> Int? {
        if token.hasPrefix("$"), let number = Int(token.dropFirst()) { return number }
        let compact = token.filter { $0 != " " }
        if compact.hasPrefix("{{wildcard("), compact.hasSuffix(")}}") {
            return Int(compact.dropFirst("{{wildcard(".count).dropLast(")}}".count))
        }
        return nil
    }

    static func isValid(source: String, destination: String) -> Bool {
        let sourceTokens = source.split(separator: ".", omittingEmptySubsequences: false)
        let destinationTokens = destination.split(separator: ".", omittingEmptySubsequences: false)
        let stars = sourceTokens.filter { $0 == "*" }.count
        let sourceRest = sourceTokens.last == ">"
        guard (destinationTokens.last == ">") == sourceRest else { return false }
        let legacy = destinationTokens.filter { $0 == "*" }.count
        let references = destinationTokens.compactMap(reference)
        if references.isEmpty { return legacy == stars }
        return legacy == 0 && references.allSatisfy { (1...max(stars, 1)).contains($0) && stars > 0 }
            && Set(references).count == stars
    }
}

/// Whether one subject pattern covers another: every subject `subject` matches, `pattern` matches too
/// (nats-server's `isSubsetMatch`, for imports against exports).
enum SubjectCoverage {
    static func covers(pattern: String, subject: String) -> Bool {
        let patternTokens = pattern.split(separator: ".", omittingEmptySubsequences: false)
        let subjectTokens = subject.split(separator: ".", omittingEmptySubsequences: false)
        for (index, token) in patternTokens.enumerated() {
            if token == ">" { return index < subjectTokens.count }
            guard index < subjectTokens.count else { return false }
            let other = subjectTokens[index]
            if token == "*" {
                if other == ">" { return false }
                continue
            }
            if token != other { return false }
        }
        return patternTokens.count == subjectTokens.count
    }

    /// Whether some subject matches both patterns (nats-server's `SubjectsCollide`).
    static func collide(_ first: String, _ second: String) -> Bool {
        let a = first.split(separator: ".", omittingEmptySubsequences: false)
        let b = second.split(separator: ".", omittingEmptySubsequences: false)
        var index = 0
        while index < a.count && index < b.count {
            if a[index] == ">" || b[index] == ">" { return true }
            if a[index] != "*" && b[index] != "*" && a[index] != b[index] { return false }
            index += 1
        }
        return a.count == b.count
    }
}
