import CLibUV

/// Moving an accepted connection to another loop. A libuv handle belongs to the loop it was initialised
/// on, so the socket itself moves: the accepting loop duplicates the descriptor and closes its handle,
/// the serving loop opens the duplicate in a handle of its own. The peer sees nothing of it.
extension TCPConnection {
    /// Gives up this connection's socket: returns a close-on-exec duplicate of its descriptor and closes
    /// the handle (the delegate, if any, sees an ordinary close). Only for a connection that has not
    /// started reading or writing; nil (and the connection closed) when the descriptor cannot be copied.
    public func detachSocket() -> Int32? {
        precondition(!isReading && pendingByteCount == 0 && !writeInFlight, "detachSocket on a connection in use")
        guard !isClosing else { return nil }
        let copy = CLibUV_tcp_dup_socket(handle)
        close()
        return copy >= 0 ? copy : nil
    }

    /// Serves the connected socket `descriptor` (from `detachSocket()`) on `loop`; takes ownership of it.
    /// - Throws: libuv's error when the handle cannot be set up; the descriptor is closed then.
    public convenience init(loop: EventLoop, socket descriptor: Int32) throws(UVError) {
        let handle = allocateUVObject(uv_tcp_t.self)
        if let error = uvStatus(uv_tcp_init(loop.rawLoop, handle)) {
            handle.deallocate()
            _ = CLibUV_close_socket(descriptor)
            throw error
        }
        if let error = uvStatus(uv_tcp_open(handle, uv_os_sock_t(descriptor))) {
            // The handle is initialised, so it must go through uv_close; the descriptor is not its own yet.
            uv_close(CLibUV_tcp_as_handle(handle)) { handle in
                CLibUV_handle_as_tcp(handle)!.deallocate()
            }
            _ = CLibUV_close_socket(descriptor)
            throw error
        }
        self.init(loop: loop, adopting: handle)
    }
}
