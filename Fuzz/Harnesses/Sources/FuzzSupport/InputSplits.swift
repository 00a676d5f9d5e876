/// Deterministic choices derived from the input itself: where a byte stream is cut into reads, and
/// which configuration variant an input runs under.
///
/// Derived from a hash rather than from header bytes so that seed files stay verbatim protocol traffic,
/// and so that a crashing input replays exactly: the same bytes always give the same cuts.
public struct InputChoices {
    private var state: UInt64

    /// Seeds the choices with the FNV-1a hash of `bytes`.
    public init(_ bytes: UnsafeRawBufferPointer) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        state = hash
    }

    /// The next pseudo-random value (SplitMix64).
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0 ..< bound` (bound > 0).
    public mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    /// True with probability 1 / `n`.
    public mutating func oneIn(_ n: Int) -> Bool {
        below(n) == 0
    }

    /// Where reads of a `count`-byte stream end: 1 to 4 reads, ascending offsets, the last one `count`.
    /// Short reads near the start are favoured, since cutting inside a verb or a control line is what the
    /// partial-op path has to get right.
    public mutating func readEnds(count: Int) -> [Int] {
        guard count > 1 else { return [count] }
        var ends: [Int] = []
        for _ in 0..<below(4) {
            let limit = oneIn(2) ? min(count - 1, 16) : count - 1
            ends.append(1 + below(limit))
        }
        ends.append(count)
        return Array(Set(ends)).sorted()
    }
}
