import Foundation
import NATSConfig
import NATSJSON
import NATSServer

/// /accountz: the accounts, or with `acc` one account's detail, with nats-server's field names (`Accountz`,
/// `AccountInfo`, `ExtExport`, `ExtImport` in server/monitor.go). natsd's accounts come from the config file
/// only, so the detail holds what such an account has: no JWT, claims, tags, mappings, latency tracking,
/// JetStream or leaf nodes; `update_time` is when the server started, which is when the accounts were made.
extension Server {
    /// The configured system account; nil without `system_account` (nats-server then has `$SYS`, natsd none).
    var systemAccountName: String? { options.systemAccount.isEmpty ? nil : options.systemAccount }

    /// - Parameter accountName: `acc`; empty for the list of account names.
    /// - Throws: `MonitorRequestError` with nats-server's text for an account that does not exist
    ///   (`Account X does not exist`, answered 400).
    func accountz(accountName: String) throws(MonitorRequestError) -> JSON {
        var fields: [(String, JSON)] = [("server_id", .string(serverID)), ("now", .string(MonitorTime.rfc3339(Date())))]
        if let system = systemAccountName { fields.append(("system_account", .string(system))) }
        if accountName.isEmpty {
            fields.append(("accounts", .array(accounts.all.map { .string($0.name) })))
            return .object(fields)
        }
        guard let account = accounts.account(named: accountName) else {
            throw MonitorRequestError(message: "Account \(accountName) does not exist")
        }
        fields.append(("account_detail", accountDetail(account)))
        return .object(fields)
    }

    private func accountDetail(_ account: Account) -> JSON {
        let clients = onEveryLoop { worker in worker.clients.values.reduce(0) { $0 + ($1.account === account ? 1 : 0) } }
        var fields: [(String, JSON)] = [
            ("account_name", .string(account.name)), ("update_time", .string(MonitorTime.rfc3339(startDate))),
        ]
        if account.name == systemAccountName { fields.append(("is_system", .bool(true))) }
        fields += [
            ("expired", .bool(false)), ("complete", .bool(true)), ("jetstream_enabled", .bool(false)),
            ("leafnode_connections", .int(0)), ("client_connections", .int(clients.reduce(0, +))),
            ("subscriptions", .int(account.interest.sublist.count)),
        ]
        let sharing = accounts.sharing(of: account)
        if !sharing.exports.isEmpty { fields.append(("exports", .array(sharing.exports.map(Server.exportDetail)))) }
        // Stream imports first, then service imports, as nats-server lists them.
        let imports = sharing.streamImports.map { Server.importDetail($0.config) }
            + sharing.serviceImports.map { Server.importDetail($0.config) }
        if !imports.isEmpty { fields.append(("imports", .array(imports))) }
        fields += [("name_tag", .string(account.name)), ("sublist_stats", .object(subscriptionTotals(of: [account]).fields))]
        return .object(fields)
    }

    /// One export: services carry their response type (nats-server's names: Singleton, Streamed, Chunked);
    /// `approved_accounts` lists who may import a private export and is absent for a public one.
    static func exportDetail(_ export: AccountExport) -> JSON {
        var fields: [(String, JSON)] = [("subject", .string(export.subject)), ("type", .string(export.kind.rawValue))]
        if export.kind == .service {
            let responseType = switch export.responseType {
            case .singleton: "Singleton"
            case .stream: "Streamed"
            case .chunked: "Chunked"
            }
            fields.append(("response_type", .string(responseType)))
        }
        if !export.accounts.isEmpty { fields.append(("approved_accounts", .array(export.accounts.map { .string($0) }))) }
        return .object(fields)
    }

    /// One import. `subject` is the subject in the exporting account; `local_subject` the one the importing
    /// account sees (a stream's `prefix.subject` or `to`, a service's `to`); services repeat it as `to`,
    /// which nats-server keeps for older readers. natsd ignores `share` and tracks no latency, so `share`
    /// and `tracking` are false, and an import that does not resolve is refused at startup, so none is
    /// `invalid`.
    static func importDetail(_ entry: AccountImport) -> JSON {
        var fields: [(String, JSON)] = [("subject", .string(entry.subject)), ("account", .string(entry.account))]
        switch entry.kind {
        case .stream: fields.append(("local_subject", .string(entry.localSubject)))
        case .service: fields += [("to", .string(entry.localSubject)), ("local_subject", .string(entry.localSubject))]
        }
        fields += [("type", .string(entry.kind.rawValue)), ("invalid", .bool(false)), ("share", .bool(false)),
                   ("tracking", .bool(false))]
        return .object(fields)
    }
}
