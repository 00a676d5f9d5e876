// Fuzzes the HTTP response path of /topologyz: the bytes a peer's monitoring port answers → HTTPResponseReader
// (http-parser in HTTP_RESPONSE mode), as one MonitorFetch reads them, without a socket.
//
// The bytes are fed in reads cut at input-derived points, each an exact-size buffer, then (for most inputs)
// the end of the connection, under a bound that is either MonitorFetch's or one small enough to be reached.
// Checks: the outcome does not depend on how the reads were cut (the same bytes in one read give the same
// answer); once final it never changes; a body is never longer than the bytes read nor than the bound.
import FuzzSupport
@testable import NATSMonitoring

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMonitorResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let response = FuzzDriver.bytes(data, size)
    var choices = InputChoices(response)
    let maxBytes = choices.oneIn(4) ? choices.below(size + 1) : MonitorFetch.maxResponseBytes
    let ended = !choices.oneIn(4)

    let reader = HTTPResponseReader(maxBytes: maxBytes)
    var outcome = HTTPResponseReader.Outcome.incomplete
    var readStart = 0
    for readEnd in choices.readEnds(count: size) {
        let next = withExactCopy(of: UnsafeRawBufferPointer(rebasing: response[readStart..<readEnd])) { reader.feed($0) }
        precondition(outcome == .incomplete || next == outcome, "reader outcome changed after it was final")
        outcome = next
        readStart = readEnd
    }
    if ended {
        let last = reader.end()
        precondition(outcome == .incomplete || last == outcome, "the end of the connection changed a final outcome")
        precondition(last != .incomplete, "the end of the connection left the response incomplete")
        outcome = last
    }

    let whole = HTTPResponseReader(maxBytes: maxBytes)
    var wholeOutcome = withExactCopy(of: response) { whole.feed($0) }
    if ended { wholeOutcome = whole.end() }
    precondition(wholeOutcome == outcome, "outcome depends on how the reads were cut: \(outcome) vs \(wholeOutcome)")

    if case .body(let body) = outcome {
        precondition(body.count <= min(size, maxBytes), "body longer than the bytes read")
    }
    return 0
}

FuzzDriver.run(fuzzMonitorResponse)
