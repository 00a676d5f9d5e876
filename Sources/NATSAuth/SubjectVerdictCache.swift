/// A bounded map from subject bytes to a one-byte verdict, looked up with borrowed bytes: a hit allocates
/// nothing (the key of a lookup only points at the caller's bytes); a store copies the subject once.
///
/// Bounded as nats-server bounds its permission caches (client.go `maxPermCacheSize` 128 for publish,
/// `maxDenyPermCacheSize` 256 for delivery, `pruneSize` 32): past the bound, that many entries are dropped
/// (the first ones in the table's order, which is hash order, so effectively random).
struct SubjectVerdictCache {
    /// Owned bytes when stored, borrowed bytes for a lookup; hashed and compared by content.
    struct Key: Hashable {
        let owned: [UInt8]?
        let borrowed: UnsafeRawBufferPointer

        init(owning bytes: UnsafeRawBufferPointer) {
            owned = Array(bytes)
            borrowed = UnsafeRawBufferPointer(start: nil, count: 0)
        }

        init(borrowing bytes: UnsafeRawBufferPointer) {
            owned = nil
            borrowed = bytes
        }

        func withBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
            if let owned { return owned.withUnsafeBytes(body) }
            return body(borrowed)
        }

        static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.withBytes { left in rhs.withBytes { right in left.elementsEqual(right) } }
        }

        func hash(into hasher: inout Hasher) {
            withBytes { hasher.combine(bytes: $0) }
        }
    }

    let limit: Int
    let pruneCount: Int
    private(set) var verdicts: [Key: UInt8] = [:]

    init(limit: Int, pruneCount: Int = 32) {
        self.limit = limit
        self.pruneCount = pruneCount
    }

    var count: Int { verdicts.count }

    func verdict(for subject: UnsafeRawBufferPointer) -> UInt8? {
        verdicts[Key(borrowing: subject)]
    }

    mutating func store(_ verdict: UInt8, for subject: UnsafeRawBufferPointer) {
        verdicts[Key(owning: subject)] = verdict
        if verdicts.count > limit {
            for _ in 0..<min(pruneCount, verdicts.count) { verdicts.remove(at: verdicts.startIndex) }
        }
    }

    mutating func removeAll() {
        verdicts.removeAll()
    }
}
