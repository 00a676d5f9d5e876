// Fuzzes the CONNECT and INFO JSON decoders: the argument of a client's or route's CONNECT, and of a
// peer server's INFO (handshake and gossip), exactly as the connection handlers call them.
//
// The input is the JSON text (the part after the verb). Besides "no crash, no overread", it checks that
// what natsd would send back is well formed: a decoded INFO re-encodes (ServerInfo.json, which natsd
// uses to relay gossip) to JSON that decodes again to the same INFO, and a CONNECT likewise
// (ConnectOptions.encode). Peer-controlled strings pass through both, so a quoting bug would show here.
import FuzzSupport
import NATSJSON
import NATSProtocol

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConnectInfo(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    withExactCopy(of: FuzzDriver.bytes(data, size)) { buffer in
        let json = ByteSlice(buffer)
        checkConnect(json)
        checkInfo(json)
    }
    return 0
}

/// Client and route CONNECT (both decoded over the client defaults, as the connection handlers do): a
/// decoded CONNECT re-encodes (ConnectOptions.encode, natsd's route CONNECT) to JSON that decodes to the
/// same encoding.
func checkConnect(_ json: ByteSlice) {
    guard let options = ConnectOptions.decode(json) else { return }
    let encoded = options.encode()
    guard let again = withBytes(of: encoded, { ConnectOptions.decode($0) }) else {
        preconditionFailure("CONNECT re-encodes to JSON it cannot decode: \(encoded)")
    }
    precondition(again.encode() == encoded, "CONNECT changes on a second round trip: \(encoded)")
}

/// Route and client INFO: a decoded INFO re-encodes to JSON that decodes to an INFO with the same encoding.
func checkInfo(_ json: ByteSlice) {
    guard let info = ServerInfo.decode(json) else { return }
    let encoded = info.json()
    guard let again = withBytes(of: encoded, { ServerInfo.decode($0) }) else {
        preconditionFailure("INFO re-encodes to JSON it cannot decode: \(encoded)")
    }
    precondition(again.json() == encoded, "INFO changes on a second round trip: \(encoded)")
    precondition(again.line().starts(with: Array("INFO ".utf8)), "INFO line does not start with the verb")
    precondition(!encoded.utf8.contains(0x0A), "INFO JSON contains a newline, which would end the control line")
}

/// Runs `body` with a slice over the UTF-8 bytes of `text`.
func withBytes<Result>(of text: String, _ body: (ByteSlice) -> Result) -> Result {
    Array(text.utf8).withUnsafeBytes { body(ByteSlice($0)) }
}

FuzzDriver.run(fuzzConnectInfo)
