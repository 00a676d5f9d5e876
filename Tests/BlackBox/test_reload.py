"""Configuration reload (issue 10 point 1, issue 9 point 4): SIGHUP and `--signal reload` re-read the
config file and apply what changed without dropping unaffected connections, against natsd and nats-server.

Each test writes a config, starts the server with `-c`, rewrites the file, sends SIGHUP and observes the
result over the wire (and the `Reloaded…` / `Failed to reload server configuration` log lines)."""
from __future__ import annotations

import asyncio
import json
import shutil
import signal
import ssl
import subprocess
from pathlib import Path

import pytest

from raw_client import RawClient
from server_process import ServerHandle, binary_for, wait_for
from test_tls import _make_ca, _make_leaf

RELOADED = "Reloaded server configuration"
FAILED = "Failed to reload server configuration"


def config_path(server: ServerHandle) -> Path:
    return Path(server.args[server.args.index("-c") + 1])


def reload(server: ServerHandle, config: str, outcome: str = RELOADED, via_signal: bool = True) -> str:
    """Rewrites the server's config file, sends SIGHUP (or lets the caller signal when `via_signal` is
    false) and waits for the next `outcome` line; returns the log written since."""
    before = server.log
    done = before.count(outcome)
    config_path(server).write_text(config)
    if via_signal:
        server.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: server.log.count(outcome) > done, timeout=5, what=f"'{outcome}' after the reload")
    return server.log[len(before):]


USERS = """
authorization {{
  users = [
    {{user: alice, password: a1}}
    {{user: bob, password: b1, permissions: {{publish: "{bob_publish}", subscribe: "{bob_publish}"}}}}
    {carol}
  ]
}}
"""


def users_config(bob_publish: str = ">", carol: bool = True, alice_password: str = "a1", extra: str = "") -> str:
    carol_entry = "{user: carol, password: c1}" if carol else ""
    return USERS.format(bob_publish=bob_publish, carol=carol_entry).replace("a1}", f"{alice_password}}}") + extra


async def login(server: ServerHandle, user: str, password: str) -> RawClient:
    return await RawClient.connected(server.port, {"user": user, "pass": password, "verbose": False})


async def test_permissions_change_applies_to_a_live_connection(start):
    server = start(config=users_config())
    bob = await login(server, "bob", "b1")
    await bob.send(b"SUB orders.> 7\r\nSUB audit.> 8\r\nPUB orders.1 2\r\nhi\r\nPING\r\n")
    await bob.expect(b"MSG orders.1 7 2\r\nhi\r\n")
    await bob.expect(b"PONG\r\n")
    log = reload(server, users_config(bob_publish="audit.>"))
    assert "Reloaded: authorization users" in log
    # A subscription the new permissions deny is removed, with nats-server's -ERR.
    await bob.expect(b"-ERR 'Permissions Violation for Subscription to \"orders.>\" (sid \"7\")'\r\n")
    await bob.send(b"PUB orders.1 2\r\nhi\r\nPING\r\n")
    await bob.expect(b"-ERR 'Permissions Violation for Publish to \"orders.1\"'\r\n")
    await bob.send(b"PUB audit.1 2\r\nhi\r\nPING\r\n")
    await bob.expect(b"PONG\r\n")
    await bob.close()


async def test_removed_user_is_closed_and_others_keep_working(start):
    server = start(config=users_config())
    carol = await login(server, "carol", "c1")
    alice = await login(server, "alice", "a1")
    bob = await login(server, "bob", "b1")
    await alice.send(b"SUB news 1\r\nPING\r\n")
    await alice.expect(b"PONG\r\n")
    reload(server, users_config(carol=False))
    # nats-server closes a client whose users entry is gone without an -ERR.
    assert b"Authorization" not in await carol.expect_closed()
    await bob.send(b"PUB news 5\r\nhello\r\nPING\r\n")
    await bob.expect(b"PONG\r\n")
    message = await alice.expect(b"MSG news 1 5\r\nhello\r\n")
    assert message
    with pytest.raises(Exception):
        await login(server, "carol", "c1")
    await alice.close()
    await bob.close()


