import CLibUV

/// A libuv error: the negative status code a libuv call returned, with libuv's name and message.
public struct UVError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The negative libuv status code (for example `UV_ECONNREFUSED`).
    public let code: Int32

    /// Wraps a negative libuv status code.
    public init(code: Int32) {
        self.code = code
    }

    /// libuv's symbolic name of the error, e.g. "ECONNREFUSED".
    public var name: String {
        String(cString: uv_err_name(code))
    }

    /// libuv's human-readable message for the error.
    public var description: String {
        String(cString: uv_strerror(code))
    }

    /// Whether this is a failure of name resolution (getaddrinfo's `EAI_*`, libuv's `UV_EAI_*`), such as a
    /// host name that does not exist (`UV_EAI_NONAME`).
    public var isAddressLookupFailure: Bool {
        (UV_EAI_PROTOCOL.rawValue...UV_EAI_ADDRFAMILY.rawValue).contains(code)
    }

    /// Whether the resolver found no address for the name (`UV_EAI_NONAME`, `UV_EAI_NODATA`): the host
    /// does not exist, as opposed to a resolver that could not answer.
    public var isNoSuchHost: Bool {
        code == UV_EAI_NONAME.rawValue || code == UV_EAI_NODATA.rawValue
    }

    /// The connection was refused by the peer.
    public static let connectionRefused = UVError(code: UV_ECONNREFUSED.rawValue)
    /// A dial did not complete within its time limit.
    public static let timedOut = UVError(code: UV_ETIMEDOUT.rawValue)
    /// The operation was cancelled (for example by closing its handle).
    public static let cancelled = UVError(code: UV_ECANCELED.rawValue)
    /// The peer closed its side of the connection.
    public static let endOfFile = UVError(code: UV_EOF.rawValue)
}

/// The one place every libuv status passes through: `nil` for success (status >= 0),
/// otherwise the matching `UVError`.
@inlinable
func uvStatus(_ status: Int32) -> UVError? {
    status < 0 ? UVError(code: status) : nil
}

/// Throws the `UVError` for a failed libuv status; used where a failure must reach the caller.
@inlinable
func uvCheck(_ status: Int32) throws(UVError) {
    if let error = uvStatus(status) { throw error }
}

/// For libuv calls that can only fail through a programming error (starting a closed timer,
/// an invalid signal number on an initialised handle): stops with libuv's message.
@inlinable
func uvMustSucceed(_ status: Int32, _ what: StaticString) {
    if let error = uvStatus(status) {
        preconditionFailure("\(what) failed: \(error.name) \(error)")
    }
}
