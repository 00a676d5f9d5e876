import Testing
@testable import NATSMonitoring

/// /connz options: defaults, nats-server's errors, sort order per key, paging.
@Suite struct ConnzOptionsTests {
    private func options(_ text: String) throws -> ConnzOptions {
        try ConnzOptions(query: query("/connz" + text))
    }

    private func error(_ text: String) -> String? { refusal { try options(text) } }

    @Test func defaults() throws {
        let decoded = try options("")
        #expect(decoded == ConnzOptions())
        #expect(decoded.sort == .cid && decoded.offset == 0 && decoded.limit == 1024 && decoded.cid == nil)
        #expect(try options("?sort=&offset=&limit=&cid=&subs=") == ConnzOptions())
        #expect(try options("?=&&") == ConnzOptions())
    }

    @Test func everySortKeyIsAccepted() throws {
        for key in ConnzSortKey.allCases where key != .stop && key != .reason {
            #expect(try options("?sort=\(key.rawValue)").sort == key)
        }
    }

    @Test func offsetAndLimitFallBackLikeNatsServer() throws {
        #expect(try options("?offset=-5").offset == 0)
        #expect(try options("?offset=7").offset == 7)
        #expect(try options("?limit=0").limit == 1024)
        #expect(try options("?limit=-2").limit == 1024)
        #expect(try options("?limit=3").limit == 3)
    }

    @Test func cidSelectsOneConnection() throws {
        let decoded = try options("?cid=5&limit=10")
        #expect(decoded.cid == 5 && decoded.limit == 1)
        #expect(try options("?cid=0").cid == nil)
    }

    @Test func authorizationUserAndAccount() throws {
        let decoded = try options("?auth=1&user=alice&acc=A")
        #expect(decoded.showsAuthorization && decoded.user == "alice" && decoded.account == "A")
        let plain = try options("?auth=false&user=&acc=")
        #expect(!plain.showsAuthorization && plain.user == nil && plain.account == nil)
        #expect(try options("?acc=$G").account == "$G")
    }

    @Test func errorsCarryNatsServerText() {
        #expect(error("?sort=foo") == "invalid sorting option: foo")
        #expect(error("?sort=CID") == "invalid sorting option: CID")
        #expect(error("?sort=stop") == "sort by stop only valid on closed connections")
        #expect(error("?sort=reason") == "sort by reason only valid on closed connections")
        #expect(error("?offset=x") == #"Error decoding int for 'offset': strconv.Atoi: parsing "x": invalid syntax"#)
        #expect(error("?limit=x") == #"Error decoding int for 'limit': strconv.Atoi: parsing "x": invalid syntax"#)
        #expect(error("?cid=x") == #"Error decoding uint64 for 'cid': strconv.ParseUint: parsing "x": invalid syntax"#)
        #expect(error("?subs=x") == #"Error decoding boolean for 'subs': strconv.ParseBool: parsing "x": invalid syntax"#)
    }

    /// nats-server decodes auth, subs, offset, limit, cid, then checks sort: the first bad one is reported.
    @Test func firstBadParameterInNatsServerOrderIsReported() {
        #expect(error("?sort=foo&cid=x&limit=x&offset=x&subs=x&auth=x") ==
            #"Error decoding boolean for 'auth': strconv.ParseBool: parsing "x": invalid syntax"#)
        #expect(error("?sort=foo&cid=x&limit=x&offset=x&subs=x")?.contains("'subs'") == true)
        #expect(error("?sort=foo&cid=x&limit=x&offset=x")?.contains("'offset'") == true)
        #expect(error("?sort=foo&cid=x&limit=x")?.contains("'limit'") == true)
        #expect(error("?sort=foo&cid=x")?.contains("'cid'") == true)
    }

    // MARK: Sorting

    /// Three connections that differ in every value; each key orders them differently from cid.
    private let rows = [
        ConnzMetrics(cid: 1, subscriptions: 2, pendingBytes: 0, inMessages: 3, outMessages: 1, inBytes: 30,
                     outBytes: 900, lastActivity: 500, startedAt: 10, rttNanoseconds: 300),
        ConnzMetrics(cid: 2, subscriptions: 9, pendingBytes: 70, inMessages: 1, outMessages: 8, inBytes: 80,
                     outBytes: 100, lastActivity: 100, startedAt: 20, rttNanoseconds: 900),
        ConnzMetrics(cid: 3, subscriptions: 4, pendingBytes: 10, inMessages: 2, outMessages: 5, inBytes: 10,
                     outBytes: 500, lastActivity: 300, startedAt: 30, rttNanoseconds: 1),
    ]

