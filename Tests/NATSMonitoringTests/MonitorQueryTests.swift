import Testing
@testable import NATSMonitoring

/// Target and query parsing: every input yields a path and parameters or a clean rejection.
@Suite struct MonitorQueryTests {
    private func target(_ text: String) throws -> MonitorTarget {
        try #require(MonitorTarget(text))
    }

    private func pairs(_ text: String) throws -> [String] {
        try target(text).query.items.map { "\($0.name)=\($0.value)" }
    }

    @Test func splitsPathAndQuery() throws {
        let parsed = try target("/connz?sort=idle&limit=2")
        #expect(parsed.path == "/connz")
        #expect(parsed.query.value("sort") == "idle")
        #expect(parsed.query.value("limit") == "2")
        #expect(parsed.query.value("offset") == "")
        #expect(try target("/varz").query.items.isEmpty)
        #expect(try target("http://127.0.0.1:8222/routez?subs=1").path == "/routez")
    }

    /// Go's url.ParseQuery keeps up to 10 000 parameters and ignores a longer query whole (nats-server then
    /// serves defaults: `limit=1` followed by 10 000 more pairs gives the default limit).
    @Test func aQueryOverTenThousandParametersIsIgnoredWhole() throws {
        let within = "/connz?limit=1&" + Array(repeating: "x=1", count: 9_999).joined(separator: "&")
        #expect(try target(within).query.value("limit") == "1")
        #expect(try target(within + "&x=1").query.items.isEmpty)
        #expect(try target("/connz?limit=1" + String(repeating: "&", count: 1_040_000)).query.items.isEmpty)
    }

    /// Go's url.ParseQuery drops a pair containing `;`, and a request target keeps `#` (no fragment).
    @Test func semicolonPairsAreDroppedAndHashIsKept() throws {
        #expect(try target("/connz?limit=1;x=1&sort=idle").query.value("limit") == "")
        #expect(try target("/connz?limit=1;x=1&sort=idle").query.value("sort") == "idle")
        #expect(try target("/connz?limit=1#x").query.value("limit") == "1#x")
        #expect(try target("/connz#x").path == "/connz#x")
    }

    /// Issue 6: these targets indexed an empty array in natsd's hand-made parser and killed the server.
    @Test(arguments: ["/connz?=", "/varz?=", "/connz?&&&", "/connz?==", "/connz?&", "/connz?"])
    func emptyPairsNeverMatchAParameter(text: String) throws {
        let parsed = try target(text)
        #expect(parsed.path.hasPrefix("/"))
        #expect(parsed.query.items.allSatisfy { $0.name.isEmpty })
        #expect(parsed.query.value("sort") == "")
    }

    @Test func keepsEmptyPairsAndValuelessNames() throws {
        #expect(try pairs("/routez?a=1&=&b") == ["a=1", "=", "b="])
        #expect(try pairs("/connz?&&&") == ["=", "=", "=", "="])
        #expect(try pairs("/connz?x==y") == ["x==y"])
    }

    @Test func decodesLikeAForm() throws {
        #expect(try target("/connz?sort=msgs%5Fto").query.value("sort") == "msgs_to")
        #expect(try target("/connz?name=a+b%2Bc").query.value("name") == "a b+c")
        #expect(try target("/connz?%73ort=idle").query.value("sort") == "idle")
    }

    @Test func firstValueWins() throws {
        #expect(try target("/connz?sort=idle&sort=subs").query.value("sort") == "idle")
    }

    @Test func strayBytesInTheQueryAreKeptAsText() throws {
        #expect(try target("/connz?%zz").path == "/connz")
        #expect(try target("/connz?sort=idle&%zz").query.value("sort") == "idle")
        #expect(try target("/connz?x=%").query.value("x") == "%")
    }

    @Test func pairsThatAreNotUTF8AreDropped() throws {
        #expect(try pairs("/connz?%E9=1&sort=idle") == ["sort=idle"])
    }

