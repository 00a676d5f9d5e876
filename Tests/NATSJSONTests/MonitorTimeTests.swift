import Testing
@testable import NATSJSON

/// `MonitorTime.roundTrip` against Go's `time.Duration.String()` after nats-server's truncation.
@Suite struct MonitorTimeTests {
    @Test(arguments: [
        (UInt64(0), "0s"), (1, "1ns"), (999, "999ns"), (1_000, "1µs"), (1_001, "1µs"), (135_789, "135µs"),
        (999_999, "999µs"), (1_000_000, "1ms"), (1_250_000, "1.25ms"), (1_234_567, "1.234567ms"),
        (999_999_999, "999.999999ms"), (1_000_000_000, "1s"), (2_500_000_000, "2.5s"), (62_000_000_000, "1m2s"),
        (3_723_000_000_001, "1h2m3.000000001s"), (3_600_000_000_000, "1h0m0s"),
    ])
    func roundTripIsGoDuration(nanoseconds: UInt64, text: String) {
        #expect(MonitorTime.roundTrip(nanoseconds: nanoseconds) == text)
    }
}
