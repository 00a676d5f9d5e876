import Foundation
import NATSJSON
import NATSProtocol
import NATSServer

/// /subsz (also served as /subscriptionsz): the sublist figures of every account, or of one with `acc`, and
/// with `subs` a page of the client subscriptions, with nats-server's field names (`Subsz`, `SubDetail`).
extension Server {
    func subsz(options: SubszOptions) -> JSON {
        let selected = options.account.map { name in accounts.all.filter { $0.name == name } } ?? accounts.all
        var fields: [(String, JSON)] = [("server_id", .string(serverID)), ("now", .string(MonitorTime.rfc3339(Date())))]
        fields += subscriptionTotals(of: selected).fields
        var total = 0
        var listed: [JSON] = []
        if options.listsSubscriptions {
            let matching = listedSubscriptions(options)
            total = matching.count
            listed = matching[options.page(total: total)].map(Server.subscriptionDetail)
        }
        // `total` counts the subscriptions the filters kept (0 without `subs`), before paging.
        fields += [("total", .int(total)), ("offset", .int(options.offset)), ("limit", .int(options.limit))]
        if !listed.isEmpty { fields.append(("subscriptions_list", .array(listed))) }
        return .object(fields)
    }

    /// The client subscriptions `options` select, in a stable order (client, then sid, then account: a
    /// shadow follows its subscription) so pages do not overlap; nats-server's order is its sublist's.
    private func listedSubscriptions(_ options: SubszOptions) -> [SubscriptionSnapshot] {
        var matching = subscriptionSnapshots()
        if let account = options.account { matching = matching.filter { $0.account == account } }
        if let test = options.test {
            let literal = Array(test.utf8)
            matching = matching.filter { subscription in
                let pattern = SubjectTokens.split(Array(subscription.subject.utf8))
                return literal.withUnsafeBytes { SubjectTokens.matches(pattern, ByteSlice($0)) }
            }
        }
        return matching.sorted { a, b in
            if a.cid != b.cid { return a.cid < b.cid }
            if a.sid != b.sid { return a.sid < b.sid }
            return a.account < b.account
        }
    }

    /// One entry of `subscriptions_list`. The account is the client's, as nats-server shows it, and its
    /// tag is its name (natsd's accounts have no name tags).
    private static func subscriptionDetail(_ subscription: SubscriptionSnapshot) -> JSON {
        var entry: [(String, JSON)] = [("account", .string(subscription.clientAccount)),
                                       ("account_tag", .string(subscription.clientAccount)),
                                       ("subject", .string(subscription.subject))]
        if let queue = subscription.queue { entry.append(("qgroup", .string(queue))) }
        entry += [("sid", .string(subscription.sid)), ("msgs", .int(subscription.delivered))]
        if subscription.maxMessages > 0 { entry.append(("max", .int(subscription.maxMessages))) }
        entry.append(("cid", .int(Int(subscription.cid))))
        return .object(entry)
    }
}
