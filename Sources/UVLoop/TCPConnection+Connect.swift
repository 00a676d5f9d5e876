import CLibUV

extension TCPConnection {
    /// Dials host:port (numeric IPv4/IPv6 or a name resolved with uv_getaddrinfo); completion runs
    /// on the loop, exactly once. A name's addresses are tried in order until one accepts.
    /// `timeoutMilliseconds` 0 means no time limit; on expiry the completion gets `UVError.timedOut`.
    /// The returned attempt can be cancelled (the completion then gets `UVError.cancelled`).
    @discardableResult
    public static func connect(loop: EventLoop, host: String, port: Int, timeoutMilliseconds: UInt64,
                               completion: @escaping (Result<TCPConnection, UVError>) -> Void) -> ConnectAttempt {
        let attempt = ConnectAttempt(loop: loop, port: port, completion: completion)
        attempt.start(host: host, timeoutMilliseconds: timeoutMilliseconds)
        return attempt
    }
}

/// One outgoing dial: resolving, then one socket per candidate address, under one timer.
///
/// Kept alive by whatever libuv object is outstanding: the resolve request and the dialing
/// socket's handle each hold one retain, released in their callbacks.
public final class ConnectAttempt: LoopHandleOwner {
    unowned let loop: EventLoop
    let port: Int
    /// Set until the result is reported; nil afterwards, so late callbacks only clean up.
    private var completion: ((Result<TCPConnection, UVError>) -> Void)?
    private var timer: LoopTimer?
    /// The socket currently dialing.
    private var socket: UnsafeMutablePointer<uv_tcp_t>?
    /// Reused for every dial; its callback always runs before the socket's close callback.
    private let connectRequest: UnsafeMutablePointer<uv_connect_t>
    private var resolveRequest: UnsafeMutablePointer<uv_getaddrinfo_t>?
    private var addresses: UnsafeMutablePointer<addrinfo>?
    private var nextAddress: UnsafeMutablePointer<addrinfo>?
    private var lastError = UVError.connectionRefused

    init(loop: EventLoop, port: Int, completion: @escaping (Result<TCPConnection, UVError>) -> Void) {
        self.loop = loop
        self.port = port
        self.completion = completion
        connectRequest = allocateUVObject(uv_connect_t.self)
    }

    deinit {
        connectRequest.deallocate()
        if let addresses { uv_freeaddrinfo(addresses) }
    }

    func start(host: String, timeoutMilliseconds: UInt64) {
        if timeoutMilliseconds > 0 {
            let timer = LoopTimer(loop: loop) { [weak self] in
                self?.timeOut()
            }
            timer.start(afterMilliseconds: timeoutMilliseconds)
            self.timer = timer
        }
        var address = sockaddr_storage()
        if CLibUV_make_addr(host, Int32(truncatingIfNeeded: port), &address) == 0 {
            withUnsafePointer(to: &address) { storage in
                storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { dial($0) }
            }
        } else {
            resolve(host)
        }
    }

    private func resolve(_ host: String) {
        let request = allocateUVObject(uv_getaddrinfo_t.self)
        request.pointee.data = Unmanaged.passRetained(self).toOpaque()
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        let status = uv_getaddrinfo(loop.rawLoop, request, { request, status, result in
            let attempt = Unmanaged<ConnectAttempt>.fromOpaque(request!.pointee.data).takeRetainedValue()
            request!.deallocate()
            attempt.resolveRequest = nil
            attempt.didResolve(status, result)
        }, host, String(port), &hints)
        if let error = uvStatus(status) {
            Unmanaged.passUnretained(self).release()
            request.deallocate()
            finish(.failure(error))
            return
        }
        resolveRequest = request
    }

    private func didResolve(_ status: Int32, _ result: UnsafeMutablePointer<addrinfo>?) {
        addresses = result
        nextAddress = result
        guard completion != nil else { return }
        if let error = uvStatus(status) {
            finish(.failure(error))
            return
        }
        dialNextAddress()
    }

    private func dialNextAddress() {
        while let candidate = nextAddress {
            nextAddress = candidate.pointee.ai_next
            let family = candidate.pointee.ai_family
            if (family == AF_INET || family == AF_INET6), let address = candidate.pointee.ai_addr {
                dial(address)
                return
            }
        }
        finish(.failure(lastError))
    }

    private func dial(_ address: UnsafePointer<sockaddr>) {
        let socket = allocateUVObject(uv_tcp_t.self)
        uvMustSucceed(uv_tcp_init(loop.rawLoop, socket), "uv_tcp_init")
        socket.pointee.data = Unmanaged.passRetained(self).toOpaque()
        self.socket = socket
        connectRequest.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        let status = uv_tcp_connect(connectRequest, socket, address) { request, status in
            let attempt = Unmanaged<ConnectAttempt>.fromOpaque(request!.pointee.data).takeUnretainedValue()
            attempt.didConnect(status)
        }
        if let error = uvStatus(status) {
            closeSocket()
            lastError = error
            dialNextAddress()
        }
    }

    private func didConnect(_ status: Int32) {
        guard let socket else { return }  // closed by the timeout or shutdown; nothing to report
        if let error = uvStatus(status) {
            closeSocket()
            lastError = error
            if completion != nil { dialNextAddress() }
            return
        }
        guard completion != nil else {
            closeSocket()
            return
        }
        // Hand the socket over: the connection takes the handle's `data` and its own retain.
        self.socket = nil
        Unmanaged<ConnectAttempt>.fromOpaque(socket.pointee.data).release()
        finish(.success(TCPConnection(loop: loop, adopting: socket)))
    }

    private func timeOut() {
        abandon(with: .timedOut)
    }

    /// Gives up a dial still under way: the completion runs now with `UVError.cancelled`, and the
    /// socket and timer are closed, so the attempt no longer keeps the loop running (a server shutting
    /// down must not wait for a dial). Does nothing once the completion ran.
    public func cancel() {
        abandon(with: .cancelled)
    }

    private func abandon(with error: UVError) {
        guard completion != nil else { return }
        if let resolveRequest {
            // Cancelling fails once the lookup is running; its callback then only cleans up.
            _ = uvStatus(uv_cancel(CLibUV_getaddrinfo_as_req(resolveRequest)))
        }
        closeSocket()
        finish(.failure(error))
    }

    /// Reports `result` once and stops the timer.
    private func finish(_ result: Result<TCPConnection, UVError>) {
        guard let completion else { return }
        self.completion = nil
        timer?.close()
        timer = nil
        completion(result)
    }

    /// Closes the dialing socket; its close callback frees it and drops its retain.
    private func closeSocket() {
        guard let socket else { return }
        self.socket = nil
        uv_close(CLibUV_tcp_as_handle(socket)) { handle in
            let attempt = Unmanaged<ConnectAttempt>.fromOpaque(handle!.pointee.data).takeRetainedValue()
            CLibUV_handle_as_tcp(handle)!.deallocate()
            _ = attempt
        }
    }

    func closeForShutdown() {
        closeSocket()
        finish(.failure(.cancelled))
    }
}
