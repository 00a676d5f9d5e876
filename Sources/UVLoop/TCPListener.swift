import CLibUV

/// A listening TCP socket handing each accepted connection (reading not started) to `onAccept`.
/// The handle retains the listener until `close()` (or loop shutdown) completes.
public final class TCPListener: LoopHandleOwner {
    unowned let loop: EventLoop
    let handle: UnsafeMutablePointer<uv_tcp_t>
    let onAccept: (TCPConnection) -> Void
    /// The bound port.
    public let port: Int
    private var isClosing = false

    /// Binds and listens; port 0 picks a free port, one outside 0...65535 is `EINVAL`. onAccept gets a new connection
    /// (reading not started). `host` is a numeric IPv4 or IPv6 address or a name, resolved as Go's
    /// net.Listen (and so nats-server) resolves it (`listenAddress(for:loop:)`); the unspecified addresses
    /// (`0.0.0.0`, `::` or empty) listen dual-stack, on every IPv4 and IPv6 address, as Go does, falling
    /// back to IPv4 alone where the machine has no IPv6.
    /// - Throws: the resolver's error for a name that does not resolve (`UVError.isAddressLookupFailure`),
    ///   else the bind or listen error.
    public init(loop: EventLoop, host: String, port: Int, backlog: Int32 = 511,
                onAccept: @escaping (TCPConnection) -> Void) throws(UVError) {
        guard (0...65535).contains(port) else { throw UVError(code: UV_EINVAL.rawValue) }
        let candidates = TCPListener.bindHosts(for: try TCPListener.listenAddress(for: host, loop: loop))
        var bound: (handle: UnsafeMutablePointer<uv_tcp_t>, port: Int)?
        for (index, candidate) in candidates.enumerated() {
            do {
                bound = try TCPListener.open(loop: loop, host: candidate, port: port, backlog: backlog)
                break
            } catch {
                let isLast = index == candidates.count - 1
                if isLast || !TCPListener.meansNoIPv6(error) { throw error }
            }
        }
        guard let bound else { throw UVError(code: UV_EINVAL.rawValue) }  // unreachable: the last failure threw
        self.loop = loop
        self.handle = bound.handle
        self.onAccept = onAccept
        self.port = bound.port
        bound.handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    /// The numeric address to listen on for `host`: a numeric (or empty) host as it is; a name resolved with
    /// getaddrinfo, taking its first IPv4 address, else its first address. That is what Go's net.Listen binds
    /// for a name (`ListenConfig.Listen` takes `addrs.first(isIPv4)`); `localhost` listens on 127.0.0.1.
    /// The lookup blocks the loop: listeners are opened at start-up, before anything else runs on it.
    static func listenAddress(for host: String, loop: EventLoop) throws(UVError) -> String {
        var numeric = sockaddr_storage()
        if host.isEmpty || CLibUV_make_addr(host, 0, &numeric) == 0 { return host }
        let request = allocateUVObject(uv_getaddrinfo_t.self)
        defer { request.deallocate() }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        // Without a callback libuv resolves at once, on this thread, and leaves the result in the request.
        try uvCheck(uv_getaddrinfo(loop.rawLoop, request, nil, host, nil, &hints))
        let addresses = request.pointee.addrinfo
        defer { uv_freeaddrinfo(addresses) }
        var chosen: UnsafeMutablePointer<sockaddr>?
        var cursor = addresses
        while let entry = cursor {
            cursor = entry.pointee.ai_next
            guard let address = entry.pointee.ai_addr else { continue }
            let family = entry.pointee.ai_family
            if family == AF_INET {
                chosen = address
                break
            }
            if family == AF_INET6 && chosen == nil { chosen = address }
        }
        guard let chosen else { throw UVError(code: UV_EAI_NODATA.rawValue) }
        return try withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { text throws(UVError) in
            try uvCheck(uv_ip_name(chosen, text.baseAddress!, 64))
            return String(cString: text.baseAddress!)
        }
    }

    /// The addresses to try in order for `host`: dual-stack `::` first for an unspecified address.
    static func bindHosts(for host: String) -> [String] {
        switch host {
        case "", "0.0.0.0": return ["::", "0.0.0.0"]
        case "::": return ["::", "0.0.0.0"]
        default: return [host]
        }
    }

    /// Errors of an IPv6 bind that mean "no IPv6 here" rather than a real problem with the port.
    static func meansNoIPv6(_ error: UVError) -> Bool {
        error.code == UV_EAFNOSUPPORT.rawValue || error.code == UV_EADDRNOTAVAIL.rawValue
            || error.code == UV_EPROTONOSUPPORT.rawValue
    }

    /// A fresh handle bound to host:port and listening; on failure it is closed (and freed) again.
    /// Each attempt needs its own handle: libuv creates the socket, of the address's family, at bind.
    private static func open(loop: EventLoop, host: String, port: Int,
                             backlog: Int32) throws(UVError) -> (handle: UnsafeMutablePointer<uv_tcp_t>, port: Int) {
        let handle = allocateUVObject(uv_tcp_t.self)
        if let error = uvStatus(uv_tcp_init(loop.rawLoop, handle)) {
            handle.deallocate()
            throw error
        }
        do {
            return (handle, try bindAndListen(handle, host: host, port: port, backlog: backlog))
        } catch {
            // The handle is initialised, so it must go through uv_close; it has no owner yet.
            uv_close(CLibUV_tcp_as_handle(handle)) { handle in
                CLibUV_handle_as_tcp(handle)!.deallocate()
            }
            throw error
        }
    }

    private static func bindAndListen(_ handle: UnsafeMutablePointer<uv_tcp_t>, host: String, port: Int,
                                      backlog: Int32) throws(UVError) -> Int {
        var address = sockaddr_storage()
        try uvCheck(CLibUV_make_addr(host, Int32(port), &address))
        try withUnsafePointer(to: &address) { storage throws(UVError) in
            try storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress throws(UVError) in
                try uvCheck(uv_tcp_bind(handle, socketAddress, 0))
            }
        }
        try uvCheck(uv_listen(CLibUV_tcp_as_stream(handle), backlog) { server, status in
            // A failed accept (EMFILE, ENFILE, ...) is not fatal: libuv already dropped the
            // pending connection with its reserve-descriptor trick, so keep listening.
            guard status == 0 else { return }
            let listener = Unmanaged<TCPListener>.fromOpaque(server!.pointee.data).takeUnretainedValue()
            listener.acceptOne()
        })
        var boundPort: Int32 = 0
        try withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { ip throws(UVError) in
            try uvCheck(CLibUV_tcp_local(handle, ip.baseAddress!, 64, &boundPort))
        }
        return Int(boundPort)
    }

    private func acceptOne() {
        guard !isClosing else { return }
        let client = allocateUVObject(uv_tcp_t.self)
        uvMustSucceed(uv_tcp_init(loop.rawLoop, client), "uv_tcp_init")
        if uvStatus(uv_accept(CLibUV_tcp_as_stream(handle), CLibUV_tcp_as_stream(client))) != nil {
            uv_close(CLibUV_tcp_as_handle(client)) { handle in
                CLibUV_handle_as_tcp(handle)!.deallocate()
            }
            return
        }
        onAccept(TCPConnection(loop: loop, adopting: client))
    }

    /// Stops listening and closes the socket (idempotent).
    public func close() {
        guard !isClosing else { return }
        isClosing = true
        uv_close(CLibUV_tcp_as_handle(handle)) { handle in
            let listener = Unmanaged<TCPListener>.fromOpaque(handle!.pointee.data).takeRetainedValue()
            listener.handle.deallocate()
        }
    }

    func closeForShutdown() {
        close()
    }
}
