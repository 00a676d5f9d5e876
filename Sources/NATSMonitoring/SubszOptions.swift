import NATSProtocol

/// The decoded query of a /subsz request, with nats-server's defaults and checks (`HandleSubsz`, `Subsz`).
struct SubszOptions: Equatable, Sendable {
    /// nats-server's `DefaultSubListSize`: the page size when `limit` is absent or not positive.
    static let defaultLimit = 1024

    /// `subs`: list the subscriptions (a page of them), not only the figures.
    var listsSubscriptions = false
    /// First subscription of the page; negative values count as 0.
    var offset = 0
    var limit = SubszOptions.defaultLimit
    /// `acc`: only this account's figures and subscriptions (nil: every account). An unknown name selects
    /// nothing, as in nats-server: zero figures, no error.
    var account: String?
    /// `test`: only subscriptions a message published to this literal subject would reach.
    var test: String?

    init() {}

    /// Decodes `subs`, `offset`, `limit`, `test` and `acc`, in nats-server's order, so the first bad one is
    /// the one reported.
    /// - Throws: `MonitorRequestError` with nats-server's text: a parameter that does not decode
    ///   (`Error decoding boolean for 'subs': …`), or a `test` subject that is not a valid publish subject
    ///   (`invalid test subject, must be valid publish subject: foo.*`).
    init(query: MonitorQuery) throws(MonitorRequestError) {
        listsSubscriptions = try query.bool("subs")
        offset = max(try query.int("offset") ?? 0, 0)
        if let limit = try query.int("limit"), limit > 0 { self.limit = limit }
        let test = query.value("test")
        if !test.isEmpty {
            let valid = Array(test.utf8).withUnsafeBytes { SubjectValidator.isValidLiteral(ByteSlice($0)) }
            guard valid else {
                throw MonitorRequestError(message: "invalid test subject, must be valid publish subject: \(test)")
            }
            self.test = test
        }
        let account = query.value("acc")
        self.account = account.isEmpty ? nil : account
    }

    /// The index range of the requested page among `total` subscriptions.
    func page(total: Int) -> Range<Int> { MonitorPage.range(offset: offset, limit: limit, total: total) }
}

/// Paging of the monitoring lists (/connz connections, /subsz subscriptions), as nats-server's
/// `minoff`/`maxoff`.
enum MonitorPage {
    /// The index range of the page that starts at `offset` and holds at most `limit` of `total` items: empty
    /// when `offset` is past the end, shorter than `limit` at the end.
    static func range(offset: Int, limit: Int, total: Int) -> Range<Int> {
        let start = min(max(offset, 0), total)
        return start..<(start + min(max(limit, 0), total - start))
    }
}
