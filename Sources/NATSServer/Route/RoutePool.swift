/// The route connections to one peer by pool slot (`route_pool_idx`), with nats-server's placement rules
/// (`addRoute`): an accepted connection goes to the slot its INFO names, one we dialled to the first free
/// slot. A no-pool peer has a single slot. Generic over the member so the rules are tested without sockets.
struct RoutePool<Member: AnyObject> {
    /// One entry per slot; nil while that connection is not up.
    private(set) var slots: ContiguousArray<Member?>
    /// Occupied slots.
    private(set) var count = 0
    /// The member in the lowest occupied slot: it stands for the peer (gossip, peer lists).
    private(set) var primary: Member?

    init(size: Int) {
        slots = ContiguousArray(repeating: nil, count: max(size, 1))
    }

    var size: Int { slots.count }
    var isFull: Bool { count == slots.count }
    var isEmpty: Bool { count == 0 }
    var members: [Member] { slots.compactMap { $0 } }

    subscript(slot: Int) -> Member? { slots[slot] }

    func slot(of member: Member) -> Int? { slots.firstIndex { $0 === member } }

    /// Adds empty slots up to `size` (a peer whose pool is larger than ours); a pool never shrinks, as
    /// nats-server's does not while the peer stays connected.
    mutating func grow(to size: Int) {
        while slots.count < size { slots.append(nil) }
    }

    /// Where a connection we dialled goes: the first free slot, nil when the pool is full.
    func firstFreeSlot() -> Int? { slots.firstIndex { $0 == nil } }

    /// Puts `member` in `slot` and returns the member it displaced (arbitration of a duplicate).
    @discardableResult
    mutating func place(_ member: Member, at slot: Int) -> Member? {
        let displaced = slots[slot]
        if displaced == nil { count += 1 }
        slots[slot] = member
        primary = slots.first { $0 != nil } ?? nil
        return displaced
    }

    /// Empties the slot `member` holds; returns that slot, nil when `member` is not in the pool (a
    /// connection already replaced by the winner of a duplicate race).
    @discardableResult
    mutating func remove(_ member: Member) -> Int? {
        guard let slot = slot(of: member) else { return nil }
        slots[slot] = nil
        count -= 1
        primary = slots.first { $0 != nil } ?? nil
        return slot
    }
}
