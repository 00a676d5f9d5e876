import Foundation
import Glibc
import Synchronization

/// Loopback ports that no two users can be handed at once: threads of this process (swift-testing
/// runs suites in parallel), other processes (the black-box suite, a second bench or CI run).
///
/// Servers normally bind port -1 and report the port in their ports file (`PortsFile`); a port
/// is claimed here only when it must be known before its server starts (`MeshRun` starts every
/// node at once, each naming its predecessor's route port) or when nothing may listen on it.
///
/// The scheme is shared with `Tests/BlackBox/port_allocator.py`, so both must change together:
/// - ports lie below the kernel's ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`,
///   from 20000 up), so no outgoing connection is given one as its local port; when that range
///   starts too low, the ports above it;
/// - a claim is an exclusive `flock` on `<lockDirectory>/<port>.lock` (default
///   `/tmp/natsd-test-ports`, env `NATSD_TEST_PORTS_DIR`), held on an fd with `O_CLOEXEC` (servers
///   must not inherit it) until `release` or process exit; lock files are never deleted;
/// - nothing listens on the port now (a bind to 127.0.0.1 with `SO_REUSEADDR`, as servers bind).
final class PortAllocator: Sendable {
    /// The allocator of this process.
    static let shared = PortAllocator()

    static let defaultLockDirectory =
        ProcessInfo.processInfo.environment["NATSD_TEST_PORTS_DIR"] ?? "/tmp/natsd-test-ports"
    /// Lowest port handed out: clear of well-known and commonly configured ports (4222, 8080, …).
    static let lowestPort = 20000
    /// Fewest ports a usable range must offer.
    static let minimumRange = 1000

    let lockDirectory: String
    /// Candidate ports; empty when the machine leaves no room (then `claim` throws).
    let ports: Range<Int>
    /// Port → fd holding its lock.
    private let held = Mutex<[Int: Int32]>([:])
    private let isBindable: @Sendable (Int) -> Bool

    /// `isBindable` decides whether nothing listens on a port (tests of the locking replace it, so
    /// that whatever the machine runs cannot change their outcome).
    init(
        lockDirectory: String = PortAllocator.defaultLockDirectory, ports: Range<Int>? = nil,
        isBindable: @escaping @Sendable (Int) -> Bool = PortAllocator.bindable
    ) {
        self.lockDirectory = lockDirectory
        self.ports = ports ?? Self.candidateRange(ephemeral: Self.ephemeralRange()) ?? 0..<0
        self.isBindable = isBindable
    }

    /// The kernel's ephemeral port range, inclusive; Linux's default when unreadable.
    static func ephemeralRange(path: String = "/proc/sys/net/ipv4/ip_local_port_range") -> ClosedRange<Int> {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let fields = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard fields.count >= 2, fields[0] <= fields[1] else { return 32768...60999 }
        return fields[0]...fields[1]
    }

    /// Ports from `lowestPort` up to the ephemeral range, else above it; nil when neither side
    /// offers `minimumRange` ports.
    static func candidateRange(ephemeral: ClosedRange<Int>) -> Range<Int>? {
        let below = lowestPort..<max(lowestPort, min(ephemeral.lowerBound, 65536))
        if below.count >= minimumRange { return below }
        let above = max(ephemeral.upperBound + 1, lowestPort)..<65536
        return above.count >= minimumRange ? above : nil
    }

    /// A port claimed for this process until `release(_:)` or exit.
    func claim() throws -> Int {
        guard !ports.isEmpty else { throw BenchError("no room for test ports outside the ephemeral range") }
        if mkdir(lockDirectory, 0o777) == 0 || errno == EEXIST {
            chmod(lockDirectory, 0o1777)  // shared by every user's runs; fails harmlessly if not ours
        }
        let claimed: Int? = held.withLock { held in
            let start = Int.random(in: 0..<ports.count)
            for offset in 0..<ports.count {
                let port = ports.lowerBound + (start + offset) % ports.count
                guard held[port] == nil, let fd = lock(port) else { continue }
                guard isBindable(port) else {
                    close(fd)
                    continue
                }
                held[port] = fd
                return port
            }
            return nil
        }
        guard let claimed else {
            throw BenchError("no free test port in \(ports.lowerBound)-\(ports.upperBound - 1) (\(lockDirectory))")
        }
        return claimed
    }

    /// Gives up the claim on `port` (no-op when not held); only once nothing uses the port.
    func release(_ port: Int) {
        if let fd = held.withLock({ $0.removeValue(forKey: port) }) { close(fd) }
    }

    /// An fd holding the exclusive lock of `port`, or nil when another holder has it. Opened
    /// read-only: flock needs no write access, so lock files of another user serve as well.
    private func lock(_ port: Int) -> Int32? {
        let fd = open("\(lockDirectory)/\(port).lock", O_RDONLY | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else { return nil }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// True when 127.0.0.1:`port` can be bound now the way servers bind it.
    static func bindable(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        address.sin_port = UInt16(port).bigEndian
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 }
        }
    }
}
