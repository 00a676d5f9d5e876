// Fuzzes the route protocol parser: what a peer server (or anything that dials the cluster port) sends,
// RS+/RS-/LS+/LS- with queue weights, RMSG/HMSG/LMSG with reply and queue lists, INFO and CONNECT.
//
// Same method as the client harness (ParserFeed: whole parse vs. parse in reads cut at input-derived
// points, every slice checked and read), with the route parser limits the cluster uses and both forms of
// the route protocol: with the account token (every route natsd makes) and without it (pinned-account
// routes, which the parser supports).
import FuzzSupport
import NATSConfig
import NATSProtocol

/// The limits of a route connection with the default options, as Cluster.init derives them.
let routeLimits: ParserLimits = {
    let options = ServerOptions()
    return ParserLimits.route(
        maxControlLine: options.maxControlLine,
        maxPayload: max(options.maxPending, options.maxPayload, 64 * 1024 * 1024))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRouteParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let stream = FuzzDriver.bytes(data, size)
    var choices = InputChoices(stream)
    var limits = routeLimits
    if choices.oneIn(4) {
        // Small limits, so that short inputs reach both limit checks.
        limits = ParserLimits.route(maxControlLine: 1 + choices.below(16), maxPayload: choices.below(256))
    }
    limits.routeAccountInProtocol = !choices.oneIn(4)
    ParserFeed.checkSplitsAgree(stream, choices: &choices, kind: .route, limits: limits)
    return 0
}

FuzzDriver.run(fuzzRouteParser)
