"""Loopback ports that no two tests can be handed at once, across threads, processes and runs.

Servers normally bind port -1 (the kernel picks) and report the port in their ports file (see
server_process.py). A port is needed *before* its server exists only when another server must name
it first (a route URL to a node not started yet) or a server restarts on the same port; those
ports come from here.

How a port is claimed:
- it lies below the kernel's ephemeral range (read from /proc/sys/net/ipv4/ip_local_port_range), so
  no outgoing connection (a route being dialled) can be given it as its local port;
- it is locked with an exclusive `flock` on `<lock dir>/<port>.lock` (default /tmp/natsd-test-ports,
  env NATSD_TEST_PORTS_DIR). The lock lives as long as the claim, so parallel pytest processes, the
  Swift bench and its tests (Benchmarks/bench/PortAllocator.swift, same scheme) and a second CI run
  on the same machine never hold the same port. A killed process loses its locks with its fds;
- nothing else listens on it now (a bind to 127.0.0.1 with SO_REUSEADDR, as the servers bind).

Lock files are never deleted: deleting one could let two processes lock two different files of the
same name.
"""

from __future__ import annotations

import errno
import fcntl
import os
import random
import socket
import threading
from pathlib import Path
from typing import Callable

LOCK_DIR = Path(os.environ.get("NATSD_TEST_PORTS_DIR", "/tmp/natsd-test-ports"))
# Lowest port handed out: keeps clear of well-known and commonly configured ports (4222, 8080, ...).
LOWEST_PORT = 20000
# Fewest ports a usable range must offer.
MINIMUM_RANGE = 1000


def ephemeral_range(path: str = "/proc/sys/net/ipv4/ip_local_port_range") -> tuple[int, int]:
    """The kernel's ephemeral port range `(low, high)`, inclusive; Linux's default when unreadable."""
    try:
        low, high = (int(field) for field in Path(path).read_text().split()[:2])
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def candidate_range(ephemeral: tuple[int, int]) -> range:
    """Ports to hand out: from LOWEST_PORT up to the ephemeral range, or, when the ephemeral range
    starts too low to leave MINIMUM_RANGE ports there, the ports above it."""
    low, high = ephemeral
    below = range(LOWEST_PORT, min(low, 65536))
    if len(below) >= MINIMUM_RANGE:
        return below
    above = range(max(high + 1, LOWEST_PORT), 65536)
    if len(above) >= MINIMUM_RANGE:
        return above
    raise RuntimeError(f"no room for test ports outside the ephemeral range {low}-{high}")


def loopback_port_is_free(port: int) -> bool:
    """True when 127.0.0.1:port can be bound now the way servers bind it (SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class PortAllocator:
    """Claims and releases ports; thread-safe. `claim()` never returns a port that this or any
    other process holds a claim on."""

    def __init__(self, lock_dir: Path = LOCK_DIR, ports: range | None = None,
                 bindable: Callable[[int], bool] = loopback_port_is_free) -> None:
        """`bindable` decides whether nothing listens on a port (tests of the locking replace it,
        so that whatever the machine runs cannot change their outcome)."""
        self.lock_dir = lock_dir
        self.ports = ports if ports is not None else candidate_range(ephemeral_range())
        self._bindable = bindable
        self._held: dict[int, int] = {}  # port -> fd holding its flock
        self._mutex = threading.Lock()
        self._random = random.Random()

    def claim(self) -> int:
        """A port claimed for this process until `release(port)` or the process ends.
        Raises RuntimeError when every port of the range is taken."""
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(self.lock_dir, 0o1777)  # shared by every user's test runs
        except OSError:
            pass
        with self._mutex:
            count = len(self.ports)
            start = self._random.randrange(count)
            for offset in range(count):
                port = self.ports[(start + offset) % count]
                if port in self._held:
                    continue
                fd = self._lock(port)
                if fd is None:
                    continue
                if not self._bindable(port):
                    os.close(fd)
                    continue
                self._held[port] = fd
                return port
        raise RuntimeError(f"no free test port in {self.ports.start}-{self.ports.stop - 1} ({self.lock_dir})")

    def release(self, port: int) -> None:
        """Gives up the claim on `port` (no-op when not held). Only once nothing uses the port."""
        with self._mutex:
            fd = self._held.pop(port, None)
        if fd is not None:
            os.close(fd)  # closing the only fd of the open file drops the flock

    def held(self) -> set[int]:
        with self._mutex:
            return set(self._held)

    def _lock(self, port: int) -> int | None:
        """An fd holding the exclusive lock of `port`, or None when another holder has it. Read-only:
        flock needs no write access, so lock files another user created serve as well."""
        path = self.lock_dir / f"{port}.lock"
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return None
            raise
        return fd


# The allocator of this process (pytest runs the whole session in one process).
ALLOCATOR = PortAllocator()


def claim_port() -> int:
    return ALLOCATOR.claim()


def release_port(port: int) -> None:
    ALLOCATOR.release(port)
