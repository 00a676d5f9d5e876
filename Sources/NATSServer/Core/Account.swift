import NATSConfig
import NATSProtocol
import NATSSublist

/// One isolated subject space: its subscriptions and interest (`InterestIndex`), a matcher per loop, and
/// what it shares with other accounts (`AccountSharing`). Clients are bound to one account at login; routes
/// name the account on every RS+/RS-/RMSG/HMSG (nats-server's `Account`, config-file accounts only).
///
/// Accounts are made when the server starts and live as long as it; they are read from every loop without
/// locks (immutable after `attachLoops`, except the index, which is shared by design: see `InterestIndex`).
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
    /// Stream and service imports and the exports others use (set up by `AccountRegistry`).
    package internal(set) var sharing = AccountSharing()

    init(name: String) {
        self.name = name
        let bytes = Array(name.utf8)
        self.nameBytes = OwnedBytes(bytes)
        self.nameHash = RoutePooling.accountHash(bytes.withUnsafeBytes { ByteSlice($0) })
        self.interest = InterestIndex(account: bytes)
    }

    /// Gives the account one matcher per loop; called once, before any loop runs.
    func attachLoops(_ count: Int) {
        matchers = (0..<count).map { $0 == 0 ? interest.sublist.matcher : SublistMatcher(interest.sublist.shared) }
    }

    /// The matcher of loop `index`.
    @inline(__always)
    package func matcher(onLoop index: Int) -> SublistMatcher<Subscription> { matchers[index] }

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

/// Every account of the server, found by name from any loop without locks or allocation: the set is
/// fixed when the server starts (reload will swap the whole registry).
package final class AccountRegistry {
    /// The global account `$G`: clients outside every `accounts` entry.
    package let global: Account
    /// All accounts, `$G` first, then in config order.
    package let all: [Account]
    /// Accounts by name hash (collisions share a bucket).
    private let byHash: [UInt32: [Account]]

    init(options: ServerOptions) {
        global = Account(name: AccountConfig.globalName)
        var all = [global]
        for config in options.accounts { all.append(Account(name: config.name)) }
        // nats-server's system account exists even when not configured; natsd makes it only when named
        // (it runs no system services in it).
        if !options.systemAccount.isEmpty && !all.contains(where: { $0.name == options.systemAccount }) {
            all.append(Account(name: options.systemAccount))
        }
        self.all = all
        var byHash: [UInt32: [Account]] = [:]
        for account in all { byHash[account.nameHash, default: []].append(account) }
        self.byHash = byHash
        AccountSharing.build(accounts: all, options: options)
    }

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

    func attachLoops(_ count: Int) {
        for account in all { account.attachLoops(count) }
    }
}

extension AccountRegistry {
    /// The internal subscriptions of service imports: each import's subject in the importing account (never
    /// announced to routes: the node a request is published on runs the import), and each exporting
    /// account's response wildcard (announced, so responses reach this node from any other).
    func installServiceSubscriptions(cluster: Cluster, on worker: LoopWorker) {
        for account in all {
            for serviceImport in account.sharing.serviceImports {
                let subscription = Subscription(internalIn: account, subject: Array(serviceImport.config.to.utf8),
                                                role: ImportRole(serviceImport: serviceImport))
                _ = account.interest.add(subscription)
            }
            if let responses = account.sharing.responses {
                let subscription = Subscription(internalIn: account, subject: responses.wildcard, role: ImportRole(responses: responses))
                if account.interest.add(subscription) { cluster.localInterestAdded(subscription, on: worker) }
            }
        }
    }
}
