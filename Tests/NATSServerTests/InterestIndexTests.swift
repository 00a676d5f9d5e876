import Testing
@testable import NATSServer

/// The RS+/RS- counting of local interest (nats-server's rule: RS+ on a subject's first local
/// subscription and RS- on its last; queue groups on every change, with the member count as weight).
@Suite struct InterestIndexTests {
    private func line(_ change: InterestChange?) -> String? {
        change.map { String(decoding: $0.line(account: Array("$G".utf8)), as: UTF8.self) }
    }

    @Test func plainInterestIsAnnouncedOnFirstAndLastSubscription() {
        let index = InterestIndex(account: Array("$G".utf8))
        let foo = Array("foo".utf8)
        #expect(line(index.localAdded(subject: foo, queue: nil, owner: 7, ownerLoop: 0)) == "RS+ $G foo\r\n")
        #expect(index.localAdded(subject: foo, queue: nil, owner: 8, ownerLoop: 0) == nil, "a second subscriber changes nothing")
        #expect(index.localRemoved(subject: foo, queue: nil) == nil)
        #expect(line(index.localRemoved(subject: foo, queue: nil)) == "RS- $G foo\r\n")
        #expect(index.localRemoved(subject: foo, queue: nil) == nil, "nothing left to remove")
    }

    @Test func queueInterestCarriesTheMemberCount() {
        let index = InterestIndex(account: Array("$G".utf8))
        let work = Array("work".utf8), group = Array("g".utf8)
        #expect(line(index.localAdded(subject: work, queue: group, owner: 3, ownerLoop: 0)) == "RS+ $G work g 1\r\n")
        #expect(line(index.localAdded(subject: work, queue: group, owner: 4, ownerLoop: 0)) == "RS+ $G work g 2\r\n")
        #expect(line(index.localRemoved(subject: work, queue: group)) == "RS+ $G work g 1\r\n")
        #expect(line(index.localRemoved(subject: work, queue: group)) == "RS- $G work g\r\n")
    }

    /// The client that created an interest keeps owning it (its pool slot carries every change), and a
    /// new route gets all current interest.
    @Test func ownerStaysTheFirstClientAndReplayListsEverything() {
        let index = InterestIndex(account: Array("$G".utf8))
        _ = index.localAdded(subject: Array("a".utf8), queue: nil, owner: 1, ownerLoop: 0)
        _ = index.localAdded(subject: Array("a".utf8), queue: nil, owner: 2, ownerLoop: 0)
        _ = index.localAdded(subject: Array("b".utf8), queue: Array("q".utf8), owner: 2, ownerLoop: 0)
        _ = index.localAdded(subject: Array("b".utf8), queue: Array("q".utf8), owner: 5, ownerLoop: 0)
        var replay: [String: UInt64] = [:]
        index.forEachLocal { replay[line($0)!] = $0.owner }
        #expect(replay == ["RS+ $G a\r\n": 1, "RS+ $G b q 2\r\n": 2])
    }
}
