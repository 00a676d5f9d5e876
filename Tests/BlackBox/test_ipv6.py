"""IPv6: with the unspecified host (0.0.0.0, the default) nats-server listens dual-stack, so clients
reach it over ::1 as well as 127.0.0.1; so do its route and monitoring listeners. Logs and INFO keep
the configured host. A specific IPv4 host stays IPv4 only (issue 6, point 8)."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from monitor_http import wait_monitor_json
from raw_client import RawClient
from server_process import free_port, start_server


def has_ipv6_loopback() -> bool:
    """True when ::1 is configured (Linux lists IPv6 addresses in /proc/net/if_inet6)."""
    try:
        lines = Path("/proc/net/if_inet6").read_text().splitlines()
    except OSError:
        return False
    return any(line.startswith("00000000000000000000000000000001") for line in lines)


pytestmark = pytest.mark.skipif(not has_ipv6_loopback(), reason="::1 is not configured on this machine")


def read_line(host: str, port: int, timeout: float = 5.0) -> bytes:
    """Connects to host:port and returns the first line the server sends."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        data = b""
        deadline = time.monotonic() + timeout
        while b"\r\n" not in data:
            assert time.monotonic() < deadline, f"no line from [{host}]:{port}; got {data!r}"
            chunk = sock.recv(4096)
            assert chunk, f"[{host}]:{port} closed before a line; got {data!r}"
            data += chunk
        return data.split(b"\r\n", 1)[0]


async def test_unspecified_host_serves_ipv6_and_ipv4_clients(start):
    # -a 0.0.0.0 after the harness's -a 127.0.0.1: the later flag wins on both servers.
    server = start("-a", "0.0.0.0")
    over_ipv6 = await RawClient.connected(server.port, host="::1")
    assert over_ipv6.info["host"] == "0.0.0.0"  # the configured host, not ::
    await over_ipv6.send(b"SUB v6 1\r\nPING\r\n")
    await over_ipv6.expect(b"PONG\r\n")
    over_ipv4 = await RawClient.connected(server.port, host="127.0.0.1")
    await over_ipv4.send(b"PUB v6 2\r\nhi\r\nPING\r\n")
    await over_ipv4.expect(b"PONG\r\n")
    await over_ipv6.expect(b"MSG v6 1 2\r\nhi\r\n")
    await over_ipv4.close()
    await over_ipv6.close()
    assert "Listening for client connections on 0.0.0.0:" in server.log


async def test_ipv4_client_of_dual_stack_listener_is_named_as_ipv4(start):
    server = start("-a", "0.0.0.0")
    over_ipv4 = await RawClient.open(server.port, host="127.0.0.1")
    assert over_ipv4.info["client_ip"] == "127.0.0.1"  # not ::ffff:127.0.0.1
    over_ipv6 = await RawClient.open(server.port, host="::1")
    assert over_ipv6.info["client_ip"] == "::1"
    await over_ipv4.close()
    await over_ipv6.close()


def test_unspecified_host_route_and_monitoring_listeners_are_dual_stack(start):
    cluster_port, http_port = free_port(), free_port()
    server = start("-a", "0.0.0.0", "--cluster", f"nats://0.0.0.0:{cluster_port}", "-m", str(http_port))
    for host in ("::1", "127.0.0.1"):
        line = read_line(host, cluster_port)
        assert line.startswith(b"INFO "), line
        assert json.loads(line[5:])["port"] == cluster_port
    assert wait_monitor_json(http_port, "/varz", host="::1")["port"] == server.port


async def test_explicit_ipv4_host_is_not_reachable_over_ipv6(start):
    server = start()  # -a 127.0.0.1
    with pytest.raises(OSError):
        socket.create_connection(("::1", server.port), timeout=2).close()
    client = await RawClient.connected(server.port)
    await client.close()


async def test_explicit_ipv6_host_serves_ipv6_clients(impl, tmp_path):
    server = start_server(impl, host="::1", workdir=tmp_path)
    try:
        client = await RawClient.connected(server.port, host="::1")
        assert client.info["host"] == "::1"
        await client.close()
        assert f"Listening for client connections on [::1]:{server.port}" in server.log
    finally:
        server.kill()
