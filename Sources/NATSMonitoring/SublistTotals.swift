import NATSJSON
import NATSServer
import NATSSublist

/// Sublist figures added up over accounts and loops, as /subsz, /varz and /accountz report them.
///
/// nats-server adds its accounts' sublists (`SublistStats.add`): counts and cache figures are summed, the
/// largest fan-out kept, and the hit rate and average fan-out recomputed from the sums. natsd has one
/// sublist per account but one matcher (match counts and cache) per loop, so each account's figures are
/// its sublist's once plus every loop matcher's.
struct SublistTotals: Equatable {
    private(set) var stats = SublistStats()
    /// Fan-out summed over every cached result, to recompute the average.
    private var fanoutSum: Double = 0

    init() {}

    /// Adds one account: `loops` are its matchers' figures, one per loop. They share the account's
    /// sublist, so the subscription, insert and remove counts are taken once.
    mutating func add(account loops: [SublistStats]) {
        guard let sublist = loops.first else { return }
        stats.count += sublist.count
        stats.inserts += sublist.inserts
        stats.removes += sublist.removes
        for loop in loops {
            stats.matches += loop.matches
            stats.cacheHits += loop.cacheHits
            stats.cacheEntries += loop.cacheEntries
            stats.maxFanout = max(stats.maxFanout, loop.maxFanout)
            fanoutSum += loop.averageFanout * Double(loop.cacheEntries)
        }
        stats.averageFanout = stats.cacheEntries == 0 ? 0 : fanoutSum / Double(stats.cacheEntries)
    }

    /// Matches answered from a cache, over all matches; 0 before the first match.
    var cacheHitRate: Double { stats.matches == 0 ? 0 : Double(stats.cacheHits) / Double(stats.matches) }

    /// The figures with nats-server's `SublistStats` field names (/subsz's first fields, /accountz's
    /// `sublist_stats`).
    var fields: [(String, JSON)] {
        [("num_subscriptions", .int(stats.count)), ("num_cache", .int(stats.cacheEntries)),
         ("num_inserts", .int(Int(stats.inserts))), ("num_removes", .int(Int(stats.removes))),
         ("num_matches", .int(Int(stats.matches))), ("cache_hit_rate", .double(cacheHitRate)),
         ("max_fanout", .int(stats.maxFanout)), ("avg_fanout", .double(stats.averageFanout))]
    }
}

extension Server {
    /// The sublist figures of `selected` accounts added up, each loop's matcher read on its own loop.
    func subscriptionTotals(of selected: [Account]) -> SublistTotals {
        let perLoop = onEveryLoop { worker in selected.map { $0.matcher(onLoop: worker.index).stats } }
        var totals = SublistTotals()
        for index in selected.indices { totals.add(account: perLoop.map { $0[index] }) }
        return totals
    }

    /// Subscriptions in every account's sublist: clients', route interest, shadows of stream imports and
    /// internal ones (nats-server's /varz `subscriptions` sums every account's sublist the same way).
    var subscriptionCount: Int { accounts.all.reduce(0) { $0 + $1.interest.sublist.count } }
}
