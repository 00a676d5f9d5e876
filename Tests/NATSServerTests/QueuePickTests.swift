import Testing
@testable import NATSServer

/// The uniform pick among a queue group's local members for routed messages (issue 6 point 6).
@Suite struct QueuePickTests {
    /// How many of `draws` picks each index got.
    private func counts(_ eligible: [Bool], draws: Int, seed: UInt64) -> [Int] {
        var random = FastRandom(seed: seed)
        var counts = [Int](repeating: 0, count: eligible.count)
        for _ in 0..<draws {
            guard let index = random.uniformIndex(count: eligible.count, where: { eligible[$0] }) else {
                Issue.record("no index although some are eligible")
                return counts
            }
            counts[index] += 1
        }
        return counts
    }

    /// Every eligible index within 6 standard deviations of its binomial mean; ineligible ones never.
    private func expectUniform(_ eligible: [Bool], draws: Int, seed: UInt64) {
        let got = counts(eligible, draws: draws, seed: seed)
        let members = Double(eligible.filter { $0 }.count)
        let mean = Double(draws) / members
        let bound = 6 * (Double(draws) * (1 / members) * (1 - 1 / members)).squareRoot()
        for (index, count) in got.enumerated() {
            if eligible[index] {
                #expect(abs(Double(count) - mean) <= bound, "index \(index): \(count), mean \(mean) ± \(bound), all \(got)")
            } else {
                #expect(count == 0, "ineligible index \(index) picked \(count) times")
            }
        }
    }

    @Test func memberAfterARouteEntryGetsNoExtraShare() {
        // Two local members, the route's entry, four more: the issue's group on node A. A pick that
        // skips the route entry to the next member gives index 3 twice the others' share.
        let group = [true, true, false, true, true, true, true]
        for seed: UInt64 in [1, 2, 3] { expectUniform(group, draws: 60_000, seed: seed) }
    }

    @Test func mostlyRouteEntriesFallsBackToCounting() {
        // Two eligible among twenty: most picks exhaust the draws and count.
        var group = [Bool](repeating: false, count: 20)
        group[5] = true
        group[17] = true
        expectUniform(group, draws: 20_000, seed: 7)
    }

    @Test func routeEntriesAtTheEdges() {
        expectUniform([false, true, true, true, false], draws: 30_000, seed: 11)
    }

    @Test func noEligibleIndex() {
        var random = FastRandom(seed: 5)
        #expect(random.uniformIndex(count: 0) { _ in true } == nil)
        #expect(random.uniformIndex(count: 1) { _ in false } == nil)
        #expect(random.uniformIndex(count: 1) { _ in true } == 0)
        #expect(random.uniformIndex(count: 9) { _ in false } == nil)
    }
}
