import NATSProtocol

@testable import NATSSublist

/// A subscription as the tests store it (immutable, so threads of the stress test may share it).
final class TestSub: SublistEntry, Sendable, CustomStringConvertible {
    let subject: [UInt8]
    let queue: [UInt8]?
    let id: Int

    init(_ subject: String, queue: String? = nil, id: Int = 0) {
        self.subject = Array(subject.utf8)
        self.queue = queue.map { Array($0.utf8) }
        self.id = id
    }

    var subjectString: String { String(decoding: subject, as: UTF8.self) }
    var queueString: String? { queue.map { String(decoding: $0, as: UTF8.self) } }
    var description: String { "\(id):\(subjectString)\(queueString.map { " q=\($0)" } ?? "")" }
}

/// A result reduced to comparable sets: plain subscriber ids and queue name -> member ids.
struct ResultShape: Equatable, CustomStringConvertible {
    var plain: Set<Int> = []
    var groups: [String: Set<Int>] = [:]

    var description: String { "plain=\(plain.sorted()) groups=\(groups.mapValues { $0.sorted() })" }
}

extension SublistResult where Entry == TestSub {
    /// The result's shape; `nil` when the result is internally inconsistent (duplicates, mixed groups).
    var shape: ResultShape? {
        var shape = ResultShape()
        for sub in plain {
            guard sub.queue == nil, shape.plain.insert(sub.id).inserted else { return nil }
        }
        for group in queueGroups {
            guard let name = group.first?.queueString, shape.groups[name] == nil else { return nil }
            var members = Set<Int>()
            for sub in group {
                guard sub.queueString == name, members.insert(sub.id).inserted else { return nil }
            }
            shape.groups[name] = members
        }
        return shape
    }
}

extension Sublist where Entry == TestSub {
    func match(_ subject: String) -> SublistResult<TestSub> { match(Array(subject.utf8)) }

    /// Ids of the plain subscribers matching `subject`, sorted.
    func plainIDs(_ subject: String) -> [Int] { match(subject).plain.map(\.id).sorted() }
}

/// The obvious matcher the sublist is checked against: split both subjects and compare token by token.
enum NaiveMatcher {
    static func matches(published: String, subscription: String) -> Bool {
        let literal = published.split(separator: ".", omittingEmptySubsequences: false)
        let pattern = subscription.split(separator: ".", omittingEmptySubsequences: false)
        if literal.contains(where: \.isEmpty) { return false }
        for (index, token) in pattern.enumerated() {
            if token == ">" { return literal.count > index }
            if index >= literal.count { return false }
            if token != "*" && token != literal[index] { return false }
        }
        return literal.count == pattern.count
    }

    static func shape(published: String, subscriptions: [TestSub]) -> ResultShape {
        var shape = ResultShape()
        for sub in subscriptions where matches(published: published, subscription: sub.subjectString) {
            if let queue = sub.queueString {
                shape.groups[queue, default: []].insert(sub.id)
            } else {
                shape.plain.insert(sub.id)
            }
        }
        return shape
    }
}

/// SplitMix64: a tiny seeded generator so every random test reproduces.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
