"""Process life: signals, shutdown, start-up limits and the route handshake deadline (issue 6).

nats-server traps SIGINT/SIGTERM (shut down), SIGUSR1 (reopen the log file), SIGUSR2 (lame duck
mode, test_lame_duck.py) and SIGHUP (reload); none of them may kill the process. Shutdown ends as soon as nothing is
left to flush and tells clients nothing more (no async INFO). At start-up the soft open-files limit
is raised to the hard one (the Go runtime does it for nats-server). A route connection that never
sends CONNECT is closed when the cluster's authorization timeout expires.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from raw_client import RawClient
from server_process import (ServerHandle, binary_for, free_port, port_of, start_server, wait_for,
                            wait_until_accepting)
from socket_helpers import read_until_closed, stalled_subscriber

# An idle server must be gone this soon after SIGTERM (nats-server: ~2 ms; natsd used to take 2.0 s).
# Far above both on a loaded machine, far below the old 2 s.
IDLE_EXIT_LIMIT = 0.5


def exit_time(server: ServerHandle, number: int = signal.SIGTERM) -> float:
    """Sends `number` and returns the seconds until the process exited (fails after 10 s)."""
    started = time.monotonic()
    server.proc.send_signal(number)
    code = server.proc.wait(timeout=10)
    elapsed = time.monotonic() - started
    assert code == 0, f"{server.impl} exited with {code}\n{server.log}"
    return elapsed


def connect_raw_clients(port: int, count: int, timeout: float = 60.0) -> list[socket.socket]:
    """Opens `count` blocking sockets that each complete INFO, CONNECT and PING/PONG, in batches of
    100. Fails (closing what it opened) with how many were served when one is refused or times out."""
    deadline = time.monotonic() + timeout
    sockets: list[socket.socket] = []

    def read_until(sock: socket.socket, marker: bytes) -> bytes:
        data = b""
        while marker not in data:
            sock.settimeout(max(0.1, min(5.0, deadline - time.monotonic())))
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed by the server")
            data += chunk
        return data

    try:
        while len(sockets) < count:
            batch = []
            for _ in range(min(100, count - len(sockets))):
                batch.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            for sock in batch:
                read_until(sock, b"\r\n")
                sock.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n')
            for sock in batch:
                read_until(sock, b"PONG\r\n")
                sockets.append(sock)
            assert time.monotonic() < deadline, f"only {len(sockets)} of {count} clients served in {timeout}s"
    except (OSError, ConnectionError) as error:
        served = len(sockets)
        for sock in sockets:
            sock.close()
        raise AssertionError(f"served {served} of {count} clients, then: {error!r}") from None
    return sockets


# ---- signals ------------------------------------------------------------------------------------


async def test_sighup_keeps_server_running_and_serving(start, impl):
    # Both reload on SIGHUP (test_reload.py) and, started without -c, log that they cannot; neither
    # may exit or drop its clients.
    server = start()
    client = await RawClient.connected(server.port)
    for count in (1, 2):  # one at a time: a second pending SIGHUP would merge with the first
        server.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: server.log.count('Trapped "hangup" signal') == count, what=f"SIGHUP {count} logged")
    assert server.alive()
    await client.send(b"PING\r\n")
    await client.expect(b"PONG\r\n")
    other = await RawClient.connected(server.port)
    await other.close()
    await client.close()
    assert ("Failed to reload server configuration: can only reload config when a file is provided "
            "using -c or --config") in server.log, server.log


def test_sigusr1_reopens_the_log_file_for_rotation(start, tmp_path):
    log_path = tmp_path / "rotating.log"
    rotated = tmp_path / "rotating.log.1"
    server = start("-l", str(log_path))
    wait_for(lambda: log_path.exists() and "Server is ready" in log_path.read_text(), what="the first log")
    log_path.rename(rotated)
    server.proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: log_path.exists() and "File log re-opened" in log_path.read_text(),
             what="'File log re-opened' in a new file at the original path")
    # Later lines go to the new file only.
    server.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: 'Trapped "hangup" signal' in log_path.read_text(), what="the SIGHUP line in the new file")
    old = rotated.read_text()
    assert "Server is ready" in old
    assert 'Trapped "user defined signal 1" signal' in old
    assert "re-opened" not in old and "hangup" not in old
    assert server.alive()


def test_sigusr1_without_log_file_is_ignored(start):
    server = start()
    server.proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: "File log re-open ignored, not a file logger" in server.log, what="the ignore line")
    assert server.alive()


# ---- shutdown -----------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_idle_server_exits_promptly(start, number):
    server = start()
    elapsed = exit_time(server, number)
    assert elapsed < IDLE_EXIT_LIMIT, f"{server.impl} took {elapsed:.3f}s to exit"


def test_server_with_100_clients_exits_promptly_and_closes_them(start):
    server = start()
    sockets = connect_raw_clients(server.port, 100)
    try:
        elapsed = exit_time(server)
        assert elapsed < 1.0, f"{server.impl} took {elapsed:.3f}s to exit with 100 clients"
        for sock in sockets:  # every client sees the connection end (EOF or reset), nothing else
            sock.settimeout(2)
            try:
                while sock.recv(4096):
                    pass
            except ConnectionResetError:
                pass
    finally:
        for sock in sockets:
            sock.close()


def test_shutdown_waits_only_a_bounded_time_for_a_client_that_stopped_reading(start):
    # A subscriber that never reads, with megabytes queued for it: the server still exits. natsd
    # gives such peers a grace of at most 2 s; nats-server waits for its write deadline (here 2 s).
    server = start(config='write_deadline: "2s"\n')
    sockets = stalled_subscriber(server.port)
    try:
        elapsed = exit_time(server)
        assert elapsed < 5.0, f"{server.impl} took {elapsed:.3f}s to exit"
    finally:
        for sock in sockets:
            sock.close()


async def test_no_async_info_to_clients_during_shutdown(impl, tmp_path):
    # Server A (random client port, -p -1) and B, routed. A client of A that takes async INFO learns
    # B's URL when B joins; when A shuts down it must get no INFO listing A alone (or `:-1`): clients
    # drop every server missing from the latest connect_urls and would not fail over to B.
    cluster_port = free_port()
    ports_dir = tmp_path / "ports"
    ports_dir.mkdir()
    handles: list[ServerHandle] = []
    try:
        a = start_server(impl, ["--cluster", f"nats://127.0.0.1:{cluster_port}", "--cluster_name", "shut",
                                "--ports_file_dir", str(ports_dir), "-p", "-1"], workdir=tmp_path)
        handles.append(a)  # its client port was read from its ports file

        client = await RawClient.open(a.port)
        assert client.info["port"] == a.port, client.info
        await client.send_connect(verbose=False, pedantic=False, protocol=1)
        await client.send(b"PING\r\n")
        await client.expect(b"PONG\r\n")

        b = start_server(impl, ["--cluster", f"nats://127.0.0.1:{free_port()}", "--cluster_name", "shut",
                                "--routes", f"nats-route://127.0.0.1:{cluster_port}"], workdir=tmp_path)
        handles.append(b)
        urls: list[str] = []
        deadline = time.monotonic() + 10
        while not any(port_of(url) == b.port for url in urls):  # async INFOs until one lists B
            assert time.monotonic() < deadline, f"no INFO listing B; last connect_urls {urls}"
            line = await client.read_until(b"\r\n", timeout=10)
            if line.startswith(b"PING"):
                await client.send(b"PONG\r\n")
                continue
            assert line.startswith(b"INFO "), line
            urls = json.loads(line[5:]).get("connect_urls", [])
            assert all(port_of(url) > 0 for url in urls), urls

        elapsed = exit_time(a)
        rest = await client.expect_closed(timeout=5, allow_data=True)
        await client.close()
        assert b"INFO" not in rest, f"{impl} sent during shutdown: {rest!r}"
        assert elapsed < 1.0, f"{impl} took {elapsed:.3f}s to exit with a route"
        assert b.alive()
    finally:
        for handle in handles:
            handle.kill()


# ---- open files limit ---------------------------------------------------------------------------


def open_files_limits(pid: int) -> tuple[int, int]:
    """Soft and hard 'Max open files' of a running process (/proc/<pid>/limits)."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no 'Max open files' line")