async def test_reload_is_logged_done_after_the_clients_it_closes(start):
    # nats-server's Reload is synchronous: "Reloaded server configuration" follows the close of every client
    # the reload refuses (on natsd, closed by each client's own loop: run with NATSD_LOOPS=4 to matter).
    server = start("-D", config=users_config())
    carols = [await login(server, "carol", "c1") for _ in range(6)]
    reload(server, users_config(carol=False))
    for carol in carols:
        await carol.expect_closed()
    lines = server.log.splitlines()
    done = max(index for index, line in enumerate(lines) if "Reloaded server configuration" in line)
    closes = [index for index, line in enumerate(lines) if "Client connection closed" in line]
    assert len(closes) >= len(carols) and max(closes) < done, "\n".join(lines[-20:])


async def test_changed_password_is_an_authorization_violation(start):
    server = start(config=users_config())
    alice = await login(server, "alice", "a1")
    reload(server, users_config(alice_password="a2"))
    await alice.expect_then_closed(b"-ERR 'Authorization Violation'\r\n")
    fresh = await login(server, "alice", "a2")
    await fresh.close()


async def test_new_user_can_log_in(start):
    server = start(config=users_config(carol=False))
    with pytest.raises(Exception):
        await login(server, "carol", "c1")
    reload(server, users_config(carol=True))
    carol = await login(server, "carol", "c1")
    await carol.close()


async def test_max_payload_change_reaches_new_connections(start):
    server = start(config="max_payload: 1000\n")
    kept = await RawClient.connected(server.port, {"verbose": False})
    log = reload(server, "max_payload: 2000\n")
    assert "Reloaded: max_payload = 2000" in log
    fresh = await RawClient.open(server.port)
    assert fresh.info["max_payload"] == 2000
    # The live connection takes the new limit too.
    await kept.send(b"PUB big 1500\r\n" + b"x" * 1500 + b"\r\nPING\r\n")
    await kept.expect(b"PONG\r\n")
    await fresh.close()
    await kept.close()


async def test_broken_config_keeps_the_old_one(start):
    server = start(config=users_config())
    alice = await login(server, "alice", "a1")
    log = reload(server, "authorization { users = [ {user: alice\n", outcome=FAILED)
    assert FAILED + ": " in log
    assert server.alive()
    await alice.send(b"PING\r\n")
    await alice.expect(b"PONG\r\n")
    again = await login(server, "bob", "b1")
    await again.close()
    await alice.close()


@pytest.mark.parametrize("option, old, new, field", [
    ("max_pending", 67108864, 2000000, "MaxPending"),
    ("max_subscriptions", 0, 5, "MaxSubs"),
])
async def test_option_that_cannot_be_reloaded_is_refused(start, option, old, new, field):
    server = start(config=f"max_payload: 1000\n")
    log = reload(server, f"max_payload: 2000\n{option}: {new}\n", outcome=FAILED)
    assert f"{FAILED}: config reload not supported for {field}: old={old}, new={new}" in log
    # Nothing of the refused config applies, not even what could have been reloaded.
    fresh = await RawClient.open(server.port)
    assert fresh.info["max_payload"] == 1000
    await fresh.close()


