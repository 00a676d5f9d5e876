/// The fixed lines both connection kinds send, built once.
enum ControlLines {
    static let ok: [UInt8] = Array("+OK\r\n".utf8)
    static let ping: [UInt8] = Array("PING\r\n".utf8)
    static let pong: [UInt8] = Array("PONG\r\n".utf8)
}
