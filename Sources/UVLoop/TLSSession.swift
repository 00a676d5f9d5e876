import CLibUV
import CTLS

/// One connection's TLS state: the OpenSSL session and the ciphertext waiting to be written.
///
/// Memory: the session holds OpenSSL's per-connection objects (the SSL object, its BIO and, after the
/// handshake, the peer's certificate when one was asked for); OpenSSL's 16 KiB record buffers exist only
/// while a record is being read or written (`SSL_MODE_RELEASE_BUFFERS`), and ciphertext sits in the
/// loop's recycled 64 KiB outbound chunks only until the kernel took it. Plaintext keeps using the
/// connection's own buffers, so an idle TLS connection owns no buffer at all.
///
/// Public only so a session can move with its socket to another loop (`TCPConnection.takeTLSSession`,
/// `adoptTLSSession`); everything in it stays internal.
public final class TLSSession {
    /// Where the handshake stands.
    enum State {
        case handshaking
        case established
        case failed
    }

    /// The loop of the connection using it (it changes when the socket moves to another loop); loops
    /// outlive their connections, unowned(unsafe) as in `TCPConnection`.
    unowned(unsafe) var loop: EventLoop
    /// The OpenSSL session; set right after init (its output callback needs this object's address).
    private(set) var raw: OpaquePointer!
    /// Keeps the context alive as long as a session made from it.
    let context: TLSContext
    var state = State.handshaking
    /// Why the handshake failed (OpenSSL's reason, or a timeout).
    var failure: String?
    /// Bytes at the head of the connection's plaintext queue that go out unencrypted: what was queued
    /// before TLS started (nats-server's INFO precedes the handshake).
    var clearPrefix = 0
    /// Closes the connection if the handshake has not completed in time; nil once it has.
    var handshakeTimer: LoopTimer?

    /// Ciphertext not yet accepted by the kernel, in loop chunks; those before `head` are written.
    var blocks: ContiguousArray<OutboundBlock> = []
    var head = 0
    /// Bytes of `blocks[head]` already written.
    var headOffset = 0
    /// Ciphertext bytes queued and not yet written.
    var pendingCount = 0
    /// Bytes OpenSSL produced so far (the clear prefix not counted).
    var producedCount = 0
    /// Set when the handshake failed after this side had spoken TLS: the peer is owed the alert OpenSSL
    /// queued. A peer that never sent a TLS hello (a plaintext client) gets none, as from nats-server.
    var owesAlert = false
    /// Set when the handshake failed on the peer's first bytes, before this side had sent any TLS: the peer
    /// may not speak TLS at all (a plaintext client, a load balancer's probe).
    var failedBeforeSpeaking = false

    /// Makes a session on `context`, server or client side as the context is; nil when OpenSSL cannot.
    static func make(loop: EventLoop, context: TLSContext) -> TLSSession? {
        let session = TLSSession(loop: loop, context: context)
        // Unretained: the connection owns the session and frees the OpenSSL side (`release`) first.
        let owner = Unmanaged.passUnretained(session).toOpaque()
        guard let raw = CTLS_session_new(context.raw, context.configuration.isServer ? 1 : 0, { owner, bytes, count in
            let session = Unmanaged<TLSSession>.fromOpaque(owner!).takeUnretainedValue()
            session.producedCount += count
            session.queueCiphertext(bytes!, count: count)
        }, owner) else { return nil }
        session.raw = raw
        return session
    }

    private init(loop: EventLoop, context: TLSContext) {
        self.loop = loop
        self.context = context
    }

    /// Frees the OpenSSL session and gives every chunk back to the loop (the connection's close).
    func release() {
        handshakeTimer?.close()
        handshakeTimer = nil
        if let raw { CTLS_session_free(raw) }
        raw = nil
        while head < blocks.count {
            loop.recycle(blocks[head].base, capacity: blocks[head].capacity)
            head += 1
        }
        blocks.removeAll()
        head = 0
        headOffset = 0
        pendingCount = 0
    }

    // MARK: Ciphertext queue

    /// OpenSSL's output: appended to the last chunk, new chunks taken from the loop as needed.
    func queueCiphertext(_ bytes: UnsafeRawPointer, count: Int) {
        var source = bytes
        var remaining = count
        while remaining > 0 {
            if blocks.count == head || blocks[blocks.count - 1].used == blocks[blocks.count - 1].capacity {
                blocks.append(OutboundBlock(base: loop.takeChunk(), capacity: loop.chunkSize, used: 0))
            }
            let last = blocks.count - 1
            let length = min(remaining, blocks[last].capacity - blocks[last].used)
            (blocks[last].base + blocks[last].used).copyMemory(from: source, byteCount: length)
            blocks[last].used += length
            source += length
            remaining -= length
        }
        pendingCount += count
    }

    /// Fills the loop's iovec array from the head of the ciphertext queue; returns entries and bytes.
    func fillIovecs() -> (count: Int32, bytes: Int) {
        let iovecs = loop.iovecs
        var count = 0
        var bytes = 0
        var index = head
        var offset = headOffset
        while index < blocks.count && count < loop.iovecCapacity {
            let length = blocks[index].used - offset
            if length > 0 {
                iovecs[count] = uv_buf_t(base: (blocks[index].base + offset).assumingMemoryBound(to: CChar.self),
                                         len: length)
                count += 1
                bytes += length
            }
            offset = 0
            index += 1
        }
        return (Int32(count), bytes)
    }

    /// `count` ciphertext bytes reached the kernel: chunks they emptied go back to the loop.
    func advance(by count: Int) {
        pendingCount -= count
        var remaining = count
        while head < blocks.count {
            let length = blocks[head].used - headOffset
            if remaining < length { break }
            remaining -= length
            loop.recycle(blocks[head].base, capacity: blocks[head].capacity)
            head += 1
            headOffset = 0
        }
        if head == blocks.count {
            blocks.removeAll(keepingCapacity: false)
            head = 0
        }
        headOffset += remaining
    }

    // MARK: OpenSSL steps

    /// Advances the handshake over the input fed; returns the new state.
    func stepHandshake() -> State {
        let producedBeforeStep = producedCount
        switch CTLS_session_handshake(raw) {
        case 1:
            state = .established
            handshakeTimer?.close()
            handshakeTimer = nil
        case 0:
            break
        default:
            owesAlert = producedBeforeStep > 0
            failedBeforeSpeaking = producedBeforeStep == 0
            state = .failed
            failure = TLSSession.lastError()
        }
        return state
    }

    /// The peer certificate's subject (RFC 2253), nil without one.
    var peerSubject: String? {
        guard let raw else { return nil }
        var buffer = [CChar](repeating: 0, count: 1024)
        guard CTLS_session_peer_subject(raw, &buffer, buffer.count) == 0 else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// OpenSSL's reason for this thread's last failure ("" for none).
    static func lastError() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        CTLS_last_error(&buffer, buffer.count)
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
