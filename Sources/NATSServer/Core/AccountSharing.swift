import NATSConfig
import NATSProtocol
import UVLoop

/// What an account takes from others: its stream imports (a subscription in the importing account gets a
/// shadow subscription in the exporting one, nats-server's `addShadowSubscriptions`) and its service
/// imports (an internal subscription on the import's subject that republishes requests into the exporting
/// account, their replies mapped back through `ServiceResponses`). Built when the server starts and again
/// by each reload that changes the accounts; immutable once built (a reload builds a new one).
package struct AccountSharing {
    package internal(set) var streamImports: [StreamImport] = []
    package internal(set) var serviceImports: [ServiceImport] = []
    /// The configured exports (for /accountz).
    package internal(set) var exports: [AccountExport] = []
    /// Where responses to requests this account serves for importers come back (nil: it serves none).
    package internal(set) var responses: ServiceResponses?

    /// Every account's imports and exports from the config (checked by `checkAccountSharing`), by account.
    /// An import that did not change since `previous` (same entry, same exporting account object, same
    /// export terms) keeps its object, and an exporter that still serves importers keeps its
    /// `ServiceResponses`: live shadows, internal subscriptions and reply mappings stay as they are.
    static func build(accounts: [Account], options: ServerOptions,
                      previous: [ObjectIdentifier: AccountSharing] = [:]) -> [ObjectIdentifier: AccountSharing] {
        var byName: [String: Account] = [:]
        for account in accounts { byName[account.name] = account }
        var configs: [String: AccountConfig] = [:]
        for config in options.accounts { configs[config.name] = config }
        var built: [ObjectIdentifier: AccountSharing] = [:]
        for account in accounts { built[ObjectIdentifier(account)] = AccountSharing() }
        // Exporters of services first: every import of one of their services needs their responses.
        for config in options.accounts {
            for entry in config.imports where entry.kind == .service {
                guard let exporter = byName[entry.account], built[ObjectIdentifier(exporter)]?.responses == nil else { continue }
                built[ObjectIdentifier(exporter)]?.responses = previous[ObjectIdentifier(exporter)]?.responses ?? ServiceResponses()
            }
        }
        for config in options.accounts {
            guard let importer = byName[config.name] else { continue }
            let before = previous[ObjectIdentifier(importer)]
            var sharing = built[ObjectIdentifier(importer)] ?? AccountSharing()
            sharing.exports = config.exports
            for entry in config.imports {
                guard let exporter = byName[entry.account] else { continue }
                switch entry.kind {
                case .stream:
                    let kept = before?.streamImports.first { $0.exporter === exporter && $0.config.withoutPosition == entry.withoutPosition }
                    sharing.streamImports.append(kept ?? StreamImport(entry, exporter: exporter, importer: importer))
                case .service:
                    let export = config.exportFor(entry, exporter: configs[entry.account])
                    let responses = built[ObjectIdentifier(exporter)]?.responses ?? ServiceResponses()
                    let made = ServiceImport(entry, exporter: exporter, importer: importer, responses: responses,
                                             responseType: export?.responseType ?? .singleton,
                                             threshold: export?.responseThresholdSeconds ?? 120)
                    let kept = before?.serviceImports.first { $0.isEquivalent(to: made) }
                    sharing.serviceImports.append(kept ?? made)
                }
            }
            built[ObjectIdentifier(importer)] = sharing
        }
        return built
    }
}

extension AccountConfig {
    /// The export of `entry.account` that admits this account's import `entry`.
    func exportFor(_ entry: AccountImport, exporter: AccountConfig?) -> AccountExport? {
        let wanted = SubjectTokens.split(Array(entry.subject.utf8))
        return exporter?.exports.first { export in
            export.kind == entry.kind && export.admits(name)
                && SubjectTokens.covers(SubjectTokens.split(Array(export.subject.utf8)), wanted)
        }
    }
}

