import NATSProtocol
/// The INFO JSON for clients (§1.1) and routes (§2.2), with the fields of nats-server's `Info`
/// struct that natsd sends or must read.
public struct ServerInfo: Sendable, Equatable {
    public var serverID = ""
    public var serverName = ""
    public var version = ""
    public var proto = 0
    public var gitCommit = ""
    public var goVersion = ""
    public var host = ""
    public var port = 0
    public var headers = false
    public var authRequired = false
    public var tlsRequired = false
    public var tlsVerify = false
    public var tlsAvailable = false
    public var maxPayload: Int32 = 0
    public var jetStream = false
    /// Route gossip URL (`nats-route://host:port/`).
    public var ip = ""
    public var clientID: UInt64 = 0
    public var clientIP = ""
    public var nonce = ""
    public var cluster = ""
    public var clusterDynamic = false
    public var domain = ""
    public var connectURLs: [String] = []
    public var wsConnectURLs: [String] = []
    /// Lame duck mode.
    public var ldm = false
    public var compression = ""
    public var connectInfo = false
    public var remoteAccount = ""
    public var accountIsSystem = false
    public var apiLevel = 0
    /// Route permissions (`import` / `export`); nil when absent.
    public var importPermissions: SubjectPermissions?
    public var exportPermissions: SubjectPermissions?
    public var lnoc = false
    public var lnocu = false
    /// New in 2.15.1 route INFO/CONNECT; meaning unknown, read and relayed only.
    public var ln = false
    public var infoOnConnect = false
    public var routePoolSize = 0
    public var routePoolIndex = 0
    public var routeAccount = ""
    public var routeAccountAddRequestID = ""
    public var gossipMode: UInt8 = 0
    public var gateway = ""
    public var gatewayURLs: [String] = []
    public var gatewayURL = ""
    public var leafnodeURLs: [String] = []
    public var xkey = ""
    /// natsd marks its own route INFO so two natsd servers can resolve duplicate routes deterministically.
    public var isNatsd = false
    /// natsd only: the servers this one is routed to, each as `"<server_id> <route URL>"`. natsd peers
    /// dial any they are missing, so a mesh converges even when one gossip INFO was lost to a race.
    public var natsdPeers: [String] = []
    /// natsd only: the port of this server's HTTP monitoring listener (0: none), so a natsd peer's
    /// `/topologyz` can ask it for its /varz and /routez. Sent with `natsdPeers`, never in a route's first
    /// INFO, which an unauthenticated dialler reads.
    public var natsdMonitorPort = 0

    public init() {}

