"""Helpers around plain blocking sockets, for checks that need a peer which misbehaves at the TCP
level (stops reading, or is read until the server closes) rather than a RawClient."""

from __future__ import annotations

import socket
import time


def stalled_subscriber(port: int) -> list[socket.socket]:
    """A subscriber that stopped reading with megabytes queued for it, so shutdown has to wait for
    it (until natsd's 2 s grace or nats-server's write deadline); returns the sockets to close
    (the subscriber and its publisher)."""
    subscriber = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    subscriber.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    subscriber.connect(("127.0.0.1", port))
    subscriber.settimeout(5)
    subscriber.sendall(b'CONNECT {"verbose":false}\r\nSUB big 1\r\nPING\r\n')
    data = b""
    while b"PONG\r\n" not in data:
        data += subscriber.recv(4096)
    publisher = socket.create_connection(("127.0.0.1", port), timeout=5)
    payload = b"x" * 65536
    publisher.sendall(b'CONNECT {"verbose":false}\r\n' + (b"PUB big 65536\r\n" + payload + b"\r\n") * 64 + b"PING\r\n")
    data = b""
    while b"PONG\r\n" not in data:
        data += publisher.recv(4096)
    return [subscriber, publisher]


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, bool]:
    """Reads `sock` until the peer closes it (EOF or reset) or `timeout` seconds pass; returns the
    bytes read and whether the peer closed."""
    deadline = time.monotonic() + timeout
    data = b""
    while (remaining := deadline - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data, True
        except TimeoutError:
            break
        if not chunk:
            return data, True
        data += chunk
    return data, False
