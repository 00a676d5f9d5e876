import CLibUV
import CTLS

/// TLS as a transform under the delegate: ciphertext is read into the loop's TLS read buffer and
/// decrypted into the place a plaintext read would have landed (so the delegate's tail and large-frame
/// handling stay as they are); the plaintext queue writers fill is encrypted at flush time, once per
/// loop turn, and the ciphertext goes out in one vectored write. A plaintext connection pays one
/// `tls == nil` branch in the read callback, the alloc callback and the flush.
extension TCPConnection {
    /// Starts TLS on this connection, as a server or client as `context` is. Bytes queued before this call
    /// are still sent in the clear (nats-server's INFO precedes the handshake); everything queued later is
    /// encrypted once the handshake completed. A client side sends its hello at the next flush. With
    /// `handshakeTimeoutMilliseconds` > 0 the connection closes (`UVError.timedOut`) when the handshake has
    /// not completed in time; a failed handshake closes it with EPROTO (`tlsFailure` says why).
    /// Does nothing once TLS started or the connection is closing.
    public func startTLS(context: TLSContext, handshakeTimeoutMilliseconds: UInt64) {
        guard !isClosing, tls == nil else { return }
        guard let session = TLSSession.make(loop: loop, context: context) else {
            close(error: UVError(code: UV_ENOMEM.rawValue))
            return
        }
        session.clearPrefix = pendingByteCount
        tls = session
        if handshakeTimeoutMilliseconds > 0 {
            // Unowned: close() closes this timer before the connection can go away.
            let timer = LoopTimer(loop: loop) { [unowned self] in self.tlsHandshakeTimedOut() }
            timer.start(afterMilliseconds: handshakeTimeoutMilliseconds)
            session.handshakeTimer = timer
        }
        if !context.configuration.isServer {
            _ = session.stepHandshake()
            scheduleTLSFlushIfNeeded(session)
        }
    }

    /// Checks the server's certificate against `host` (a DNS name or an IP address) as well as its CA;
    /// call right after `startTLS` on a client side. False when OpenSSL refuses the name.
    public func setTLSPeerName(_ host: String) -> Bool {
        guard let raw = tls?.raw else { return false }
        return CTLS_session_set_peer_name(raw, host) == 0
    }

    /// Takes the established TLS session off a connection about to give up its socket
    /// (`detachSocketKeepingInput`), so it continues on the connection adopting the socket; nil without
    /// TLS. The connection must not read or write any more.
    public func takeTLSSession() -> TLSSession? {
        guard let session = tls, session.state == .established, session.pendingCount == 0 else { return nil }
        tls = nil
        return session
    }

    /// Continues `session` (from `takeTLSSession` on another loop's connection of this socket) here.
    public func adoptTLSSession(_ session: TLSSession) {
        precondition(tls == nil, "adoptTLSSession on a connection with TLS")
        session.loop = loop
        tls = session
    }

    /// Whether TLS was started on this connection.
    public var isTLS: Bool { tls != nil }

    /// TLS started and its handshake has not completed (a close now is a handshake failure).
    public var isAwaitingTLSHandshake: Bool { tls.map { $0.state != .established } ?? false }

    /// Why the TLS handshake failed, as OpenSSL words it ("timeout" when it took too long); nil otherwise.
    public var tlsFailure: String? { tls?.failure }

    /// The TLS handshake failed on the peer's first bytes, before this side had sent any TLS (OpenSSL then
    /// sends no alert either): what a peer that does not speak TLS meets.
    public var tlsFailedBeforeSpeaking: Bool { tls?.failedBeforeSpeaking ?? false }

    /// The subject of the peer's certificate (RFC 2253), nil without TLS or a certificate.
    public var tlsPeerSubject: String? { tls?.peerSubject }

    private func tlsHandshakeTimedOut() {
        guard let session = tls, session.state == .handshaking else { return }
        session.state = .failed
        session.failure = "timeout"
        close(error: .timedOut)
    }

    private func scheduleTLSFlushIfNeeded(_ session: TLSSession) {
        if !isClosing && session.pendingCount > 0 && !isOnPendingList { loop.enqueueForFlush(self) }
    }

    // MARK: Reading

    /// The alloc callback's answer for a TLS connection: the loop's ciphertext buffer.
    func tlsReadSpace() -> UnsafeMutableRawBufferPointer {
        let buffer = loop.tlsReadBuffer ?? {
            let made = UnsafeMutableRawPointer.allocate(byteCount: loop.readBufferSize, alignment: 16)
            loop.tlsReadBuffer = made
            return made
        }()
        return UnsafeMutableRawBufferPointer(start: buffer, count: loop.readBufferSize)
    }

    /// `nread` (> 0) ciphertext bytes landed in the loop's TLS read buffer: advance the handshake, then
    /// decrypt and deliver until OpenSSL needs more. Every fed byte is consumed before returning (a
    /// partial record stays inside OpenSSL), so the shared buffer is free for the next connection.
    func tlsDidRead(_ nread: Int) {
        guard let session = tls, let buffer = loop.tlsReadBuffer else { return }
        CTLS_session_feed(session.raw, buffer, nread)
        decryptFedInput(session)
        if let raw = session.raw { CTLS_session_feed(raw, nil, 0) }
        scheduleTLSFlushIfNeeded(session)
    }

