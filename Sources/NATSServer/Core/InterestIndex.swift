import NATSProtocol
import NATSSublist

/// One local subject, or `subject queue`, as routes are told about it.
struct LocalInterest {
    /// Local subscriptions on the key.
    var count: Int
    /// The client whose subscription created the interest, and its loop: towards a natsd peer with a pool,
    /// every RS+/RS- of the key travels on this client's slot, so the peer sees them in order (RouteSlots).
    let owner: UInt64
    let ownerLoop: Int
}

/// What routes must be told after a change of local interest: RS+ (with the queue weight) or RS-.
struct InterestChange {
    enum Kind { case subscribe(weight: Int), unsubscribe }
    let kind: Kind
    let subject: [UInt8]
    let queue: [UInt8]?
    /// The client whose subscription created the interest, and its loop (its pool slot carries the change).
    let owner: UInt64
    let ownerLoop: Int
}

/// The one owner of an account's subscriptions and interest: the sublist every loop matches against,
/// local clients' subscriptions and the routes' remote interest going in and out of it, and the counts
/// behind RS+/RS- (RS+ on a subject's first local subscription, RS- on its last; for queue groups every
/// change, with the member count as weight, as nats-server sends them). natsd has one account, `$G`,
/// so there is one index; accounts will each get their own.
///
/// Threads: `add`/`remove` of subscriptions may run on any loop (the sublist is shared; see
/// `SharedSublist`); the counts (`localAdded`/`localRemoved`/`forEachLocal`) are used under the cluster's
/// `interestLock`, from any loop.
package final class InterestIndex {
    /// The account's name as routes spell it.
    let account: [UInt8]
    /// Every subscription of the account: local clients' and the routes' remote interest.
    package let sublist = Sublist<Subscription>()
    /// Local subscriptions per key (under the cluster's `interestLock`).
    private var localInterest: [[UInt8]: LocalInterest] = [:]

    init(account: [UInt8]) {
        self.account = account
    }

    /// How interest is keyed, locally and per route: `subject`, or `subject queue` (a space never occurs
    /// in either).
    static func key(subject: [UInt8], queue: [UInt8]?) -> [UInt8] {
        guard let queue else { return subject }
        return subject + [UInt8(ascii: " ")] + queue
    }

    static func key(subject: ByteSlice, queue: ByteSlice) -> [UInt8] {
        key(subject: subject.array, queue: queue.isEmpty ? nil : queue.array)
    }

    // MARK: - Subscriptions (any loop)

    /// Adds a local or remote subscription; false (nothing added) when its subject is not a valid
    /// subscription subject.
    func add(_ subscription: Subscription) -> Bool {
        sublist.insert(subscription)
    }

    /// Removes a subscription on the loop that owns it; from now on messages another loop handed over
    /// for it are dropped (`Subscription.isRemoved`).
    func remove(_ subscription: Subscription) {
        subscription.isRemoved = true
        sublist.remove(subscription)
    }

    // MARK: - Local interest counts (under the cluster's interestLock)

    /// Counts a new local subscription of client `owner` (served by loop `ownerLoop`); returns what routes
    /// must be told, if anything.
    func localAdded(subject: [UInt8], queue: [UInt8]?, owner: UInt64, ownerLoop: Int) -> InterestChange? {
        let key = InterestIndex.key(subject: subject, queue: queue)
        var interest = localInterest[key] ?? LocalInterest(count: 0, owner: owner, ownerLoop: ownerLoop)
        interest.count += 1
        localInterest[key] = interest
        guard queue != nil || interest.count == 1 else { return nil }
        return InterestChange(kind: .subscribe(weight: interest.count), subject: subject, queue: queue, owner: interest.owner,
                              ownerLoop: interest.ownerLoop)
    }

    /// Counts a removed local subscription; returns what routes must be told, if anything.
    func localRemoved(subject: [UInt8], queue: [UInt8]?) -> InterestChange? {
        let key = InterestIndex.key(subject: subject, queue: queue)
        guard var interest = localInterest[key] else { return nil }
        interest.count -= 1
        if interest.count <= 0 {
            localInterest.removeValue(forKey: key)
            return InterestChange(kind: .unsubscribe, subject: subject, queue: queue, owner: interest.owner,
                                  ownerLoop: interest.ownerLoop)
        }
        localInterest[key] = interest
        guard queue != nil else { return nil }
        return InterestChange(kind: .subscribe(weight: interest.count), subject: subject, queue: queue, owner: interest.owner,
                              ownerLoop: interest.ownerLoop)
    }

    /// Every current local interest as the RS+ a new route gets.
    func forEachLocal(_ body: (InterestChange) -> Void) {
        for (key, interest) in localInterest {
            if let space = key.firstIndex(of: UInt8(ascii: " ")) {
                body(InterestChange(kind: .subscribe(weight: interest.count), subject: Array(key[..<space]),
                                    queue: Array(key[(space + 1)...]), owner: interest.owner, ownerLoop: interest.ownerLoop))
            } else {
                body(InterestChange(kind: .subscribe(weight: 1), subject: key, queue: nil, owner: interest.owner,
                                    ownerLoop: interest.ownerLoop))
            }
        }
    }
}

extension InterestChange {
    /// The RS+/RS- line for `account`.
    func line(account: [UInt8]) -> [UInt8] {
        switch kind {
        case .subscribe(let weight):
            FrameEncoder.routeSubscribe(account: account, subject: subject, queue: queue, weight: weight)
        case .unsubscribe:
            FrameEncoder.routeUnsubscribe(account: account, subject: subject, queue: queue)
        }
    }
}
