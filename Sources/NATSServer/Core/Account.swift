import NATSConfig
import NATSProtocol
import NATSSublist

/// One isolated subject space: its subscriptions and interest (`InterestIndex`), a matcher per loop, and
/// what it shares with other accounts (`AccountSharing`). Clients are bound to one account at login; routes
/// name the account on every RS+/RS-/RMSG/HMSG (nats-server's `Account`, config-file accounts only).
///
/// Accounts are made when the server starts or a reload adds them and live as long as the server (a removed
/// one is kept aside and taken up again if its name comes back: `AccountRegistry.retired`); they are read
/// from every loop without locks (immutable after `attachLoops`, except the index, which is shared by
/// design: see `InterestIndex`, and each loop's own view of the sharing, which only that loop touches).
package final class Account {
    /// The name as configured (`$G` for the global account).
    package let name: String
    /// The name at a stable address, for RMSG/HMSG and RS± lines written on the per-message path.
    let nameBytes: OwnedBytes
    /// FNV-1a of the name: the pool slot of the account towards nats-server peers is this modulo the
    /// pool size (`RoutePooling.accountSlot`).
    let nameHash: UInt32
    package let interest: InterestIndex
    /// One matcher per loop (index 0: the sublist facade's own); each loop matches only with its own.
    private(set) var matchers: [SublistMatcher<Subscription>] = []
    /// Stream and service imports and the exports others use, as each loop sees them (index: loop): the
    /// registry in force on a loop puts its sharing there on that loop (`LoopWorker.adoptAccounts`), so a
    /// reload changes it without a lock and no loop reads what another writes.
    private var sharingByLoop: [SharingSlot] = []

    init(name: String) {
        self.name = name
        let bytes = Array(name.utf8)
        self.nameBytes = OwnedBytes(bytes)
        self.nameHash = RoutePooling.accountHash(bytes.withUnsafeBytes { ByteSlice($0) })
        self.interest = InterestIndex(account: bytes)
    }

    /// Gives the account one matcher and one sharing slot per loop; called once, on the main loop, before
    /// the account reaches any other loop (at start, or in the registry a reload posts).
    func attachLoops(_ count: Int, sharing: AccountSharing) {
        matchers = (0..<count).map { $0 == 0 ? interest.sublist.matcher : SublistMatcher(interest.sublist.shared) }
        sharingByLoop = (0..<count).map { _ in SharingSlot(sharing) }
    }

    /// Whether `attachLoops` ran (an account taken up again after a reload removed it has its loops already).
    var hasLoops: Bool { !matchers.isEmpty }

    /// The matcher of loop `index`.
    @inline(__always)
    package func matcher(onLoop index: Int) -> SublistMatcher<Subscription> { matchers[index] }

    /// What the account shares as loop `index` sees it; on that loop only.
    package func sharing(onLoop index: Int) -> AccountSharing { sharingByLoop[index].sharing }

    /// Loop `index` takes on a registry's sharing of this account; on that loop only.
    func adoptSharing(_ sharing: AccountSharing, onLoop index: Int) { sharingByLoop[index].sharing = sharing }

    /// The account's slot in a pool of `poolSize` connections towards a nats-server peer.
    func slot(poolSize: Int) -> Int { RoutePooling.slot(ofHash: nameHash, poolSize: poolSize) }

    /// Whether `bytes` spell this account's name.
    @inline(__always)
    func isNamed(_ bytes: ByteSlice) -> Bool {
        guard bytes.count == nameBytes.count else { return false }
        var position = 0
        while position < bytes.count {
            if bytes.start[position] != nameBytes.pointer[position] { return false }
            position &+= 1
        }
        return true
    }
}

/// One loop's `AccountSharing` of an account, boxed so the loop replaces it in place without touching the
/// array the other loops read.
private final class SharingSlot {
    var sharing: AccountSharing
    init(_ sharing: AccountSharing) { self.sharing = sharing }
}

/// Every account of the server, found by name from any loop without locks or allocation. Immutable: a
/// reload builds a new registry on the main loop (`init(options:previous:loopCount:)`), keeping the Account
/// objects of the accounts that stay, and each loop swaps to it on its own loop (`LoopWorker.adoptAccounts`).
package final class AccountRegistry {
    /// The global account `$G`: clients outside every `accounts` entry. The same object for the life of
    /// the server.
    package let global: Account
    /// All accounts, `$G` first, then in config order.
    package let all: [Account]
    /// Accounts by name hash (collisions share a bucket).
    private let byHash: [UInt32: [Account]]
    /// What each account shares in this registry, by account (main loop's reference; the loops read their
    /// slot of the account: `Account.sharing(onLoop:)`).
    let sharing: [ObjectIdentifier: AccountSharing]
    /// Accounts a reload removed, by name: kept alive for what still points at them unretained (clients
    /// being closed, subscriptions, reply mappings) and taken up again when the name comes back, so they
    /// stay as many as the names ever configured. Main loop only.
    let retired: [String: Account]

    /// The accounts of `options`: the start-up registry (`previous` nil), or a reload's, which keeps
    /// `previous`'s Account objects (their subscriptions, interest and matchers) for the names that stay
    /// and the import and export objects that did not change (`AccountSharing.build`). Main loop.
    init(options: ServerOptions, previous: AccountRegistry? = nil, loopCount: Int) {
        var retired = previous?.retired ?? [:]
        var kept: [String: Account] = [:]
        for account in previous?.all ?? [] { kept[account.name] = account }
        func take(_ name: String) -> Account {
            if let account = kept.removeValue(forKey: name) { return account }
            return retired.removeValue(forKey: name) ?? Account(name: name)
        }
        global = take(AccountConfig.globalName)
        var all = [global]
        for config in options.accounts { all.append(take(config.name)) }
        // nats-server's system account exists even when not configured; natsd makes it only when named
        // (it runs no system services in it).
        if !options.systemAccount.isEmpty && !all.contains(where: { $0.name == options.systemAccount }) {
            all.append(take(options.systemAccount))
        }
        for (name, account) in kept { retired[name] = account }
        self.all = all
        self.retired = retired
        var byHash: [UInt32: [Account]] = [:]
        for account in all { byHash[account.nameHash, default: []].append(account) }
        self.byHash = byHash
        let sharing = AccountSharing.build(accounts: all, options: options, previous: previous?.sharing ?? [:])
        self.sharing = sharing
        for account in all where !account.hasLoops {
            account.attachLoops(loopCount, sharing: sharing[ObjectIdentifier(account)] ?? AccountSharing())
        }
    }

    /// What `account` shares in this registry (main loop; empty for an account it does not hold).
    package func sharing(of account: Account) -> AccountSharing { sharing[ObjectIdentifier(account)] ?? AccountSharing() }

    /// The account named `name` (route protocol bytes); an empty name is `$G` (a no-account line).
    @inline(__always)
    func account(named name: ByteSlice) -> Account? {
        if name.isEmpty { return global }
        guard let bucket = byHash[RoutePooling.accountHash(name)] else { return nil }
        for account in bucket where account.isNamed(name) { return account }
        return nil
    }

    package func account(named name: String) -> Account? {
        if name.isEmpty { return global }
        return all.first { $0.name == name }
    }
}
