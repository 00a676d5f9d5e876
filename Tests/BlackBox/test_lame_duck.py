"""Lame duck mode (issue 10 point 2): SIGUSR2 or `--signal ldm[=pid]` makes a server stop accepting
clients, tell them (async INFO with `"ldm":true`) and its peers (route INFO with `ldm`), wait
`lame_duck_grace_period`, close its clients spread over the rest of `lame_duck_duration`, then shut
down and exit 0. Also the other `--signal` commands and their errors.

nats-server's smallest `lame_duck_duration` is 30 s; with few clients the pause between two closes
is half a second to a second (the interval is capped at 1 s), so these tests run in a few seconds.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from cluster import eventually
from monitor_http import monitor_json
from raw_client import RawClient
from server_process import ServerHandle, binary_for, port_of, wait_for

GRACE = 0.5
LAME_DUCK_CONFIG = f'lame_duck_duration: "30s"\nlame_duck_grace_period: "{int(GRACE * 1000)}ms"\n'
INFO_LINE = re.compile(rb"INFO ([^\r\n]*)\r\n")
# How long a lame duck server with a handful of clients may take at most to exit: the grace period,
# then under a second per client, with room for a loaded machine.
EXIT_TIMEOUT = 15.0


async def protocol_client(port: int) -> RawClient:
    """A raw client that takes async INFOs (protocol 1), past the INFO that follows its first PONG."""
    client = await RawClient.connected(port, {"protocol": 1})
    await client.expect(INFO_LINE)
    return client


async def next_info(client: RawClient, timeout: float = 5.0) -> dict:
    """The next INFO the server sends (server PINGs before it are answered)."""
    match = await client.expect(INFO_LINE, timeout=timeout)
    return json.loads(match.group(1))


def wait_exit(server: ServerHandle, timeout: float = EXIT_TIMEOUT) -> int:
    try:
        return server.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{server.impl} still running {timeout}s into lame duck mode\n{server.log}") from None


def run_signal(impl: str, argument: str) -> subprocess.CompletedProcess:
    """Runs `<binary> --signal <argument>` (a separate process, as an operator would)."""
    return subprocess.run([binary_for(impl), "--signal", argument], capture_output=True, text=True, timeout=10)


def program_name(impl: str) -> str:
    return "natsd" if impl == "natsd" else "nats-server"


# ---- one server ------------------------------------------------------------------------------------


async def test_lame_duck_informs_refuses_spreads_the_closes_and_exits_0(start, impl):
    server = start("-m", "-1", config=LAME_DUCK_CONFIG)
    first = await RawClient.open(server.port)
    first_info = first.info
    await first.close()
    clients = [await protocol_client(server.port) for _ in range(4)]

    signalled = time.monotonic()
    server.proc.send_signal(signal.SIGUSR2)
    for client in clients:
        info = await next_info(client)
        assert info.get("ldm") is True, info
        # The INFO a new client gets, with `ldm`: nats-server sends no connect_info or nonce in it.
        assert set(info) == (set(first_info) - {"nonce"}) | {"ldm"}, (sorted(info), sorted(first_info))
        assert info["server_id"] == first_info["server_id"]

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
    # Monitoring stays served until the shutdown.
    assert monitor_json(server.monitoring_port, "/varz")["server_id"] == first_info["server_id"]
    assert server.alive()

    async def closed_at(client: RawClient) -> float:
        while True:  # the server may PING meanwhile; anything but a close is answered or ignored
            data = await client.read_for(0.05)
            if b"PING\r\n" in data:
                await client.send(b"PONG\r\n")
            if client.eof:
                return time.monotonic() - signalled
            assert time.monotonic() - signalled < EXIT_TIMEOUT, f"{impl} did not close its clients"

    closes = sorted(await asyncio.gather(*(closed_at(client) for client in clients)))
    assert wait_exit(server) == 0
    # No close before the grace period; then one client at a time, at least half the interval (0.5 s)
    # apart (0.3 s here: a loaded machine may notice one close late and the next one on time).
    assert closes[0] >= GRACE * 0.9, closes
    gaps = [later - earlier for earlier, later in zip(closes, closes[1:])]
    assert all(gap >= 0.3 for gap in gaps), (impl, closes)
    assert closes[-1] - closes[0] < 5.0, closes
    log = server.log
    assert re.search(r'\[INF\] Trapped "user defined signal 2" signal', log)
    assert re.search(r"\[INF\] Entering lame duck mode, stop accepting new clients", log)
    assert re.search(r"\[INF\] Closing existing clients", log)
    assert log.index("Closing existing clients") < log.index("Initiating Shutdown...") < log.index("Server Exiting..")


async def test_lame_duck_without_clients_shuts_down_at_once(start, impl):
    server = start("-m", "-1", config='lame_duck_duration: "30s"\nlame_duck_grace_period: "20s"\n')
    # The harness's readiness probe is a client too: wait until the server saw it go.
    wait_for(lambda: monitor_json(server.monitoring_port, "/varz")["connections"] == 0, what="no client left")
    started = time.monotonic()
    server.proc.send_signal(signal.SIGUSR2)
    assert wait_exit(server) == 0
    assert time.monotonic() - started < 2.0, "waited for the grace period with no client to close"
    assert "Entering lame duck mode" in server.log and "Closing existing clients" not in server.log


async def test_signals_during_lame_duck_mode(start, impl):
    # A second SIGUSR2 is ignored, SIGTERM too (the graceful shutdown goes on), SIGINT stops at once.
    server = start(config='lame_duck_duration: "30s"\nlame_duck_grace_period: "20s"\n')
    client = await protocol_client(server.port)
    server.proc.send_signal(signal.SIGUSR2)
    assert (await next_info(client)).get("ldm") is True
    server.proc.send_signal(signal.SIGUSR2)
    wait_for(lambda: server.log.count('Trapped "user defined signal 2"') == 2, what="the second SIGUSR2 logged")
    server.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: 'Trapped "terminated" signal' in server.log, what="SIGTERM logged")
    await client.expect_open()
    assert server.alive()
    assert server.log.count("Entering lame duck mode") == 1
    assert (await client.read_for(0.3)) in (b"", b"PING\r\n"), "a second ldm INFO"

    started = time.monotonic()
    server.proc.send_signal(signal.SIGINT)
    assert wait_exit(server, timeout=5) == 0
    assert time.monotonic() - started < 3.0
    await client.expect_closed(allow_data=True)
    await client.close()


def lines_from_signal(log: str, client_label: str) -> list[str]:
    """The notices, and the lines about the client `client_label`, the server logged from the lame duck
    signal on, each without its pid and time (the harness's readiness probe, another client, is left out)."""
    tail = log[log.rindex("\n", 0, log.index("Trapped")) + 1:].splitlines()
    lines = [re.sub(r"^\[\d+\] (?:[\d/]+ [\d:.]+ )?", "", line) for line in tail]
    return [line for line in lines if line.startswith("[INF]") or f"] {client_label} - " in line]


@pytest.mark.parametrize("with_sigterm", [False, True], ids=["sigusr2", "sigusr2-then-sigterm"])
async def test_lame_duck_log_sequence(start, impl, with_sigterm):
    # An operator's view of a lame duck shutdown, from the signal to the exit (with -D, so the client's
    # close shows): the last client is closed before the shutdown begins; a SIGTERM in the grace period
    # (a supervisor stopping the service) is only noted.
    server = start("-D", config=LAME_DUCK_CONFIG)
    client = await protocol_client(server.port)
    host, port = client.writer.get_extra_info("sockname")[:2]
    client_label = f"{host}:{port} - cid:{client.info['client_id']}"
    server.proc.send_signal(signal.SIGUSR2)
    assert (await next_info(client)).get("ldm") is True
    if with_sigterm:
        server.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: 'Trapped "terminated" signal' in server.log, what="SIGTERM logged")
    await client.expect_closed(timeout=EXIT_TIMEOUT, allow_data=True)
    await client.close()
    assert wait_exit(server) == 0
    expected = [
        '[INF] Trapped "user defined signal 2" signal',
        "[INF] Entering lame duck mode, stop accepting new clients",
        *(['[INF] Trapped "terminated" signal'] if with_sigterm else []),
        "[INF] Closing existing clients",
        f"[DBG] {client_label} - Client connection closed: Server Shutdown",
        "[INF] Initiating Shutdown...",
        "[INF] Server Exiting..",
    ]
    assert lines_from_signal(server.log, client_label) == expected


