import Testing

@testable import NATSSublist

/// Box so the table (which stores objects) can hold integers.
final class Box {
    let value: Int
    init(_ value: Int) { self.value = value }
}

@Suite("ByteKeyTable")
struct ByteKeyTableTests {
    private static func find(_ table: ByteKeyTable, _ key: [UInt8]) -> Int? {
        key.withUnsafeBufferPointer { table.value(for: $0.baseAddress!, count: key.count, hash: hash(key)) }.map { ($0 as! Box).value }
    }

    /// Half the keys share a hash so probe runs (and the backward shift on removal) get long.
    private static func hash(_ key: [UInt8]) -> UInt64 {
        key.first! % 2 == 0 ? 7 : key.withUnsafeBufferPointer { SubjectBytes.hash($0.baseAddress!, key.count) }
    }

    @Test("random inserts and removes agree with a dictionary", arguments: [1, 2, 3])
    func randomAgainstDictionary(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let table = ByteKeyTable()
        var reference: [[UInt8]: Int] = [:]
        for step in 0..<5000 {
            let key = [UInt8.random(in: 0..<200, using: &random), UInt8.random(in: 0..<3, using: &random)]
            let roll = Int.random(in: 0..<10, using: &random)
            if roll < 5 {
                if reference[key] == nil {
                    key.withUnsafeBufferPointer {
                        table.insert(key: $0.baseAddress!, count: key.count, hash: Self.hash(key), value: Box(step))
                    }
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
            #expect(table.capacity == 0 || table.count * 2 <= table.capacity)
        }
        for (key, value) in reference { #expect(Self.find(table, key) == value) }
        // removeAll(where:) with the re-check walk must remove exactly the chosen keys.
        let removed = table.removeAll { key, _ in key[0] % 3 == 0 }
        #expect(removed == reference.keys.filter { $0[0] % 3 == 0 }.count)
        for (key, value) in reference { #expect(Self.find(table, key) == (key[0] % 3 == 0 ? nil : value)) }
    }

    @Test("removeOne empties a table one entry at a time")
    func removeOne() {
        let table = ByteKeyTable()
        for index in 0..<50 {
            let key: [UInt8] = [UInt8(index)]
            key.withUnsafeBufferPointer {
                table.insert(key: $0.baseAddress!, count: key.count, hash: Self.hash(key), value: Box(index))
            }
        }
        var start = 0
        while table.count > 0 {
            let before = table.count
            table.removeOne(near: start)
            start &+= 7919
            #expect(table.count == before - 1)
        }
        var values: [Int] = []
        table.forEachValue { values.append(($0 as! Box).value) }
        #expect(values.isEmpty)
    }
}

@Suite("ByteKeyTable ownership")
struct ByteKeyTableOwnershipTests {
    @Test("the table releases its values on removal and when it goes away")
    func releasesValues() {
        weak var removedValue: AnyObject?
        weak var keptValue: AnyObject?
        do {
            let table = ByteKeyTable()
            let keys: [[UInt8]] = [[1], [2]]
            for key in keys {
                let value = Box(Int(key[0]))
                if key[0] == 1 { removedValue = value } else { keptValue = value }
                key.withUnsafeBufferPointer {
                    table.insert(key: $0.baseAddress!, count: 1, hash: UInt64(key[0]), value: value)
                }
            }
            #expect(removedValue != nil && keptValue != nil)
            #expect(keys[0].withUnsafeBufferPointer { table.remove(key: $0.baseAddress!, count: 1, hash: 1) })
            #expect(removedValue == nil)
            #expect(keptValue != nil)
        }
        #expect(keptValue == nil)
    }
}