    /// JSON object text with keys in nats-server's order (Go `Info` struct order) and Go's omitempty
    /// rules: server_id, server_name, version, proto, go, host, port, headers and max_payload always.
    public func json() -> String {
        var writer = JSONObjectWriter()
        writer.string("server_id", serverID)
        writer.string("server_name", serverName)
        writer.string("version", version)
        writer.integer("proto", proto)
        writer.string("git_commit", gitCommit, omitEmpty: true)
        writer.string("go", goVersion)
        writer.string("host", host)
        writer.integer("port", port)
        writer.bool("headers", headers)
        writer.bool("auth_required", authRequired, omitEmpty: true)
        writer.bool("tls_required", tlsRequired, omitEmpty: true)
        writer.bool("tls_verify", tlsVerify, omitEmpty: true)
        writer.bool("tls_available", tlsAvailable, omitEmpty: true)
        writer.integer("max_payload", maxPayload)
        writer.bool("jetstream", jetStream, omitEmpty: true)
        writer.string("ip", ip, omitEmpty: true)
        writer.integer("client_id", clientID, omitEmpty: true)
        writer.string("client_ip", clientIP, omitEmpty: true)
        writer.string("nonce", nonce, omitEmpty: true)
        writer.string("cluster", cluster, omitEmpty: true)
        writer.bool("cluster_dynamic", clusterDynamic, omitEmpty: true)
        writer.string("domain", domain, omitEmpty: true)
        writer.strings("connect_urls", connectURLs, omitEmpty: true)
        writer.strings("ws_connect_urls", wsConnectURLs, omitEmpty: true)
        writer.bool("ldm", ldm, omitEmpty: true)
        writer.string("compression", compression, omitEmpty: true)
        writer.bool("connect_info", connectInfo, omitEmpty: true)
        writer.string("remote_account", remoteAccount, omitEmpty: true)
        writer.bool("acc_is_sys", accountIsSystem, omitEmpty: true)
        writer.integer("api_lvl", apiLevel, omitEmpty: true)
        if let importPermissions { writer.raw("import", importPermissions.json()) }
        if let exportPermissions { writer.raw("export", exportPermissions.json()) }
        writer.bool("lnoc", lnoc, omitEmpty: true)
        writer.bool("lnocu", lnocu, omitEmpty: true)
        // 2.15.1 writes `ln` right after `lnocu` (captured route INFOs).
        writer.bool("ln", ln, omitEmpty: true)
        writer.bool("info_on_connect", infoOnConnect, omitEmpty: true)
        writer.integer("route_pool_size", routePoolSize, omitEmpty: true)
        writer.integer("route_pool_idx", routePoolIndex, omitEmpty: true)
        writer.string("route_account", routeAccount, omitEmpty: true)
        writer.string("route_acc_add_reqid", routeAccountAddRequestID, omitEmpty: true)
        writer.integer("gossip_mode", gossipMode, omitEmpty: true)
        writer.string("gateway", gateway, omitEmpty: true)
        writer.strings("gateway_urls", gatewayURLs, omitEmpty: true)
        writer.string("gateway_url", gatewayURL, omitEmpty: true)
        writer.strings("leafnode_urls", leafnodeURLs, omitEmpty: true)
        writer.string("xkey", xkey, omitEmpty: true)
        writer.bool("natsd", isNatsd, omitEmpty: true)
        writer.strings("natsd_peers", natsdPeers, omitEmpty: true)
        writer.integer("natsd_monitor_port", natsdMonitorPort, omitEmpty: true)
        return writer.finished()
    }

    /// `INFO <json> \r\n` — the form sent on a new connection (note the space before CRLF).
    public func line() -> [UInt8] {
        Array("INFO \(json()) \r\n".utf8)
    }

    /// `INFO <json>\r\n` — the form of INFOs forwarded as gossip over routes (no trailing space).
    public func gossipLine() -> [UInt8] {
        Array("INFO \(json())\r\n".utf8)
    }

