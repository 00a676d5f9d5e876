// Fuzzes the HTTP monitoring request path: raw request bytes → HTTPRequestReader (http-parser) →
// MonitorServer.respond(to:) → MonitorResponse.encoded, as one MonitorConnection does, on a server built
// in-process from default options (no listener is started; nothing touches the network).
//
// The bytes are fed in reads cut at input-derived points, each an exact-size buffer. Once the reader
// reports a complete request (or a failure) the connection answers and ignores the rest, as
// MonitorConnection does; every answer must be a well-formed HTTP response whose Content-Length matches
// its body, and the reader must never change its outcome once it is final.
import FuzzSupport
import Logging
@testable import NATSMonitoring
import NATSConfig
import NATSServer

/// One server for the whole run, as in natsd; its loop never runs. One loop: monitoring reads every
/// loop through its inbox and waits for the answer, and other loops' threads are never started here.
// nonisolated(unsafe): Server is loop-confined, and libFuzzer calls the harness from this one thread.
nonisolated(unsafe) let server: Server = {
    do {
        var options = ServerOptions()
        options.loops = 1
        return try Server(options: options, logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
    } catch {
        fatalError("cannot build a server: \(error)")
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMonitoring(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let request = FuzzDriver.bytes(data, size)
    var choices = InputChoices(request)
    let reader = HTTPRequestReader()
    var readStart = 0
    for readEnd in choices.readEnds(count: request.count) {
        let outcome = withExactCopy(of: UnsafeRawBufferPointer(rebasing: request[readStart..<readEnd])) { reader.feed($0) }
        readStart = readEnd
        let response: MonitorResponse
        var includeBody = true
        switch outcome {
        case .incomplete:
            continue
        case .complete(let method, let target):
            // A fresh MonitorServer per input: its request counters would otherwise make each answer
            // depend on every earlier input.
            response = MonitorServer(server: server).respond(to: target)
            includeBody = method != "HEAD"
        case .invalid(.malformed):
            response = .badRequest
        case .invalid(.headerTooLarge):
            response = .headerTooLarge
        case .invalid(.unsupportedVersion):
            response = .unsupportedVersion
        }
        checkResponse(response.encoded(), bodyIncluded: true)
        if !includeBody { checkResponse(response.encoded(includeBody: false), bodyIncluded: false) }
        // Final: further bytes of the connection change nothing.
        let rest = UnsafeRawBufferPointer(rebasing: request[readEnd...])
        precondition(withExactCopy(of: rest) { reader.feed($0) } == outcome, "reader outcome changed after it was final")
        return 0
    }
    return 0
}

/// Status line, headers ending in an empty line, and a body of exactly Content-Length bytes (none for HEAD).
func checkResponse(_ response: [UInt8], bodyIncluded: Bool) {
    let separator = Array("\r\n\r\n".utf8)
    guard let headEnd = response.indices.first(where: { response[$0...].starts(with: separator) }) else {
        preconditionFailure("response without an end of headers")
    }
    let head = String(decoding: response[..<headEnd], as: UTF8.self)
    precondition(head.hasPrefix("HTTP/1.1 "), "response without a status line")
    let lengthLine = head.split(separator: "\r\n").first { $0.hasPrefix("Content-Length: ") }
    guard let lengthLine, let length = Int(lengthLine.dropFirst("Content-Length: ".count)) else {
        preconditionFailure("response without Content-Length")
    }
    let bodyCount = response.count - headEnd - separator.count
    precondition(bodyCount == (bodyIncluded ? length : 0), "Content-Length differs from the body")
}

FuzzDriver.run(fuzzMonitoring)
