import Testing
@testable import NATSServer

/// How a refused TLS handshake is logged: nats-server's (Go's) words where OpenSSL means the same, and its
/// level (client.go `doTLSHandshake`, `isClientProbeTLSHandshakeError`). test_tls.py checks the lines against
/// both servers.
@Suite struct TLSHandshakeFailureTests {
    @Test(arguments: ["wrong version number", "http request", "https proxy request"])
    func aFirstRecordThatIsNotTLSIsAProbeInGoWords(_ reason: String) {
        let failure = TLSHandshakeFailure(reason: reason, beforeSpeaking: true, isRoute: false)
        #expect(failure == TLSHandshakeFailure(text: "TLS handshake error: tls: first record does not look like a TLS handshake",
                                               isProbe: true))
        // On the cluster port the same words, always an error.
        let route = TLSHandshakeFailure(reason: reason, beforeSpeaking: true, isRoute: true)
        #expect(route == TLSHandshakeFailure(text: "TLS route handshake error: tls: first record does not look like a TLS handshake",
                                             isProbe: false))
    }

    @Test func laterFailuresKeepOpenSSLsWordsAndAreErrors() {
        // A wrong version after this side spoke TLS is not the plaintext case.
        #expect(TLSHandshakeFailure(reason: "wrong version number", beforeSpeaking: false, isRoute: false)
            == TLSHandshakeFailure(text: "TLS handshake error: wrong version number", isProbe: false))
        #expect(TLSHandshakeFailure(reason: "certificate verify failed", beforeSpeaking: false, isRoute: false)
            == TLSHandshakeFailure(text: "TLS handshake error: certificate verify failed", isProbe: false))
        #expect(TLSHandshakeFailure(reason: "no shared cipher", beforeSpeaking: true, isRoute: false).isProbe == false)
    }

    @Test func timeoutsAndEndsOfTheConnection() {
        #expect(TLSHandshakeFailure(reason: "timeout", beforeSpeaking: false, isRoute: false)
            == TLSHandshakeFailure(text: "TLS handshake timeout", isProbe: true))
        #expect(TLSHandshakeFailure(reason: "timeout", beforeSpeaking: false, isRoute: true)
            == TLSHandshakeFailure(text: "TLS handshake timeout", isProbe: false))
        #expect(TLSHandshakeFailure(reason: nil, beforeSpeaking: false, isRoute: false)
            == TLSHandshakeFailure(text: "TLS handshake error: EOF", isProbe: false))
    }
}