@pytest.mark.slow
def test_soft_open_files_limit_is_raised_to_serve_1500_clients(impl, tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip(f"needs a hard open-files limit of at least 4096 (have {hard})")
    port = free_port()
    log_path = tmp_path / f"{impl}.log"
    argv = [binary_for(impl), "-a", "127.0.0.1", "-p", str(port)]

    def limit_child():  # the server starts as on a default distribution: soft 1024, hard 4096
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 4096))

    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                cwd=tmp_path, preexec_fn=limit_child)
    server = ServerHandle(impl=impl, host="127.0.0.1", port=port, args=argv, proc=proc, log_path=log_path)
    raised_own = soft != resource.RLIM_INFINITY and soft < 2048
    sockets: list[socket.socket] = []
    try:
        if raised_own:  # this test's own 1500 sockets
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard) if hard != resource.RLIM_INFINITY else 4096, hard))
        wait_until_accepting(server)
        soft_now, hard_now = open_files_limits(proc.pid)
        # natsd sets soft := hard; nats-server's Go runtime ends one below it (4095) on this kernel.
        assert hard_now == 4096 and soft_now >= 4095, (soft_now, hard_now)
        sockets = connect_raw_clients(port, 1500)
        assert server.alive()
    except BaseException:
        print(server.log)
        raise
    finally:
        for sock in sockets:
            sock.close()
        server.kill()
        if raised_own:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# ---- route handshake deadline -------------------------------------------------------------------


