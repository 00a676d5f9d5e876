/// One HTTP response of the monitor. Every response closes the connection (`Connection: close`):
/// natsd answers one request per connection.
struct MonitorResponse: Equatable {
    /// Status code and reason, e.g. `200 OK`.
    var status: String
    var contentType: String
    var body: String

    /// A JSON document (nats-server also allows any origin, so browser dashboards can read it).
    static func json(_ body: String) -> MonitorResponse {
        MonitorResponse(status: "200 OK", contentType: "application/json", body: body)
    }

    /// A plain-text error, e.g. `400 Bad Request` with `invalid sorting option: foo`.
    static func text(_ status: String, _ body: String) -> MonitorResponse {
        MonitorResponse(status: status, contentType: "text/plain; charset=utf-8", body: body)
    }

    static let notFound = text("404 Not Found", "404 page not found\n")
    /// For a request http_parser rejects or whose target is not a URL (Go's net/http text).
    static let badRequest = text("400 Bad Request", "400 Bad Request")
    /// For a request of an HTTP version other than 1.x (Go's net/http status line).
    static let unsupportedVersion = text("505 HTTP Version Not Supported", "505 HTTP Version Not Supported")
    /// For request headers over the parser's limit (Go's net/http text).
    static let headerTooLarge = text("431 Request Header Fields Too Large", "431 Request Header Fields Too Large")

    /// The bytes on the wire; `includeBody` is false for HEAD, whose response carries the headers only.
    func encoded(includeBody: Bool = true) -> [UInt8] {
        let payload = Array(body.utf8)
        var head = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\n"
        if contentType == "application/json" { head += "Access-Control-Allow-Origin: *\r\n" }
        head += "Content-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + (includeBody ? payload : [])
    }
}