    @Test(arguments: ["/conn%zz", "/a b", "/x\u{7f}", "/conn%"])
    func invalidPathIsRejected(text: String) {
        #expect(MonitorTarget(text) == nil)
    }

    @Test func longTargetsParse() throws {
        let long = "/varz?" + String(repeating: "a=1&", count: 9_999)
        #expect(try target(long).query.items.count == 10_000)
    }

    @Test func intFollowsGoAtoi() throws {
        let query = try target("/connz?a=12&b=-3&c=%2B4&d=abc&e=1.5&f=99999999999999999999&g=-&h=&i=1_0").query
        #expect(try query.int("a") == 12)
        #expect(try query.int("b") == -3)
        #expect(try query.int("c") == 4)
        #expect(try query.int("h") == nil)
        #expect(try query.int("missing") == nil)
        #expect(throws: MonitorRequestError(message: #"Error decoding int for 'd': strconv.Atoi: parsing "abc": invalid syntax"#)) {
            try query.int("d")
        }
        #expect(throws: MonitorRequestError(message: #"Error decoding int for 'e': strconv.Atoi: parsing "1.5": invalid syntax"#)) {
            try query.int("e")
        }
        #expect(throws: MonitorRequestError(message: #"Error decoding int for 'f': strconv.Atoi: parsing "99999999999999999999": value out of range"#)) {
            try query.int("f")
        }
        #expect(throws: MonitorRequestError.self) { try query.int("g") }
        #expect(throws: MonitorRequestError.self) { try query.int("i") }
    }

    @Test func plusIsASpaceSoNotASign() throws {
        #expect(throws: MonitorRequestError(message: #"Error decoding int for 'a': strconv.Atoi: parsing " 4": invalid syntax"#)) {
            try target("/connz?a=+4").query.int("a")
        }
    }

    @Test func uint64FollowsGoParseUint() throws {
        let query = try target("/connz?a=7&b=-1&c=%2B1&d=18446744073709551616&e=18446744073709551615").query
        #expect(try query.uint64("a") == 7)
        #expect(try query.uint64("e") == UInt64.max)
        #expect(throws: MonitorRequestError(message: #"Error decoding uint64 for 'b': strconv.ParseUint: parsing "-1": invalid syntax"#)) {
            try query.uint64("b")
        }
        #expect(throws: MonitorRequestError.self) { try query.uint64("c") }
        #expect(throws: MonitorRequestError(message: #"Error decoding uint64 for 'd': strconv.ParseUint: parsing "18446744073709551616": value out of range"#)) {
            try query.uint64("d")
        }
    }

    @Test func boolFollowsGoParseBool() throws {
        for text in ["1", "t", "T", "TRUE", "true", "True"] {
            #expect(try target("/subsz?subs=\(text)").query.bool("subs"))
        }
        for text in ["0", "f", "F", "FALSE", "false", "False", ""] {
            #expect(try !target("/subsz?subs=\(text)").query.bool("subs"))
        }
        #expect(try !target("/subsz").query.bool("subs"))
        #expect(throws: MonitorRequestError(message: #"Error decoding boolean for 'subs': strconv.ParseBool: parsing "yes": invalid syntax"#)) {
            try target("/subsz?subs=yes").query.bool("subs")
        }
        #expect(throws: MonitorRequestError(message: #"Error decoding boolean for 'subs': strconv.ParseBool: parsing "a\"b": invalid syntax"#)) {
            try target("/subsz?subs=a%22b").query.bool("subs")
        }
    }

    @Test func subsAcceptsDetailInAnyCase() throws {
        #expect(try target("/connz?subs=detail").query.listsSubscriptions())
        #expect(try target("/connz?subs=DeTaIl").query.listsSubscriptions())
        #expect(try !target("/connz?subs=0").query.listsSubscriptions())
        #expect(throws: MonitorRequestError.self) { try target("/connz?subs=details").query.listsSubscriptions() }
    }
}
