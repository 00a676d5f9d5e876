import Testing
import NATSProtocol
@testable import NATSJSON

/// `JSON.parse`, for the monitoring documents natsd reads from its peers (`/topologyz`).
@Suite struct JSONParseTests {
    private func parse(_ text: String) -> JSON? { JSON.parse(Array(text.utf8)) }

    @Test func keepsTypesAndOrder() throws {
        let document = try #require(parse(#" {"b":1,"a":[1.5,-2,true,null,"x\u00e9"],"c":{"d":1e3}} "#))
        #expect(document.rendered() == JSON.object([
            ("b", .int(1)),
            ("a", .array([.double(1.5), .int(-2), .bool(true), .null, .string("xé")])),
            ("c", .object([("d", .double(1000))])),
        ]).rendered())
        #expect(document["b"]?.intValue == 1 && document["a"]?.arrayValue?.count == 5)
        #expect(document["missing"] == nil && document["a"]?["b"] == nil && document["b"]?.stringValue == nil)
        #expect(parse("99999999999999999999")?.rendered() == JSON.double(1e20).rendered())
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "01", "{} x", "nul", String(repeating: "[", count: 65) + String(repeating: "]", count: 65)])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(parse(text) == nil)
    }

    @Test func monitorPortTravelsInNatsdInfo() throws {
        var info = ServerInfo()
        info.natsdMonitorPort = 8222
        #expect(info.json().hasSuffix(#","natsd_monitor_port":8222}"#))
        let decoded = try #require(Array(info.json().utf8).withUnsafeBytes { ServerInfo.decode(ByteSlice($0)) })
        #expect(decoded.natsdMonitorPort == 8222)
        #expect(!ServerInfo().json().contains("natsd_monitor_port"))
    }
}
