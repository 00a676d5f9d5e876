import Testing
@testable import NATSServer

@Suite struct RouteSlotsTests {
    @Test func oneLoopSpreadsClientsOverThePoolByID() {
        for id in UInt64(0)..<30 {
            #expect(RouteSlots.slot(forClient: id, onLoop: 0, poolSize: 3, offset: 7, loops: 1) == Int(id % 3))
        }
        #expect(RouteSlots.loop(ofSlot: 2, offset: 7, loops: 1) == 0)
    }

    @Test func noPoolIsAlwaysSlotZero() {
        for id in UInt64(0)..<10 {
            #expect(RouteSlots.slot(forClient: id, onLoop: 1, poolSize: 1, offset: 0, loops: 4) == 0)
        }
    }

    @Test func aClientTakesASlotItsOwnLoopServesWhenThereIsOne() {
        for loops in 1...8 {
            for poolSize in 1...8 {
                for offset in 0..<5 {
                    for loop in 0..<loops {
                        let served = (0..<poolSize).filter { RouteSlots.loop(ofSlot: $0, offset: offset, loops: loops) == loop }
                        var seen = Set<Int>()
                        for id in UInt64(0)..<64 {
                            let slot = RouteSlots.slot(forClient: id, onLoop: loop, poolSize: poolSize, offset: offset, loops: loops)
                            #expect((0..<poolSize).contains(slot))
                            if served.isEmpty {
                                #expect(slot == (loops == 1 ? Int(id % UInt64(poolSize))
                                                             : Int(RouteSlots.ordinal(ofClient: id, loops: loops) % UInt64(poolSize))),
                                        "no slot of its own: spread by id")
                            } else {
                                #expect(served.contains(slot), "loops \(loops) pool \(poolSize) offset \(offset) loop \(loop)")
                            }
                            seen.insert(slot)
                        }
                        if !served.isEmpty { #expect(seen == Set(served), "clients spread over every slot the loop serves") }
                    }
                }
            }
        }
    }

    @Test func slotsSpreadOverLoopsFromThePeersOffset() {
        #expect((0..<3).map { RouteSlots.loop(ofSlot: $0, offset: 0, loops: 2) } == [0, 1, 0])
        #expect((0..<3).map { RouteSlots.loop(ofSlot: $0, offset: 5, loops: 16) } == [5, 6, 7])
        #expect((0..<4).map { RouteSlots.loop(ofSlot: $0, offset: 3, loops: 4) } == [3, 0, 1, 2])
    }

    /// Accepts go round robin, so one loop's clients have ids that step by the loop count; as many
    /// consecutive clients of a loop as the pool has slots cover every slot their loop serves (and,
    /// without one, the whole pool).
    @Test func roundRobinIDsStillSpreadOverTheSlots() {
        for loops in 2...8 {
            for poolSize in 2...12 {
                for loop in 0..<loops {
                    let served = Set((0..<poolSize).filter { RouteSlots.loop(ofSlot: $0, offset: 0, loops: loops) == loop })
                    let ids = (0..<UInt64(poolSize)).map { UInt64(loop) + 1 + $0 * UInt64(loops) }
                    let slots = Set(ids.map { RouteSlots.slot(forClient: $0, onLoop: loop, poolSize: poolSize, offset: 0, loops: loops) })
                    #expect(slots == (served.isEmpty ? Set(0..<poolSize) : served), "loops \(loops) pool \(poolSize) loop \(loop)")
                }
            }
        }
    }
}