/// One stream import: messages of `exporter` on `exported` reach `importer`'s subscriptions on the local
/// subject (`prefix.subject`, `to`, or the subject itself).
package final class StreamImport {
    package unowned(unsafe) let exporter: Account
    package unowned(unsafe) let importer: Account
    package let config: AccountImport
    /// The subject in the exporting account and the one the importing account sees, as tokens.
    let exported: [[UInt8]]
    let local: [[UInt8]]
    private let prefix: [[UInt8]]
    /// Exporting-account subject → importing-account subject, per delivered message.
    let transform: SubjectTransform

    init(_ config: AccountImport, exporter: Account, importer: Account) {
        self.config = config
        self.exporter = exporter
        self.importer = importer
        exported = SubjectTokens.split(Array(config.subject.utf8))
        // `$N` and `{{wildcard(N)}}` in `to` match any token, as `*` does.
        local = SubjectTokens.split(Array(config.localSubject.utf8)).map { token in
            ImportMapping.reference(Substring(decoding: token, as: UTF8.self)) == nil ? token : SubjectTokens.star
        }
        prefix = config.prefix.isEmpty ? [] : SubjectTokens.split(Array(config.prefix.utf8))
        transform = SubjectTransform(source: config.subject, prefix: config.prefix, to: config.to)
    }

    /// The subject a subscription on `subject` in the importing account listens to in the exporting one,
    /// or nil when no imported message can match it. It may be broader than needed (a wildcard `to`):
    /// each delivery is checked against the subscription's own subject (`LoopWorker.deliverImported`).
    func shadowSubject(for subject: [UInt8]) -> [UInt8]? {
        let tokens = SubjectTokens.split(subject)
        guard SubjectTokens.intersect(local, tokens) else { return nil }
        if !prefix.isEmpty {
            // local = prefix + exported: the part of the subscription after the prefix, unless a `>` already
            // swallowed it.
            if tokens.prefix(prefix.count).contains(SubjectTokens.rest) { return SubjectTokens.join(exported) }
            let rest = Array(tokens.dropFirst(prefix.count))
            return SubjectTokens.covers(exported, rest) ? SubjectTokens.join(rest) : SubjectTokens.join(exported)
        }
        if transform.isIdentity && SubjectTokens.covers(exported, tokens) { return subject }
        if let narrowed = narrowedByWildcards(tokens) { return SubjectTokens.join(narrowed) }
        return SubjectTokens.join(exported)
    }

    /// For a `to` whose `*` tokens stand for the exported subject's, in order: the exported subject with
    /// each `*` replaced by what the subscription has at the matching place of `to` (so queue members on
    /// different imported subjects do not share one shadow group). Nil when a `>` makes that unknowable.
    private func narrowedByWildcards(_ tokens: [[UInt8]]) -> [[UInt8]]? {
        guard !config.to.isEmpty, tokens.count == local.count, !local.contains(SubjectTokens.rest),
              !exported.contains(SubjectTokens.rest), !tokens.contains(SubjectTokens.rest) else { return nil }
        let exportedStars = exported.indices.filter { exported[$0] == SubjectTokens.star }
        var narrowed = exported
        var nextStar = 0
        for (localIndex, token) in local.enumerated() {
            // `to` names a source wildcard by number ($N) or takes them in order (`*`).
            var star: Int?
            if localIndex < transform.references.count, let reference = transform.references[localIndex] {
                star = reference
            } else if token == SubjectTokens.star {
                star = nextStar
                nextStar += 1
            }
            guard let star else { continue }
            guard star < exportedStars.count else { return nil }
            narrowed[exportedStars[star]] = tokens[localIndex]
        }
        return narrowed
    }
}