def test_signal_reload_with_the_pid_file(start, tmp_path):
    pid_file = tmp_path / "server.pid"
    server = start("-P", str(pid_file), config="max_payload: 1000\n")
    wait_for(lambda: pid_file.exists() and pid_file.read_text().strip() != "", what="the pid file")
    config_path(server).write_text("max_payload: 3000\n")
    done = server.log.count(RELOADED)
    result = subprocess.run([binary_for(server.impl), "--signal", f"reload={pid_file}"],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    wait_for(lambda: server.log.count(RELOADED) > done, what="the reload")
    assert "Reloaded: max_payload = 3000" in server.log


def cluster_config(routes: list[int]) -> str:
    listed = ", ".join(f'"nats-route://127.0.0.1:{port}"' for port in routes)
    return f'cluster {{\n  name: reload\n  listen: "127.0.0.1:-1"\n  routes: [{listed}]\n}}\n'


async def delivered(publisher_port: int, subscriber: RawClient, subject: str, timeout: float = 5.0) -> bool:
    """Publishes on `subject` until `subscriber` gets one (True) or `timeout` passes (False)."""
    publisher = await RawClient.connected(publisher_port, {"verbose": False})
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            await publisher.send(f"PUB {subject} 2\r\nok\r\n".encode())
            try:
                await subscriber.expect(f"MSG {subject} 1 2\r\nok\r\n".encode(), timeout=0.3)
                return True
            except Exception:
                continue
        return False
    finally:
        await publisher.close()


async def test_removed_route_is_logged_by_its_configured_url(start):
    seed = start(config=cluster_config([]))
    configured = cluster_config([]).replace("routes: []", f'routes: ["nats://127.0.0.1:{seed.cluster_port}"]')
    node = start(config=configured)
    wait_for(lambda: "Route connection created" in node.log, what="the route")
    reload(node, cluster_config([]))
    from test_refusal_logs import wait_logged  # here: test_refusal_logs imports this module
    wait_logged(node, "INF", f"Removed route nats://127.0.0.1:{seed.cluster_port}")
    assert not [line for line in node.log.splitlines() if "Removed route nats-route://" in line]
    # Logged as the routes option is applied: before its notice and the end of the reload (nats-server's order).
    log = node.log
    removed = log.index("Removed route nats://")
    assert removed < log.rindex("Reloaded: cluster routes") < log.rindex("Reloaded server configuration")


async def test_routes_added_and_removed(start):
    seed = start(config=cluster_config([]))
    node = start(config=cluster_config([]))
    subscriber = await RawClient.connected(seed.port, {"verbose": False})
    await subscriber.send(b"SUB routed 1\r\nPING\r\n")
    await subscriber.expect(b"PONG\r\n")
    assert not await delivered(node.port, subscriber, "routed", timeout=1.0)

    log = reload(node, cluster_config([seed.cluster_port]))
    assert "Reloaded: cluster routes" in log
    assert await delivered(node.port, subscriber, "routed")

    reload(node, cluster_config([]))
    # Named by the URL as configured, scheme included, at notice level.
    from test_refusal_logs import wait_logged  # here: test_refusal_logs imports this module
    wait_logged(node, "INF", f"Removed route nats-route://127.0.0.1:{seed.cluster_port}")
    await asyncio.sleep(0.5)
    assert not await delivered(node.port, subscriber, "routed", timeout=1.5)
    await subscriber.close()


@pytest.fixture(scope="module")
def two_certs(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("reload-certs")
    _make_ca(directory, "ca")
    san = "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
    _make_leaf(directory, "first", "ca", "/CN=first-cert", san)
    _make_leaf(directory, "second", "ca", "/CN=second-cert", san)
    _make_ca(directory, "foreign-ca")
    _make_leaf(directory, "foreign", "foreign-ca", "/CN=foreign-cert", san)
    return directory


def tls_config(certs: Path, name: str) -> str:
    return f'tls {{\n  cert_file: "{certs / (name + ".pem")}"\n  key_file: "{certs / (name + ".key")}"\n}}\n'


async def tls_client(port: int, certs: Path) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str]:
    """Opens a TLS client (INFO, then the handshake, then CONNECT + PING/PONG); returns the server
    certificate's common name."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
    info = await asyncio.wait_for(reader.readline(), 5)
    assert info.startswith(b"INFO ")
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    await asyncio.wait_for(writer.start_tls(context, server_hostname="localhost"), 5)
    certificate = writer.get_extra_info("peercert")
    common_name = dict(pair[0] for pair in certificate["subject"])["commonName"]
    writer.write(b'CONNECT {"verbose":false}\r\nPING\r\n')
    assert await asyncio.wait_for(reader.readline(), 5) == b"PONG\r\n"
    return reader, writer, common_name


async def expect_new_certificate(server: ServerHandle, certs: Path, name: str, reader: asyncio.StreamReader,
                                 writer: asyncio.StreamWriter) -> None:
    """A new TLS connection gets the certificate named `name`; the one made before the reload (`reader`,
    `writer`) keeps working. Closes both."""
    _, fresh_writer, fresh_name = await tls_client(server.port, certs)
    assert fresh_name == name
    writer.write(b"PING\r\n")
    assert await asyncio.wait_for(reader.readline(), 5) == b"PONG\r\n"
    for stream in (writer, fresh_writer):
        stream.close()


async def test_tls_certificate_swapped_for_new_connections(start, two_certs):
    server = start(config=tls_config(two_certs, "first"))
    reader, writer, name = await tls_client(server.port, two_certs)
    assert name == "first-cert"
    log = reload(server, tls_config(two_certs, "second"))
    assert "Reloaded: tls = enabled" in log
    await expect_new_certificate(server, two_certs, "second-cert", reader, writer)


async def test_tls_certificate_renewed_in_place_is_read_again(start, two_certs, tmp_path):
    """Renewal tools overwrite the certificate and key at the same paths: the config text does not change,
    the files do, and the next reload serves the new certificate (found by a fresh user: natsd compared
    only the paths)."""
    live = tmp_path / "live"
    live.mkdir()
    for suffix in (".pem", ".key"):
        shutil.copyfile(two_certs / ("first" + suffix), live / ("current" + suffix))
    config = tls_config(live, "current")
    server = start(config=config)
    reader, writer, name = await tls_client(server.port, two_certs)
    assert name == "first-cert"
    reload(server, config)  # nothing changed yet (nats-server may still log "tls = enabled": it always re-reads)
    assert (await tls_client(server.port, two_certs))[2] == "first-cert"
    for suffix in (".pem", ".key"):
        shutil.copyfile(two_certs / ("second" + suffix), live / ("current" + suffix))
    log = reload(server, config)
    assert "Reloaded: tls = enabled" in log
    await expect_new_certificate(server, two_certs, "second-cert", reader, writer)


async def test_lowered_max_connections_closes_the_excess(start):
    server = start(config="max_connections: 10\n")
    clients = [await RawClient.connected(server.port, {"verbose": False}) for _ in range(3)]
    log = reload(server, "max_connections: 1\n")
    assert "Closed 2 connections to fall within max_connections" in log
    assert "Reloaded: max_connections = 1" in log
    closed = 0
    for client in clients:
        await client.send(b"PING\r\n")
        try:
            await client.expect(b"PONG\r\n", timeout=2)
        except Exception:
            closed += 1
        await client.close()
    assert closed == 2


async def test_debug_logging_switched_on(start):
    server = start(config="port: -1\n")
    log = reload(server, "port: -1\ndebug: true\n")
    assert "Reloaded: debug = true" in log
    client = await RawClient.connected(server.port, {"verbose": False})
    await client.close()
    wait_for(lambda: "[DBG]" in server.log, what="a debug line after the reload")


def route_tls_config(certs: Path, name: str, routes: list[int]) -> str:
    tls = (f'  tls {{ cert_file: "{certs / (name + ".pem")}", key_file: "{certs / (name + ".key")}", '
           f'ca_file: "{certs / "ca.pem"}" }}\n')
    return cluster_config(routes).replace("  routes:", tls + "  routes:")


async def test_route_tls_certificate_swapped_for_new_routes(start, two_certs):
    seed = start(config=route_tls_config(two_certs, "first", []))
    node = start(config=route_tls_config(two_certs, "first", [seed.cluster_port]))
    subscriber = await RawClient.connected(seed.port, {"verbose": False})
    await subscriber.send(b"SUB routed 1\r\nPING\r\n")
    await subscriber.expect(b"PONG\r\n")
    assert await delivered(node.port, subscriber, "routed", timeout=10)

    # The seed now presents a certificate its peers' CA did not sign: a new route cannot verify it,
    # the route made before keeps carrying messages.
    log = reload(seed, route_tls_config(two_certs, "foreign", []))
    assert "Reloaded: cluster" in log
    assert await delivered(node.port, subscriber, "routed")
    late = start(config=route_tls_config(two_certs, "first", [seed.cluster_port]))
    assert not await delivered(late.port, subscriber, "routed", timeout=2.0)
    await subscriber.close()