def silent_route_close_time(port: int, timeout: float = 10.0) -> tuple[float, bytes]:
    """Connects to a route port, sends nothing, and returns (seconds until the server closed, bytes)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    started = time.monotonic()
    try:
        data, closed = read_until_closed(sock, timeout)
    finally:
        sock.close()
    assert closed, f"route connection still open after {timeout}s; got {data!r}"
    return time.monotonic() - started, data


@pytest.mark.slow
@pytest.mark.parametrize("timeout", [None, 1], ids=["default-2s", "configured-1s"])
def test_silent_route_is_closed_at_the_cluster_auth_timeout(start, timeout):
    cluster_port = free_port()
    auth = f'user: "ruser", password: "rpass"' + (f", timeout: {timeout}" if timeout else "")
    config = f'cluster {{\n  name: "deadline"\n  listen: "127.0.0.1:{cluster_port}"\n  authorization {{ {auth} }}\n}}\n'
    start(config=config)
    elapsed, data = silent_route_close_time(cluster_port)
    expected = timeout or 2
    assert b"-ERR 'Authentication Timeout'\r\n" in data, data
    assert expected - 0.3 <= elapsed <= expected + 0.6, f"closed after {elapsed:.2f}s, expected ~{expected}s"


@pytest.mark.slow
def test_silent_route_without_cluster_auth_is_closed_at_auth_timeout(start, impl):
    if impl == "nats-server":
        pytest.skip("nats-server arms the auth timer of an accepted route only when the cluster requires "
                    "authorization (route.go createRoute) and keeps a silent one open; natsd closes every "
                    "silent route connection at the auth timeout (issue 6, point 9)")
    cluster_port = free_port()
    start("--cluster", f"nats://127.0.0.1:{cluster_port}")
    elapsed, data = silent_route_close_time(cluster_port)
    assert b"-ERR 'Authentication Timeout'\r\n" in data, data
    assert 1.7 <= elapsed <= 2.6, f"closed after {elapsed:.2f}s, expected ~2s"