/// One service import: requests the importing account's clients publish on `to` go to the exporting
/// account on the exported subject, with a reply subject there that routes the responses back.
package final class ServiceImport {
    package unowned(unsafe) let exporter: Account
    package unowned(unsafe) let importer: Account
    package let config: AccountImport
    /// The exporter's reply mappings (its `AccountSharing.responses`, held here so a request never looks
    /// for them in a sharing another loop may be replacing).
    let responses: ServiceResponses
    /// Importing-account subject (`to`) → exported subject.
    let transform: SubjectTransform
    let responseType: ServiceResponseType
    /// How long a mapping of `stream`/`chunked` responses lives, in milliseconds (singleton: until the
    /// first response, or this long at most).
    let thresholdMilliseconds: UInt64

    init(_ config: AccountImport, exporter: Account, importer: Account, responses: ServiceResponses,
         responseType: ServiceResponseType, threshold: Double) {
        self.config = config
        self.exporter = exporter
        self.importer = importer
        self.responses = responses
        self.transform = SubjectTransform(source: config.to, to: config.subject)
        self.responseType = responseType
        self.thresholdMilliseconds = UInt64(max(threshold, 0.001) * 1000)
    }

    /// Whether `other` imports the same service on the same terms (where the entry was written aside).
    func isEquivalent(to other: ServiceImport) -> Bool {
        exporter === other.exporter && importer === other.importer && responses === other.responses
            && config.withoutPosition == other.config.withoutPosition && responseType == other.responseType
            && thresholdMilliseconds == other.thresholdMilliseconds
    }
}

/// The reply subjects an exporting account hands out for imported requests (`_R_.<prefix>.<token>`, as
/// nats-server names them) and where each one's responses go. One wildcard interest `_R_.<prefix>.>` in
/// the exporting account draws responses from any node of the cluster back to this one.
///
/// `@unchecked Sendable`: every member is guarded by `lock` (requests and responses are handled on
/// whichever loop they arrive; this is the import path, not the per-message one).
package final class ServiceResponses: @unchecked Sendable {
    /// `_R_.XXXXXX.`: random per account and server.
    let prefix: [UInt8]
    private let lock = PThreadLock()
    private var routes: [[UInt8]: ResponseRoute] = [:]
    private var counter: UInt64 = 0

    struct ResponseRoute {
        unowned(unsafe) let importer: Account
        let reply: [UInt8]
        let singleton: Bool
        let expiresAt: UInt64
    }

    init() {
        prefix = Array(("_R_." + ServerIdentity.newNonce(length: 6) + ".").utf8)
    }

    /// The wildcard subject of this account's responses.
    var wildcard: [UInt8] { prefix + [UInt8(ascii: ">")] }

    /// A new reply subject for a request of `serviceImport` whose requester listens on `reply`.
    func newReply(for serviceImport: ServiceImport, reply: [UInt8], now: UInt64) -> [UInt8] {
        lock.withLock {
            counter &+= 1
            let subject = prefix + Array(String(counter, radix: 36).utf8)
            routes[subject] = ResponseRoute(importer: serviceImport.importer, reply: reply,
                                            singleton: serviceImport.responseType == .singleton,
                                            expiresAt: now &+ serviceImport.thresholdMilliseconds)
            return subject
        }
    }

    /// Where a response on `subject` goes (a singleton's mapping is used up by it); nil when unknown or
    /// expired.
    func route(for subject: ByteSlice, now: UInt64) -> ResponseRoute? {
        let key = subject.array
        return lock.withLock {
            guard let route = routes[key] else { return nil }
            if route.singleton || route.expiresAt <= now { routes.removeValue(forKey: key) }
            return route.expiresAt <= now ? nil : route
        }
    }

    /// Forgets the mapping of `subject` (a request nobody received: nats-server drops it at once too).
    func discard(_ subject: [UInt8]) {
        _ = lock.withLock { routes.removeValue(forKey: subject) }
    }

    /// Drops mappings past their threshold (requests nobody answered); called by housekeeping.
    func sweep(now: UInt64) {
        lock.withLock { routes = routes.filter { $0.value.expiresAt > now } }
    }

    /// Mappings waiting for responses (/accountz).
    var pendingCount: Int { lock.withLock { routes.count } }
}
