import Testing
@testable import NATSServer

/// How lame duck mode spreads its closes (nats-server's `lameDuckMode` arithmetic).
@Suite struct LameDuckScheduleTests {
    @Test func fewClientsArePausedAtMostOneSecondApart() {
        let schedule = LameDuckSchedule(durationSeconds: 120, gracePeriodSeconds: 10, clients: 10)
        #expect(schedule == LameDuckSchedule(intervalMilliseconds: 1000, batch: 1))
    }

    @Test func manyClientsShareWhatIsLeftAfterTheGracePeriod() {
        let schedule = LameDuckSchedule(durationSeconds: 30, gracePeriodSeconds: 10, clients: 400)
        #expect(schedule == LameDuckSchedule(intervalMilliseconds: 50, batch: 1))
    }

    @Test func moreClientsThanMillisecondsAreClosedInBatches() {
        let schedule = LameDuckSchedule(durationSeconds: 30, gracePeriodSeconds: 29, clients: 5000)
        #expect(schedule == LameDuckSchedule(intervalMilliseconds: 1, batch: 5))
        #expect(schedule.pause(afterClose: 0, random: 7) == 0)
        #expect(schedule.pause(afterClose: 1, random: 7) == nil)
        #expect(schedule.pause(afterClose: 5, random: 7) == 0)
    }

    @Test func nothingLeftAfterTheGracePeriodSpreadsOverOneSecond() {
        let schedule = LameDuckSchedule(durationSeconds: 30, gracePeriodSeconds: 30, clients: 4)
        #expect(schedule == LameDuckSchedule(intervalMilliseconds: 250, batch: 1))
    }

    /// A pause is between half the interval and the interval.
    @Test func pausesStayBetweenHalfTheIntervalAndTheInterval() {
        let schedule = LameDuckSchedule(durationSeconds: 120, gracePeriodSeconds: 10, clients: 3)
        var random = FastRandom(seed: 9)
        var pauses: Set<UInt64> = []
        for index in 0..<1000 {
            let pause = schedule.pause(afterClose: index, random: random.next())
            #expect(pause.map { (500..<1000).contains($0) } == true)
            pauses.insert(pause ?? 0)
        }
        #expect(pauses.count > 100)
    }
}
