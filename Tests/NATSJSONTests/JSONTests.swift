import Testing
import NATSProtocol
@testable import NATSJSON

func decodeConnect(_ json: String, over defaults: ConnectOptions = ConnectOptions()) -> ConnectOptions? {
    Array(json.utf8).withUnsafeBytes { ConnectOptions.decode(ByteSlice($0), over: defaults) }
}

func decodeInfo(_ json: String) -> ServerInfo? {
    Array(json.utf8).withUnsafeBytes { ServerInfo.decode(ByteSlice($0)) }
}

/// Captured INFO lines of §1.1 and §2.2 (nats-server 2.15.1), without `INFO ` and ` \r\n`.
let capturedInfos = [
    #"{"server_id":"NA4GHLEMXMAHB4KVPF4ZF5FLD5X55VHVUXJ4UZKYKHPJ5DR5KRXQ4XW7","server_name":"NA4GHLEMXMAHB4KVPF4ZF5FLD5X55VHVUXJ4UZKYKHPJ5DR5KRXQ4XW7","version":"2.15.1","proto":1,"git_commit":"b2fd3ef","go":"go1.27.2","host":"127.0.0.1","port":14222,"headers":true,"max_payload":1048576,"client_id":5,"client_ip":"127.0.0.1","api_lvl":5,"xkey":"XA455OXICBDKNDWDDNKRDLAMWJKATVOWXLLB27A5IJ6342QQNXQGUXRG"}"#,
    #"{"server_id":"NDPTHZVH6","server_name":"g1","version":"2.15.1","proto":1,"git_commit":"b2fd3ef","go":"go1.27.2","host":"127.0.0.1","port":15031,"headers":true,"max_payload":1048576,"client_id":7,"client_ip":"127.0.0.1","cluster":"G","connect_urls":["127.0.0.1:15031","127.0.0.1:15032","127.0.0.1:15033"],"api_lvl":5,"xkey":"X"}"#,
    #"{"server_id":"NDAG5YWPLHYGRU7JR2UO3NRTH6WBXNDK55JX5V23DC73RDWHF3HXEISP","server_name":"srvA","version":"2.15.1","proto":3,"go":"go1.27.2","host":"127.0.0.1","port":16001,"headers":true,"max_payload":1048576,"nonce":"DVsVHNgQSTZQhw4","cluster":"C","connect_urls":["127.0.0.1:15001"],"compression":"accept","lnoc":true,"lnocu":true,"ln":true,"route_pool_size":3}"#,
    #"{"server_id":"NCURRGOJGYR6ZRHQT2ZIVCBDHRV3ACPH3LJZOTAR4NURGVLEZH2QCTCZ","server_name":"npA","version":"2.15.1","proto":3,"go":"go1.27.2","host":"127.0.0.1","port":16011,"headers":true,"max_payload":1048576,"nonce":"NfEn6gwh4yFi0xE","cluster":"NP","connect_urls":["127.0.0.1:15011"],"compression":"off","lnoc":true,"lnocu":true,"ln":true}"#,
    #"{"server_id":"NBSU","server_name":"g3","version":"2.15.1","proto":3,"go":"go1.27.2","host":"127.0.0.1","port":16033,"headers":true,"max_payload":1048576,"ip":"nats-route://127.0.0.1:16033/","cluster":"G","connect_urls":["127.0.0.1:15033"],"compression":"off","lnoc":true,"lnocu":true,"ln":true,"gossip_mode":2}"#,
    #"{"server_id":"N","server_name":"g1","version":"2.15.1","proto":1,"go":"go1.27.2","host":"127.0.0.1","port":15031,"headers":true,"auth_required":true,"max_payload":1048576,"client_id":7,"cluster":"G","connect_urls":["127.0.0.1:15032","127.0.0.1:15031"],"ldm":true,"connect_info":true,"remote_account":"$G","api_lvl":5}"#,
]

@Suite struct ConnectOptionsTests {
    @Test func clientDefaultsAreVerbosePedanticEcho() throws {
        let options = try #require(decodeConnect("{}"))
        #expect(options.verbose && options.pedantic && options.echo)
        #expect(options.protocolVersion == 0 && !options.headers && !options.hasAccount)
        #expect(decodeConnect("null") == ConnectOptions())
    }

    @Test func decodesClientFields() throws {
        let json = #"{"verbose":false,"pedantic":false,"tls_required":false,"name":"mon-test","lang":"python","version":"2.0","protocol":1,"echo":false,"headers":true,"no_responders":true,"user":"u","pass":"p","auth_token":"t","Unknown":[1,{"a":null}],"sig":"s","jwt":"j","nkey":"k"}"#
        let options = try #require(decodeConnect(json))
        #expect(!options.verbose && !options.pedantic && !options.echo)
        #expect(options.name == "mon-test" && options.lang == "python" && options.version == "2.0")
        #expect(options.protocolVersion == 1 && options.headers && options.noResponders)
        #expect(options.user == "u" && options.pass == "p" && options.authToken == "t")
        #expect(options.sig == "s" && options.jwt == "j" && options.nkey == "k")
    }

    @Test func keysMatchCaseInsensitivelyAndNullKeepsDefaults() throws {
        let options = try #require(decodeConnect(#"{"VERBOSE":false,"pedantic":null}"#))
        #expect(!options.verbose && options.pedantic)
    }

    @Test func obsoleteAccountFieldsAreFlagged() {
        #expect(decodeConnect(#"{"account":"A"}"#)?.hasAccount == true)
        #expect(decodeConnect(#"{"new_account":true}"#)?.hasAccount == true)
        #expect(decodeConnect(#"{"account":""}"#)?.hasAccount == false)
    }