    /// nil for malformed JSON or a field of the wrong type; unknown keys are ignored.
    public static func decode(_ json: ByteSlice) -> ServerInfo? {
        guard let object = JSONObjectDecoder(json) else { return nil }
        var info = ServerInfo()
        let typed = object.forEach { key, value in
            switch key {
            case "server_id": return JSONAssign.string(value, &info.serverID)
            case "server_name": return JSONAssign.string(value, &info.serverName)
            case "version": return JSONAssign.string(value, &info.version)
            case "proto": return JSONAssign.integer(value, &info.proto)
            case "git_commit": return JSONAssign.string(value, &info.gitCommit)
            case "go": return JSONAssign.string(value, &info.goVersion)
            case "host": return JSONAssign.string(value, &info.host)
            case "port": return JSONAssign.integer(value, &info.port)
            case "headers": return JSONAssign.bool(value, &info.headers)
            case "auth_required": return JSONAssign.bool(value, &info.authRequired)
            case "tls_required": return JSONAssign.bool(value, &info.tlsRequired)
            case "tls_verify": return JSONAssign.bool(value, &info.tlsVerify)
            case "tls_available": return JSONAssign.bool(value, &info.tlsAvailable)
            case "max_payload": return JSONAssign.integer(value, &info.maxPayload)
            case "jetstream": return JSONAssign.bool(value, &info.jetStream)
            case "ip": return JSONAssign.string(value, &info.ip)
            case "client_id": return JSONAssign.integer(value, &info.clientID)
            case "client_ip": return JSONAssign.string(value, &info.clientIP)
            case "nonce": return JSONAssign.string(value, &info.nonce)
            case "cluster": return JSONAssign.string(value, &info.cluster)
            case "cluster_dynamic": return JSONAssign.bool(value, &info.clusterDynamic)
            case "domain": return JSONAssign.string(value, &info.domain)
            case "connect_urls": return JSONAssign.strings(value, &info.connectURLs)
            case "ws_connect_urls": return JSONAssign.strings(value, &info.wsConnectURLs)
            case "ldm": return JSONAssign.bool(value, &info.ldm)
            case "compression": return JSONAssign.string(value, &info.compression)
            case "connect_info": return JSONAssign.bool(value, &info.connectInfo)
            case "remote_account": return JSONAssign.string(value, &info.remoteAccount)
            case "acc_is_sys": return JSONAssign.bool(value, &info.accountIsSystem)
            case "api_lvl": return JSONAssign.integer(value, &info.apiLevel)
            case "import": return SubjectPermissions.assign(value, &info.importPermissions)
            case "export": return SubjectPermissions.assign(value, &info.exportPermissions)
            case "lnoc": return JSONAssign.bool(value, &info.lnoc)
            case "lnocu": return JSONAssign.bool(value, &info.lnocu)
            case "ln": return JSONAssign.bool(value, &info.ln)
            case "info_on_connect": return JSONAssign.bool(value, &info.infoOnConnect)
            case "route_pool_size": return JSONAssign.integer(value, &info.routePoolSize)
            case "route_pool_idx": return JSONAssign.integer(value, &info.routePoolIndex)
            case "route_account": return JSONAssign.string(value, &info.routeAccount)
            case "route_acc_add_reqid": return JSONAssign.string(value, &info.routeAccountAddRequestID)
            case "gossip_mode": return JSONAssign.integer(value, &info.gossipMode)
            case "gateway": return JSONAssign.string(value, &info.gateway)
            case "gateway_urls": return JSONAssign.strings(value, &info.gatewayURLs)
            case "gateway_url": return JSONAssign.string(value, &info.gatewayURL)
            case "leafnode_urls": return JSONAssign.strings(value, &info.leafnodeURLs)
            case "xkey": return JSONAssign.string(value, &info.xkey)
            case "natsd": return JSONAssign.bool(value, &info.isNatsd)
            case "natsd_peers": return JSONAssign.strings(value, &info.natsdPeers)
            case "natsd_monitor_port": return JSONAssign.integer(value, &info.natsdMonitorPort)
            default: return true
            }
        }
        return typed ? info : nil
    }
}

/// Route import/export permissions: `{"allow":[...],"deny":[...]}` (Go SubjectPermission).
public struct SubjectPermissions: Sendable, Equatable {
    public var allow: [String] = []
    public var deny: [String] = []

    public init(allow: [String] = [], deny: [String] = []) {
        self.allow = allow
        self.deny = deny
    }

    /// Go field order, both lists omitted when empty.
    public func json() -> String {
        var writer = JSONObjectWriter()
        writer.strings("allow", allow, omitEmpty: true)
        writer.strings("deny", deny, omitEmpty: true)
        return writer.finished()
    }

    static func assign(_ value: JSONValue, _ target: inout SubjectPermissions?) -> Bool {
        switch value {
        case .null:
            target = nil
            return true
        case .object(let members):
            var permissions = target ?? SubjectPermissions()
            for member in members {
                switch member.key.lowercased() {
                case "allow": guard JSONAssign.strings(member.value, &permissions.allow) else { return false }
                case "deny": guard JSONAssign.strings(member.value, &permissions.deny) else { return false }
                default: break
                }
            }
            target = permissions
            return true
        default:
            return false
        }
    }
}
