import NATSProtocol

/// The error-level log line nats-server writes when its parser rejects a peer's input (parser.go's
/// `parseErr` and the `process*` argument checks of client.go), formatted from what `ProtocolParser`
/// reported. Only error paths come here, so the strings cost nothing per message.
enum ProtocolComplaint {
    /// How many bytes of the input the "parser ERROR" line quotes (nats-server's PROTO_SNIPPET_SIZE).
    static let snippetSize = 32

    /// The text after the connection's label, or nil when `error` is logged elsewhere or not at all.
    /// `input` is the buffer the parser was given and `failedAt` the offset of the op it failed on; `kind`
    /// names the connection as nats-server's `kindString` does ("Client", "Router").
    static func text(for error: ProtocolError, input: UnsafeRawBufferPointer, failedAt: Int, kind: String) -> String? {
        let quoted = { () -> String in
            let start = min(error.quotedStart, input.count)
            let end = min(start + error.quotedCount, input.count)
            return GoQuote.quoted(UnsafeRawBufferPointer(rebasing: input[start..<end]))
        }
        switch error.complaint {
        case .none: return nil
        case .parserError:
            // nats-server's parser is a byte-wise state machine and reports its state number and the byte
            // it stopped at; natsd's parser works on whole ops and stops at the op's start, so natsd logs
            // state 0 and the op's offset, and quotes from there. Same words, same snippet rule (up to 32
            // bytes, one short of the buffer's end when it reaches it, as protoSnippet cuts it).
            return "\(kind) parser ERROR, state=0, i=\(failedAt): proto='\(snippet(input, from: failedAt))...'"
        case .pubArguments: return "processPub Parse Error: \(quoted())"
        case .pubSize: return "processPub Bad or Missing Size: \(quoted())"
        case .headerPubArguments: return "processHeaderPub Parse Error: \(quoted())"
        case .headerPubHeaderSize: return "processHeaderPub Bad or Missing Header Size: \(quoted())"
        case .headerPubTotalSize: return "processHeaderPub Bad or Missing Total Size: \(quoted())"
        case .headerPubHeaderOverTotal: return "processHeaderPub Header Size larger then TotalSize: \(quoted())"
        case .subArguments: return "processSub Parse Error: \(quoted())"
        case .unsubArguments: return "processUnsub Parse Error: \(quoted())"
        case .emptyJSON: return "unexpected end of JSON input"
        }
    }

    /// Go's `%q` of input[start ..< start+32], cut one byte short when that runs past the end.
    static func snippet(_ input: UnsafeRawBufferPointer, from start: Int) -> String {
        guard start < input.count else { return "\"\"" }
        var stop = start + snippetSize
        if stop > input.count { stop = input.count - 1 }
        return GoQuote.quoted(UnsafeRawBufferPointer(rebasing: input[start..<max(start, stop)]))
    }
}
