import NATSLogging
import Testing

/// `-V` traces redact CONNECT secrets as nats-server's do.
@Suite struct TraceRedactionTests {
    @Test func passwordsTokensAndNkeySignaturesAreRedacted() {
        let connect = #"{"verbose":false,"user":"x","pass":"y","auth_token":"secret","nkey":"UABC","sig":"c2ln","name":"app"}"#
        #expect(TraceRedaction.connect(connect)
                == #"{"verbose":false,"user":"x","pass":"[REDACTED]","auth_token":"[REDACTED]","nkey":"[REDACTED]","sig":"[REDACTED]","name":"app"}"#)
    }

    @Test func escapedQuotesAndSpacingStayInsideTheValue() {
        #expect(TraceRedaction.connect(#"{"pass" : "a\"b,c}", "user":"u"}"#) == #"{"pass" : "[REDACTED]", "user":"u"}"#)
    }

    @Test func namesThatOnlyContainSigAreKept() {
        // Names that only contain `sig` (not as the whole name) are not secrets.
        let connect = #"{"design":"x","signature_alg":"y","user":"u"}"#
        #expect(TraceRedaction.connect(connect) == connect)
    }

    @Test func unquotedValuesAreRedacted() {
        #expect(TraceRedaction.connect(#"{"pass":123,"user":"u"}"#) == #"{"pass":[REDACTED],"user":"u"}"#)
    }
}