    /// Closed connections: uptime runs to the stop, `stop` is latest first, `reason` by text.
    private let closedRows = [
        ConnzMetrics(cid: 1, startedAt: 10, stoppedAt: 100, reason: "Stale Connection"),
        ConnzMetrics(cid: 2, startedAt: 20, stoppedAt: 900, reason: "Client Closed"),
        ConnzMetrics(cid: 3, startedAt: 30, stoppedAt: 50, reason: "Maximum Message Payload Exceeded"),
    ]

    private func order(_ key: String, _ rows: [ConnzMetrics]? = nil, state: String = "") throws -> [UInt64] {
        try options("?sort=\(key)" + state).sorted(rows ?? self.rows, now: 1000) { $0 }.map(\.cid)
    }

    @Test func closedOnlyKeysNeedStateClosed() throws {
        #expect(try order("stop", closedRows, state: "&state=closed") == [2, 1, 3])
        #expect(try order("reason", closedRows, state: "&state=closed") == [2, 3, 1])
        #expect(try order("uptime", closedRows, state: "&state=closed") == [3, 1, 2])
        #expect(error("?sort=stop&state=all") == "sort by stop only valid on closed connections")
        #expect(error("?state=open&sort=reason") == "sort by reason only valid on closed connections")
        #expect(error("?state=x&sort=reason") == "Error decoding state for x")
        #expect(try options("?state=ALL").state == .all)
        #expect(try options("?state=any").state == .all)
        #expect(try options("?state=Closed").state == .closed)
    }

    @Test func ordersLikeNatsServer() throws {
        #expect(try order("cid") == [1, 2, 3])
        #expect(try order("start") == [1, 2, 3])
        #expect(try order("subs") == [2, 3, 1])
        #expect(try order("pending") == [2, 3, 1])
        #expect(try order("msgs_to") == [2, 3, 1])
        #expect(try order("msgs_from") == [1, 3, 2])
        #expect(try order("bytes_to") == [1, 3, 2])
        #expect(try order("bytes_from") == [2, 1, 3])
        #expect(try order("last") == [1, 3, 2])
        #expect(try order("idle") == [2, 3, 1])
        #expect(try order("uptime") == [3, 2, 1])
        #expect(try order("rtt") == [2, 1, 3])
    }

    @Test func orderDoesNotDependOnInputOrder() throws {
        for key in ConnzSortKey.allCases where key != .stop && key != .reason {
            #expect(try order(key.rawValue, rows.reversed()) == order(key.rawValue), "\(key)")
        }
    }

    @Test func tiesKeepAscendingCid() throws {
        let tied = (1...5).reversed().map { ConnzMetrics(cid: UInt64($0), subscriptions: 1, lastActivity: 7) }
        for key in ["subs", "pending", "msgs_to", "msgs_from", "bytes_to", "bytes_from", "last", "idle"] {
            #expect(try order(key, tied) == [1, 2, 3, 4, 5], "\(key)")
        }
    }

    // MARK: Paging

    @Test func pageWithinBounds() throws {
        #expect(try options("").page(total: 3) == 0..<3)
        #expect(try options("?offset=1&limit=1").page(total: 3) == 1..<2)
        #expect(try options("?offset=1&limit=5").page(total: 3) == 1..<3)
        #expect(try options("?offset=3").page(total: 3) == 3..<3)
        #expect(try options("?offset=9&limit=2").page(total: 3) == 3..<3)
        #expect(try options("?limit=2").page(total: 0) == 0..<0)
        #expect(try options("?offset=9223372036854775807&limit=9223372036854775807").page(total: 5) == 5..<5)
        #expect(try options("?limit=9223372036854775807").page(total: 5) == 0..<5)
    }

    @Test func pagesCoverTheSortedListOnce() throws {
        let many = (1...10).map { ConnzMetrics(cid: UInt64($0), subscriptions: $0 % 4, lastActivity: UInt64(($0 * 7) % 10)) }
        for key in ["subs", "last", "idle", "uptime"] {
            let all = try order(key, many)
            var paged: [UInt64] = []
            for offset in stride(from: 0, to: 12, by: 3) {
                let page = try options("?sort=\(key)&offset=\(offset)&limit=3")
                paged += Array(page.sorted(many, now: 100) { $0 }[page.page(total: many.count)].map(\.cid))
            }
            #expect(paged == all, "\(key)")
        }
    }
}