    private func decryptFedInput(_ session: TLSSession) {
        if session.state == .handshaking {
            switch session.stepHandshake() {
            case .handshaking:
                return
            case .failed:
                if session.owesAlert && session.pendingCount > 0 {
                    // The alert OpenSSL queued tells the peer why (as Go's TLS does); then the close.
                    session.clearPrefix = 0
                    dropQueuedOutput()
                    closeAfterFlush()
                } else {
                    close(error: UVError(code: UV_EPROTO.rawValue))
                }
                return
            case .established:
                delegate?.connectionDidCompleteTLSHandshake(self)
                // Plaintext queued while the handshake ran goes out now.
                if !isClosing && pendingByteCount > 0 && !isOnPendingList { loop.enqueueForFlush(self) }
            }
        }
        // A connection ending after a flush reads no more, as on the plaintext path. Records are decrypted
        // back to back into the read space and delivered together, so the delegate sees reads as large as
        // plaintext ones (one per 16 KiB record would multiply its per-read work).
        while !isClosing && !closeAfterFlushRequested {
            let space = readSpace()
            guard let base = space.baseAddress, space.count > 0 else { return }
            var filled = 0
            var status = 1
            while filled < space.count {
                let count = CTLS_session_read(session.raw, base + filled, space.count - filled)
                if count <= 0 {
                    status = count
                    break
                }
                filled += count
            }
            if filled > 0 { didReceive(filled) }
            if status == 0 || isClosing { return }
            if status < 0 {
                // -1: the peer ended the session (close_notify), as an EOF; else a broken record.
                close(error: status == -1 ? nil : UVError(code: UV_EPROTO.rawValue))
                return
            }
        }
    }

    // MARK: Writing

    /// The flush of a TLS connection: encrypt what is queued (at most `maximumEncryptedPerFlush` at a time,
    /// and only once the previous ciphertext was written, so the plaintext queue keeps measuring what the
    /// peer has not taken), write it, and go on while the kernel takes everything: the loop may block
    /// right after this flush, so nothing may be left for a later turn without a write in flight.
    func flushTLS(_ session: TLSSession) {
        guard !isClosing, !writeInFlight else { return }
        while true {
            if session.pendingCount == 0 && pendingByteCount > 0 {
                encryptQueued(session)
                if isClosing { return }
            }
            guard session.pendingCount > 0 else { break }
            guard let written = tryWrite(session.fillIovecs().count) else { return }
            if written > 0 { session.advance(by: written) }
            if session.pendingCount > 0 {
                let (count, bytes) = session.fillIovecs()
                startWrite(count, bytes: bytes) { request, status in
                    let data = request!.pointee.data!
                    Unmanaged<TCPConnection>.fromOpaque(data).takeUnretainedValue().tlsWriteDidComplete(status)
                }
                return
            }
        }
        tlsQueueWritten(session)
    }

    /// The `uv_write` callback of a TLS connection.
    private func tlsWriteDidComplete(_ status: Int32) {
        writeInFlight = false
        if isClosing { return }
        if let error = uvStatus(status) {
            close(error: error)
            return
        }
        guard let session = tls else { return }
        session.advance(by: inflightBytes)
        inflightBytes = 0
        if session.pendingCount > 0 {
            if !isOnPendingList { loop.enqueueForFlush(self) }
            return
        }
        tlsQueueWritten(session)
    }

    /// All ciphertext is written: encrypt more next turn if plaintext waits, else finish like a plaintext
    /// flush (give the open block back, go on with a close after the flush).
    private func tlsQueueWritten(_ session: TLSSession) {
        // After a failed handshake only the alert was to be written; plaintext never is.
        if session.state == .failed {
            close(error: UVError(code: UV_EPROTO.rawValue))
            return
        }
        if pendingByteCount > 0 {
            // Plaintext waits for the handshake, whose completion schedules the next flush; otherwise
            // (called from the write callback) it is encrypted in this turn's flush.
            if session.state == .established || session.clearPrefix > 0, !isOnPendingList { loop.enqueueForFlush(self) }
            return
        }
        releaseOpenBlockIfDrained()
        if closeAfterFlushRequested { queueWasFlushedBeforeClose() }
    }

    /// Plaintext encrypted per flush, at most: bounds the ciphertext a slow peer's connection holds.
    static let maximumEncryptedPerFlush = 256 * 1024

    /// Moves plaintext from the head of the queue into the ciphertext queue: the clear prefix as it is,
    /// the rest through OpenSSL once the handshake completed.
    private func encryptQueued(_ session: TLSSession) {
        var budget = TCPConnection.maximumEncryptedPerFlush
        while pendingByteCount > 0 && budget > 0 {
            let clear = session.clearPrefix > 0
            guard clear || session.state == .established else { return }
            let limit = min(budget, clear ? session.clearPrefix : budget)
            let (count, _) = fillIovecs()
            var moved = 0
            for index in 0..<Int(count) where moved < limit {
                let buffer = loop.iovecs[index]
                let length = min(buffer.len, limit - moved)
                if clear {
                    session.queueCiphertext(buffer.base, count: length)
                } else if CTLS_session_write(session.raw, buffer.base, length) != 0 {
                    session.failure = TLSSession.lastError()
                    close(error: UVError(code: UV_EPROTO.rawValue))
                    return
                }
                moved += length
            }
            if clear { session.clearPrefix -= moved }
            advanceHead(by: moved)
            budget -= moved
        }
    }
}