    @Test(arguments: [
        "{bad", "", "[]", "1", #"{"verbose":1}"#, #"{"protocol":"1"}"#, #"{"protocol":1.0}"#, #"{"protocol":1e0}"#,
        #"{"name":5}"#, #"{"verbose":true,}"#, #"{"a":1} x"#, #"{"a":"\x"}"#, "{\"a\":\"\u{01}\"}", #"{"a":01}"#,
        #"{"protocol":99999999999999999999}"#,
    ])
    func rejectsMalformedOrMistypedJSON(_ json: String) {
        #expect(decodeConnect(json) == nil)
    }

    @Test func routeConnectMatchesCapture() throws {
        var options = ConnectOptions()
        options.verbose = false
        options.pedantic = false
        options.headers = true
        options.name = "ND3NZE45EB46PGA7UHS4R2PCHPJKDED75K4MAPUQNJ3PGXOW5K4LSPXZ"
        options.cluster = "C"
        options.lnoc = true
        options.ln = true
        let captured = #"{"echo":true,"verbose":false,"pedantic":false,"tls_required":false,"headers":true,"name":"ND3NZE45EB46PGA7UHS4R2PCHPJKDED75K4MAPUQNJ3PGXOW5K4LSPXZ","cluster":"C","lnoc":true,"ln":true}"#
        #expect(options.encode() == captured)
        #expect(options.line() == bytes("CONNECT \(captured)\r\n"))
        #expect(decodeConnect(captured) == options)

        var plain = ConnectOptions()
        plain.verbose = false
        plain.pedantic = false
        plain.user = "ru"
        plain.pass = "rp"
        plain.headers = true
        plain.name = "X"
        plain.cluster = "N"
        #expect(plain.encode() == #"{"echo":true,"verbose":false,"pedantic":false,"user":"ru","pass":"rp","tls_required":false,"headers":true,"name":"X","cluster":"N"}"#)
    }
}

@Suite struct ServerInfoTests {
    @Test(arguments: capturedInfos)
    func roundTripsCapturedInfoByteForByte(_ json: String) throws {
        let info = try #require(decodeInfo(json))
        #expect(info.json() == json)
        #expect(info.line() == bytes("INFO \(json) \r\n"))
    }

    @Test func decodesFields() throws {
        let info = try #require(decodeInfo(capturedInfos[1]))
        #expect(info.serverName == "g1" && info.proto == 1 && info.port == 15031 && info.headers)
        #expect(info.maxPayload == 1_048_576 && info.clientID == 7 && info.cluster == "G")
        #expect(info.connectURLs == ["127.0.0.1:15031", "127.0.0.1:15032", "127.0.0.1:15033"])
        let route = try #require(decodeInfo(capturedInfos[4]))
        #expect(route.ip == "nats-route://127.0.0.1:16033/" && route.gossipMode == 2 && route.ln && route.lnoc)
        #expect(try #require(decodeInfo(capturedInfos[2])).routePoolSize == 3)
    }

    @Test func buildsClientInfoInGoOrder() {
        var info = ServerInfo()
        info.serverID = "ID"
        info.serverName = "n"
        info.version = "2.10.0"
        info.proto = 1
        info.goVersion = "swift"
        info.host = "0.0.0.0"
        info.port = 4222
        info.headers = true
        info.authRequired = true
        info.maxPayload = 1_048_576
        info.clientID = 3
        info.clientIP = "127.0.0.1"
        #expect(info.json() == #"{"server_id":"ID","server_name":"n","version":"2.10.0","proto":1,"go":"swift","host":"0.0.0.0","port":4222,"headers":true,"auth_required":true,"max_payload":1048576,"client_id":3,"client_ip":"127.0.0.1"}"#)
        #expect(ServerInfo().json() == #"{"server_id":"","server_name":"","version":"","proto":0,"go":"","host":"","port":0,"headers":false,"max_payload":0}"#)
        #expect(Array(info.gossipLine().suffix(3)) == bytes("}\r\n"))
    }

    @Test func permissionsAndEscapingFollowGo() throws {
        var info = ServerInfo()
        info.serverName = "a<b>&\"\\\n\u{01}\u{2028}é"
        info.importPermissions = SubjectPermissions(allow: ["foo.>"], deny: [])
        info.exportPermissions = SubjectPermissions(allow: [], deny: ["_SYS.>"])
        let json = info.json()
        #expect(json.contains(#""server_name":"a\u003cb\u003e\u0026\"\\\n\u0001\u2028é""#))
        #expect(json.contains(#""import":{"allow":["foo.>"]},"export":{"deny":["_SYS.>"]}"#) == false)
        #expect(json.contains(#""import":{"allow":["foo.\u003e"]},"export":{"deny":["_SYS.\u003e"]}"#))
        #expect(try #require(decodeInfo(json)) == info)
    }

    @Test(arguments: ["{", #"{"port":"1"}"#, #"{"connect_urls":"x"}"#, #"{"max_payload":3000000000}"#, #"{"gossip_mode":256}"#, #"{"import":[]}"#])
    func rejectsBadInfo(_ json: String) {
        #expect(decodeInfo(json) == nil)
    }

    @Test func unknownKeysAreIgnored() {
        #expect(decodeInfo(#"{"server_id":"x","gateway_cmd":1,"something":{"deep":[true]}}"#)?.serverID == "x")
    }
}

/// The UTF-8 bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
