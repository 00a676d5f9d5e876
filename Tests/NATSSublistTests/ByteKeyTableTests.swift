import Testing

@testable import NATSSublist

/// Box so the table (which stores objects) can hold integers.
private final class Box {
    let value: Int
    init(_ value: Int) { self.value = value }
}

@Suite("ByteKeyTable")
struct ByteKeyTableTests {
    private static func find(_ table: ByteKeyTable<Box>, _ key: [UInt8]) -> Int? {
        key.withUnsafeBufferPointer { table.value(for: $0.baseAddress!, count: key.count, hash: hash(key)) }?.value
    }

    /// Half the keys share a hash so probe runs (and the backward shift on removal) get long.
    private static func hash(_ key: [UInt8]) -> UInt64 {
        key.first! % 2 == 0 ? 7 : key.withUnsafeBufferPointer { SubjectBytes.hash($0.baseAddress!, key.count) }
    }

    @Test("random inserts and removes agree with a dictionary", arguments: [1, 2, 3])
    func randomAgainstDictionary(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var table = ByteKeyTable<Box>()
        var reference: [[UInt8]: Int] = [:]
        for step in 0..<5000 {
            let key = [UInt8.random(in: 0..<200, using: &random), UInt8.random(in: 0..<3, using: &random)]
            let roll = Int.random(in: 0..<10, using: &random)
            if roll < 5 {
                if reference[key] == nil {
                    table.insert(key: key, hash: Self.hash(key), value: Box(step))
                    reference[key] = step
                }
            } else if roll < 8 {
                let removed = key.withUnsafeBufferPointer {
                    table.remove(key: $0.baseAddress!, count: key.count, hash: Self.hash(key))
                }
                #expect(removed == (reference.removeValue(forKey: key) != nil))
                table.shrinkIfSparse()
            } else {
                #expect(Self.find(table, key) == reference[key])
            }
            #expect(table.count == reference.count)
            #expect(table.slots.count == 0 || table.count * 2 <= table.slots.count)
        }
        for (key, value) in reference { #expect(Self.find(table, key) == value) }
        // removeAll(where:) with the re-check walk must remove exactly the chosen keys.
        let removed = table.removeAll { key, _ in key[0] % 3 == 0 }
        #expect(removed == reference.keys.filter { $0[0] % 3 == 0 }.count)
        for (key, value) in reference { #expect(Self.find(table, key) == (key[0] % 3 == 0 ? nil : value)) }
    }

    @Test("removeOne empties a table one entry at a time")
    func removeOne() {
        var table = ByteKeyTable<Box>()
        for index in 0..<50 {
            let key: [UInt8] = [UInt8(index)]
            table.insert(key: key, hash: Self.hash(key), value: Box(index))
        }
        var start = 0
        while table.count > 0 {
            let before = table.count
            table.removeOne(near: start)
            start &+= 7919
            #expect(table.count == before - 1)
        }
        var values: [Int] = []
        table.forEachValue { values.append($0.value) }
        #expect(values.isEmpty)
    }
}
