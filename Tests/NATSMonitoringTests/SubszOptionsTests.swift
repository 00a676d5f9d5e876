import Testing
@testable import NATSMonitoring

/// /subsz options: defaults, the `acc` and `test` filters, nats-server's errors and paging.
@Suite struct SubszOptionsTests {
    private func options(_ text: String) throws -> SubszOptions {
        try SubszOptions(query: query("/subsz" + text))
    }

    private func error(_ text: String) -> String? { refusal { try options(text) } }

    @Test func defaults() throws {
        let decoded = try options("")
        #expect(decoded == SubszOptions())
        #expect(!decoded.listsSubscriptions && decoded.offset == 0 && decoded.limit == 1024)
        #expect(decoded.account == nil && decoded.test == nil)
        #expect(try options("?subs=&offset=&limit=&test=&acc=") == SubszOptions())
    }

    @Test func filtersAndPaging() throws {
        let decoded = try options("?subs=true&offset=2&limit=5&acc=B&test=foo.bar")
        #expect(decoded.listsSubscriptions && decoded.offset == 2 && decoded.limit == 5)
        #expect(decoded.account == "B" && decoded.test == "foo.bar")
        #expect(try options("?offset=-3&limit=0") == SubszOptions())
    }

    /// `test` is a subject a message could be published to: no wildcard, no empty token.
    @Test func testSubjectMustBeLiteral() {
        for subject in ["foo.*", ">", "foo.>", "foo..bar", ".foo", "foo bar"] {
            #expect(error("?test=\(subject.replacingOccurrences(of: " ", with: "%20"))")
                == "invalid test subject, must be valid publish subject: \(subject)", "\(subject)")
        }
        #expect(error("?test=foo.bar*") == nil)
    }

    /// nats-server decodes subs, offset, limit, then checks test: the first bad one is reported.
    @Test func firstBadParameterInNatsServerOrderIsReported() {
        #expect(error("?test=*&limit=x&offset=x&subs=x")?.contains("'subs'") == true)
        #expect(error("?test=*&limit=x&offset=x")?.contains("'offset'") == true)
        #expect(error("?test=*&limit=x")?.contains("'limit'") == true)
        #expect(error("?test=*")?.hasPrefix("invalid test subject") == true)
    }

    @Test func pageWithinBounds() throws {
        #expect(try options("?offset=1&limit=2").page(total: 5) == 1..<3)
        #expect(try options("?offset=4&limit=2").page(total: 5) == 4..<5)
        #expect(try options("?offset=9").page(total: 5) == 5..<5)
        #expect(MonitorPage.range(offset: -1, limit: -1, total: 3) == 0..<0)
    }
}