# ---- --signal ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["pid_file", "pid"])
async def test_signal_ldm_command_reaches_the_server(start, impl, tmp_path, form):
    pid_file = tmp_path / f"{impl}-{form}.pid"
    server = start("-P", str(pid_file), config=LAME_DUCK_CONFIG)
    client = await protocol_client(server.port)
    target = str(pid_file) if form == "pid_file" else str(server.proc.pid)
    result = run_signal(impl, f"ldm={target}")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert (await next_info(client)).get("ldm") is True
    await client.expect_closed(timeout=EXIT_TIMEOUT, allow_data=True)
    await client.close()
    assert wait_exit(server) == 0
    # natsd removes its pid file on exit; nats-server leaves it (as in test_compat.py).
    assert pid_file.exists() == (impl == "nats-server")


@pytest.mark.parametrize("command, expectation", [
    ("quit", "exits"), ("term", "exits"), ("stop", "killed"),
    ("reload", 'Trapped "hangup" signal'), ("reopen", 'Trapped "user defined signal 1" signal'),
])
async def test_signal_commands_send_their_signals(start, impl, command, expectation):
    server = start()
    result = run_signal(impl, f"{command}={server.proc.pid}")
    assert (result.returncode, result.stderr) == (0, "")
    if expectation == "exits":
        assert wait_exit(server, timeout=5) == 0
    elif expectation == "killed":
        assert wait_exit(server, timeout=5) == -signal.SIGKILL
    else:
        wait_for(lambda: expectation in server.log, what=expectation)
        assert server.alive()


