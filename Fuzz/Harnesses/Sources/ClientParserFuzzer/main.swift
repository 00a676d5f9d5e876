// Fuzzes the client protocol parser: the first code to see every byte a client sends.
//
// The input is a client's byte stream. It is parsed once whole and once cut into reads at points derived
// from the input (see InputChoices), the way the connection layer hands the parser the unconsumed tail
// plus each new read, and both parses must agree op for op (ParserFeed). Every slice handed to the
// handler is bounds-checked and read in full, in a buffer of exactly the bytes given, so AddressSanitizer
// catches any read past what the parser was handed.
import FuzzSupport
import NATSConfig
import NATSProtocol

/// The limits a client connection gets with the default options, as Server.init derives them.
let serverLimits = ParserLimits(maxControlLine: ServerOptions().maxControlLine, maxPayload: ServerOptions().maxPayload)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClientParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let stream = FuzzDriver.bytes(data, size)
    var choices = InputChoices(stream)
    // One input in four runs under small configured limits (max_control_line, max_payload), so that
    // both limit checks are reached by short inputs too.
    let limits = choices.oneIn(4)
        ? ParserLimits(maxControlLine: 1 + choices.below(128), maxPayload: choices.below(256))
        : serverLimits
    ParserFeed.checkSplitsAgree(stream, choices: &choices, kind: .client, limits: limits)
    return 0
}

FuzzDriver.run(fuzzClientParser)
