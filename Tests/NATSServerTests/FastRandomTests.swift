import Testing
@testable import NATSServer

@Suite struct FastRandomTests {
    @Test func staysInRangeAndSpreads() {
        var random = FastRandom(seed: 42)
        var counts = [Int](repeating: 0, count: 5)
        for _ in 0..<5000 {
            let value = random.next(below: 5)
            #expect((0..<5).contains(value))
            counts[value] += 1
        }
        #expect(counts.allSatisfy { $0 > 800 })
    }
}