def test_signal_command_errors(impl, start):
    name = program_name(impl)
    result = run_signal(impl, "ldm=abc")
    assert (result.returncode, result.stderr) == (1, f"{name}: invalid pid: abc\n")
    # A pid no process has (above Linux's largest pid_max).
    result = run_signal(impl, "ldm=99999999")
    assert (result.returncode, result.stderr) == (1, f'{name}: \nsignal "ldm" 99999999: no such process\n')
    result = run_signal(impl, "ldm=1=2")
    assert result.returncode == 1 and f"{name}: invalid signal parameters: [2]" in result.stderr
    # Without a pid, several running servers are listed and none is signalled (other servers of that
    # name on this machine may be listed too, so only ours are checked).
    servers = [start(), start()]
    result = run_signal(impl, "ldm")
    assert result.returncode == 1, result
    assert result.stderr.startswith(f"{name}: multiple {name} processes running:\n"), result.stderr
    listed = {int(line) for line in result.stderr.splitlines()[1:]}
    assert {server.proc.pid for server in servers} <= listed
    time.sleep(0.2)
    assert all(server.alive() and "lame duck" not in server.log for server in servers)


# ---- a cluster ---------------------------------------------------------------------------------------


async def test_peer_sees_the_node_leave_and_clients_move_to_it(cluster, layout):
    import nats

    # A grace period long enough to tell the peer's reaction to the ldm INFO from the route closing.
    first, second = cluster.chain(2, extra_config='lame_duck_duration: "30s"\nlame_duck_grace_period: "3s"\n')
    await cluster.wait_mesh([first, second])
    # A client of the second node learns the first node's URL, then loses it when the first goes lame duck.
    watcher = await protocol_client(second.port)
    urls: list[str] = watcher.info.get("connect_urls") or []
    deadline = time.monotonic() + 10
    while first.port not in {port_of(url) for url in urls}:
        assert time.monotonic() < deadline, f"{second.impl} never advertised {first.client_address}: {urls}"
        urls = (await next_info(watcher, timeout=10)).get("connect_urls") or []

    lame_duck_seen = asyncio.Event()
    reconnected = asyncio.Event()

    async def on_lame_duck():
        lame_duck_seen.set()

    async def on_reconnect():
        reconnected.set()

    mover = await nats.connect(servers=[first.url, second.url], dont_randomize=True, connect_timeout=2,
                               reconnect_time_wait=0.1, max_reconnect_attempts=20,
                               lame_duck_mode_cb=on_lame_duck, reconnected_cb=on_reconnect)
    try:
        assert mover.connected_url.port == first.port
        listener = await nats.connect(second.url, connect_timeout=2)
        received = []

        async def on_message(msg):
            received.append(msg.data)

        subscription = await listener.subscribe("ldm.moved", cb=on_message)
        await listener.flush()

        first.handle.proc.send_signal(signal.SIGUSR2)
        await asyncio.wait_for(lame_duck_seen.wait(), 5)
        # The peer stops advertising the lame duck node on its route INFO with ldm, before the grace
        # period is over and the route closes.
        deadline = time.monotonic() + 10
        while first.port in {port_of(url) for url in urls}:
            assert time.monotonic() < deadline, f"{second.impl} kept advertising {first.client_address}: {urls}"
            urls = (await next_info(watcher, timeout=10)).get("connect_urls") or []
        assert "Closing existing clients" not in first.log and second.route_list(), "told only by the route closing"

        await asyncio.wait_for(reconnected.wait(), EXIT_TIMEOUT)
        assert mover.connected_url.port == second.port
        assert wait_exit(first.handle) == 0
        await eventually(lambda: second.route_list() == [], timeout=10, what="the peer's routes to it closed")
        assert second.alive()
        await mover.publish("ldm.moved", b"after")
        await mover.flush()
        await eventually(lambda: received == [b"after"], what="delivery on the remaining node")
        await subscription.unsubscribe()
        await listener.close()
    finally:
        await mover.close()
        await watcher.close()
