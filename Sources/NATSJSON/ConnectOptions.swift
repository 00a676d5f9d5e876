import NATSProtocol
/// The CONNECT JSON of clients and routes (nats-server's ClientOpts and route connectInfo).
public struct ConnectOptions: Sendable, Equatable {
    // Server-side defaults before a client's JSON is applied: verbose, pedantic and echo are true.
    public var verbose = true, pedantic = true, echo = true, tlsRequired = false
    public var authToken = "", user = "", pass = "", name = "", lang = "", version = ""
    public var protocolVersion = 0, headers = false, noResponders = false
    /// The obsolete `account` / `new_account` fields were present (nats-server rejects the client).
    public var hasAccount = false
    public var sig = "", jwt = "", nkey = ""
    // Route CONNECT fields.
    public var cluster = "", clusterDynamic = false, gateway = ""
    /// Route CONNECT: the peer understands LS+/LMSG, LS- with origin, and 2.15's `ln`.
    public var lnoc = false, lnocu = false, ln = false

    public init() {}

    /// Applies the JSON over the client defaults. nil when the JSON is malformed or a field has the
    /// wrong type (the server then closes silently).
    public static func decode(_ json: ByteSlice) -> ConnectOptions? {
        decode(json, over: ConnectOptions())
    }

    /// Applies the JSON over `defaults` (the options of an earlier CONNECT).
    public static func decode(_ json: ByteSlice, over defaults: ConnectOptions) -> ConnectOptions? {
        guard let object = JSONObjectDecoder(json) else { return nil }
        var options = defaults
        var account = ""
        var newAccount = false
        let typed = object.forEach { key, value in
            switch key {
            case "verbose": return JSONAssign.bool(value, &options.verbose)
            case "pedantic": return JSONAssign.bool(value, &options.pedantic)
            case "echo": return JSONAssign.bool(value, &options.echo)
            case "tls_required": return JSONAssign.bool(value, &options.tlsRequired)
            case "auth_token": return JSONAssign.string(value, &options.authToken)
            case "user": return JSONAssign.string(value, &options.user)
            case "pass": return JSONAssign.string(value, &options.pass)
            case "name": return JSONAssign.string(value, &options.name)
            case "lang": return JSONAssign.string(value, &options.lang)
            case "version": return JSONAssign.string(value, &options.version)
            case "protocol": return JSONAssign.integer(value, &options.protocolVersion)
            case "headers": return JSONAssign.bool(value, &options.headers)
            case "no_responders": return JSONAssign.bool(value, &options.noResponders)
            case "account": return JSONAssign.string(value, &account)
            case "new_account": return JSONAssign.bool(value, &newAccount)
            case "sig": return JSONAssign.string(value, &options.sig)
            case "jwt": return JSONAssign.string(value, &options.jwt)
            case "nkey": return JSONAssign.string(value, &options.nkey)
            case "cluster": return JSONAssign.string(value, &options.cluster)
            case "cluster_dynamic": return JSONAssign.bool(value, &options.clusterDynamic)
            case "gateway": return JSONAssign.string(value, &options.gateway)
            case "lnoc": return JSONAssign.bool(value, &options.lnoc)
            case "lnocu": return JSONAssign.bool(value, &options.lnocu)
            case "ln": return JSONAssign.bool(value, &options.ln)
            default: return true
            }
        }
        guard typed else { return nil }
        if !account.isEmpty || newAccount { options.hasAccount = true }
        return options
    }

    /// The route CONNECT JSON natsd sends, in nats-server's field order (route.go connectInfo):
    /// echo, verbose, pedantic, user, pass, tls_required, headers, name, cluster, cluster_dynamic,
    /// lnoc, lnocu, ln, gateway, omitting the empty optional ones.
    public func encode() -> String {
        var writer = JSONObjectWriter()
        writer.bool("echo", echo)
        writer.bool("verbose", verbose)
        writer.bool("pedantic", pedantic)
        writer.string("user", user, omitEmpty: true)
        writer.string("pass", pass, omitEmpty: true)
        writer.bool("tls_required", tlsRequired)
        writer.bool("headers", headers)
        writer.string("name", name)
        writer.string("cluster", cluster)
        writer.bool("cluster_dynamic", clusterDynamic, omitEmpty: true)
        writer.bool("lnoc", lnoc, omitEmpty: true)
        writer.bool("lnocu", lnocu, omitEmpty: true)
        writer.bool("ln", ln, omitEmpty: true)
        writer.string("gateway", gateway, omitEmpty: true)
        return writer.finished()
    }

    /// `CONNECT <json>\r\n`.
    public func line() -> [UInt8] {
        Array("CONNECT \(encode())\r\n".utf8)
    }
}
