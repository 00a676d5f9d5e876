"""Drop-in details (issue 6) an operator or client would notice, each checked against nats-server:
which port 0 and -1 mean for every listener, host names as listen hosts, a second signal during
shutdown, what counts as activity in /connz, `no_auth_user` with a users list, and the monitor's
answer to a request it cannot read whole.
"""

from __future__ import annotations

import asyncio
import glob
import json
import re
import signal
import socket
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from monitor_http import monitor_json
from port_allocator import loopback_port_is_free
from raw_client import RawClient
from server_process import (ServerHandle, binary_for, free_port, port_of, wait_for, wait_for_ports_file,
                            wait_until_accepting)
from socket_helpers import stalled_subscriber

DEFAULT_CLIENT_PORT = 4222


def launch(impl: str, tmp_path: Path, args: list[str], config: str | None = None,
           port: int | None = None) -> ServerHandle:
    """Starts `impl` with exactly `args` (no `-a`/`-p` added, unlike `start_server`), plus `-c` with
    `config` when given; the handle names `port`, to be set once known. The caller kills it."""
    argv = [binary_for(impl)] + args
    if config is not None:
        path = tmp_path / f"{impl}-{time.monotonic_ns()}.conf"
        path.write_text(config)
        argv += ["-c", str(path)]
    log_path = tmp_path / f"{impl}-{time.monotonic_ns()}.log"
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                cwd=tmp_path)
    return ServerHandle(impl=impl, host="127.0.0.1", port=port or 0, args=argv, proc=proc, log_path=log_path)


def run_to_exit(impl: str, tmp_path: Path, args: list[str], config: str | None = None) -> subprocess.CompletedProcess:
    """Runs `impl` expecting it to refuse to start: it must exit on its own within 10 s."""
    argv = [binary_for(impl)] + args
    if config is not None:
        path = tmp_path / f"{impl}.conf"
        path.write_text(config)
        argv += ["-c", str(path)]
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL, cwd=tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{impl} started instead of refusing: {argv}")


def accepts(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:`port`."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


# ---- ports: 0 and -1 ----------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["flag", "config"])
async def test_client_port_zero_is_the_default_port(impl, tmp_path, source):
    # nats-server: client port 0 is DEFAULT_PORT 4222 (opts.go setBaselineOptions); only -1 is random.
    if not loopback_port_is_free(DEFAULT_CLIENT_PORT):
        pytest.skip("127.0.0.1:4222 is in use on this machine")
    ports_dir = tmp_path / "ports"
    ports_dir.mkdir()
    args = ["-a", "127.0.0.1", "--ports_file_dir", str(ports_dir)]
    if source == "flag":
        handle = launch(impl, tmp_path, args + ["-p", "0"])
    else:
        handle = launch(impl, tmp_path, args, config="port: 0\n")
    try:
        def started_or_port_taken():
            if not handle.alive():
                if "address already in use" in handle.log:
                    pytest.skip("127.0.0.1:4222 was taken by another process meanwhile")
                raise AssertionError(f"{impl} exited with {handle.proc.returncode}\n{handle.log}")
            return glob.glob(str(ports_dir / "*.ports"))
        wait_for(started_or_port_taken, 5.0, "the ports file")
        ports = wait_for_ports_file(handle)
        assert [port_of(url) for url in ports["nats"]] == [DEFAULT_CLIENT_PORT], ports
        handle.port = DEFAULT_CLIENT_PORT
        wait_until_accepting(handle)
        client = await RawClient.open(DEFAULT_CLIENT_PORT)
        assert client.info["port"] == DEFAULT_CLIENT_PORT
        await client.close()
    finally:
        handle.kill()


def test_port_minus_one_is_any_free_port_for_every_listener(impl, tmp_path):
    ports_dir = tmp_path / "ports"
    ports_dir.mkdir()
    handle = launch(impl, tmp_path, ["-a", "127.0.0.1", "-p", "-1", "-m", "-1", "--cluster", "nats://127.0.0.1:-1",
                                     "--ports_file_dir", str(ports_dir)])
    try:
        ports = wait_for_ports_file(handle)
        assert sorted(ports) == ["cluster", "monitoring", "nats"], ports
        client_port, monitor_port, cluster_port = (port_of(ports[key][0]) for key in ("nats", "monitoring", "cluster"))
        assert all(port > 0 for port in (client_port, monitor_port, cluster_port)), ports
        for port in (client_port, monitor_port, cluster_port):  # each one is really listening
            wait_for(lambda: accepts(port), 5.0, f"a listener on 127.0.0.1:{port}")
    finally:
        handle.kill()


def test_monitoring_and_cluster_port_zero_are_off(impl, tmp_path):
    # -m 0 and a cluster port 0 mean "not listening" in nats-server (server.go, route.go).
    ports_dir = tmp_path / "ports"
    ports_dir.mkdir()
    handle = launch(impl, tmp_path, ["-a", "127.0.0.1", "-p", "-1", "-m", "0", "--cluster", "nats://127.0.0.1:0",
                                     "--ports_file_dir", str(ports_dir)])
    try:
        ports = wait_for_ports_file(handle)
        assert sorted(ports) == ["nats"], ports
        handle.port = port_of(ports["nats"][0])
        wait_until_accepting(handle)
        assert "monitor" not in handle.log and "route connections" not in handle.log, handle.log
    finally:
        handle.kill()


@pytest.mark.parametrize("args, config, message", [
    (["-p", "-5"], None, 'Error listening on port: 127.0.0.1:-5, "listen tcp: address -5: invalid port"'),
    (["-p", "70000"], None, 'Error listening on port: 127.0.0.1:70000, "listen tcp: address 70000: invalid port"'),
    (["-p", "-1", "-m", "70000"], None,
     "Can't start monitoring: can't listen to the monitor port: listen tcp: address 70000: invalid port"),
    (["-p", "-1"], "cluster { port: 70000 }\n",
     "Error listening on router port: 70000 - listen tcp: address 70000: invalid port"),
], ids=["client-negative", "client-too-large", "monitoring", "cluster"])
def test_ports_outside_the_tcp_range_are_refused(impl, tmp_path, args, config, message):
    # natsd used to bind a random port for -5 and port 4464 for 70000 (the value wrapped to 16 bits).
    result = run_to_exit(impl, tmp_path, ["-a", "127.0.0.1"] + args, config)
    assert result.returncode != 0, result
    assert message in result.stdout + result.stderr, result


# ---- host names as listen hosts -----------------------------------------------------------------


@pytest.mark.parametrize("source", ["flags", "config"])
def test_host_names_are_resolved_for_every_listener(impl, tmp_path, source):
    # Go's net.Listen resolves a name and binds its first IPv4 address: localhost is 127.0.0.1.
    client_port, cluster_port, monitor_port = free_port(), free_port(), free_port()
    if source == "flags":
        handle = launch(impl, tmp_path, ["-a", "localhost", "-p", str(client_port), "-m", str(monitor_port),
                                         "--cluster", f"nats://localhost:{cluster_port}"], port=client_port)
    else:
        config = (f"host: localhost\nport: {client_port}\nhttp: \"localhost:{monitor_port}\"\n"
                  f"cluster {{ host: localhost, port: {cluster_port} }}\n")
        handle = launch(impl, tmp_path, [], config=config, port=client_port)
    try:
        wait_until_accepting(handle)
        for port in (cluster_port, monitor_port):
            wait_for(lambda: accepts(port), 5.0, f"a listener on 127.0.0.1:{port}")
        assert f"Listening for client connections on localhost:{client_port}" in handle.log, handle.log
        assert f"Listening for route connections on localhost:{cluster_port}" in handle.log, handle.log
    finally:
        handle.kill()


LOOKUP_FAILED = r"listen tcp: lookup nosuchhost\.invalid(?: on \S+)?: \S.*"


@pytest.mark.parametrize("args, config, pattern", [
    (["-a", "nosuchhost.invalid", "-p", "4999"], None,
     r'Error listening on port: nosuchhost\.invalid:4999, "' + LOOKUP_FAILED + '"'),
    (["-a", "127.0.0.1", "-p", "-1", "--cluster", "nats://nosuchhost.invalid:4998"], None,
     r"Error listening on router port: 4998 - " + LOOKUP_FAILED),
    (["-a", "127.0.0.1", "-p", "-1"], 'http: "nosuchhost.invalid:4997"\n',
     r"Can't start monitoring: can't listen to the monitor port: " + LOOKUP_FAILED),
], ids=["client", "cluster", "monitoring"])
def test_unresolvable_listen_host_is_refused_at_start(impl, tmp_path, args, config, pattern):
    # `.invalid` never resolves (RFC 2606), so no port is ever bound here.
    result = run_to_exit(impl, tmp_path, args, config)
    assert result.returncode != 0, result
    output = result.stdout + result.stderr
    assert re.search(pattern, output), output


# ---- a second signal during shutdown ------------------------------------------------------------


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_second_signal_during_shutdown_is_ignored(start, tmp_path, number):
    # nats-server handles signals one at a time and exits after the first shutdown, so a second one
    # is neither acted on nor logged. natsd used to drop its handlers when shutdown began: a second
    # signal killed it half-way (exit status -15/-2, ports file left behind).
    pid_file = tmp_path / f"server-{int(number)}.pid"
    ports_dir = tmp_path / f"ports-{int(number)}"
    ports_dir.mkdir()
    server = start("-P", str(pid_file), "--ports_file_dir", str(ports_dir), config='write_deadline: "2s"\n')
    assert wait_for_ports_file(server)
    sockets = stalled_subscriber(server.port)
    try:
        server.proc.send_signal(number)
        wait_for(lambda: "Initiating Shutdown" in server.log, 5.0, "shutdown to begin")
        assert server.alive(), f"{server.impl} did not wait for the stalled subscriber\n{server.log}"
        server.proc.send_signal(number)
        code = server.proc.wait(timeout=10)
    finally:
        for sock in sockets:
            sock.close()
    assert code == 0, f"{server.impl} exited with {code}\n{server.log}"
    assert "Server Exiting" in server.log, server.log
    assert server.log.count("Trapped") == 1, server.log
    assert list(ports_dir.iterdir()) == []  # both servers delete their ports file at shutdown
    # natsd also deletes its pid file; nats-server leaves it behind.
    assert pid_file.exists() == (server.impl == "nats-server")


def test_ports_file_is_deleted_at_shutdown(start, tmp_path):
    # nats-server deletes <ports_file_dir>/<exe>_<pid>.ports in Shutdown (server.go deletePortsFile).
    ports_dir = tmp_path / "ports"
    ports_dir.mkdir()
    server = start("--ports_file_dir", str(ports_dir))
    assert wait_for_ports_file(server)
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=10) == 0
    assert list(ports_dir.iterdir()) == []


# ---- /connz activity ----------------------------------------------------------------------------


def rfc3339_seconds(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 time with up to nanoseconds (`…T23:45:40.123456789Z`)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    assert match, text
    whole = datetime.fromisoformat(match[1] + ("+00:00" if match[3] == "Z" else match[3]))
    return whole.timestamp() + (int(match[2]) / 10 ** len(match[2]) if match[2] else 0.0)


async def test_connz_activity_is_messages_and_interest_not_pings(start):
    # nats-server (client.go) updates a client's last activity at CONNECT, on reads carrying messages or
    # (un)subscriptions, and when messages are delivered to it; a lone PING is not activity.
    http_port = free_port()
    server = start("-m", str(http_port))
    pinger = await RawClient.connected(server.port)      # only ever sends PINGs
    subscriber = await RawClient.connected(server.port)  # subscribes, then only receives
    await subscriber.send(b"SUB news 1\r\nPING\r\n")
    await subscriber.expect(b"PONG\r\n")
    publisher = await RawClient.connected(server.port)
    try:
        wait_for(lambda: accepts(http_port), 5.0, "the monitoring port")
        before = monitor_json(http_port, "/connz")["connections"]
        pinger_cid, subscriber_cid, publisher_cid = (conn["cid"] for conn in before)
        pinger_before, subscriber_before = (conn["last_activity"] for conn in before[:2])

        await asyncio.sleep(1.2)
        await pinger.send(b"PING\r\n")
        await pinger.expect(b"PONG\r\n")
        await publisher.send(b"PUB news 5\r\nhello\r\nPING\r\n")
        await publisher.expect(b"PONG\r\n")
        await subscriber.expect(b"MSG news 1 5\r\nhello\r\n")

        after = {conn["cid"]: conn for conn in monitor_json(http_port, "/connz")["connections"]}
        assert after[pinger_cid]["last_activity"] == pinger_before, "a lone PING counted as activity"
        assert after[pinger_cid]["idle"] != "0s"
        delivered_at = rfc3339_seconds(after[subscriber_cid]["last_activity"])
        assert delivered_at - rfc3339_seconds(subscriber_before) >= 1.0, "a delivery did not count as activity"
        assert rfc3339_seconds(after[publisher_cid]["last_activity"]) - rfc3339_seconds(pinger_before) >= 1.0

        by_last = [conn["cid"] for conn in monitor_json(http_port, "/connz?sort=last")["connections"]]
        assert by_last[-1] == pinger_cid and sorted(by_last[:2]) == [subscriber_cid, publisher_cid], by_last
        by_idle = [conn["cid"] for conn in monitor_json(http_port, "/connz?sort=idle")["connections"]]
        assert by_idle[0] == pinger_cid, by_idle
    finally:
        for client in (pinger, subscriber, publisher):
            await client.close()



# ---- no_auth_user with a users list -------------------------------------------------------------

VIOLATION = b"-ERR 'Authorization Violation'\r\n"
# bcrypt of "s3cret" (Python's bcrypt, rounds=4).
S3CRET_HASH = "$2a$04$JxvFQU5aysRrgswiKiftieMQ6gPuHE3KErH015/I/o7DtAdQDtbDu"


def no_auth_user_config(user: str) -> str:
    return (f'authorization {{\n  timeout: 0.5\n  users = [\n    {{user: alice, password: secret}}\n'
            f'    {{user: bob, password: "{S3CRET_HASH}"}}\n  ]\n}}\nno_auth_user: {user}\n')


@pytest.mark.parametrize("connect, admitted", [
    ({}, True),
    ({"user": "", "pass": ""}, True),
    ({"user": "alice", "pass": "secret"}, True),
    ({"user": "bob", "pass": "s3cret"}, True),
    ({"user": "alice", "pass": "wrong"}, False),
    ({"user": "alice"}, False),
    ({"pass": "secret"}, False),
    ({"auth_token": "secret"}, False),
    ({"user": "carol", "pass": "secret"}, False),
], ids=["none", "empty", "alice", "bob", "wrong-password", "user-only", "password-only", "token", "unknown-user"])
async def test_no_auth_user_admits_clients_without_credentials(start, connect, admitted):
    # nats-server (auth.go): a CONNECT without user, password and token logs in as no_auth_user; any
    # credential given must match a user. INFO no longer says auth_required.
    server = start(config=no_auth_user_config("alice"))
    client = await RawClient.open(server.port)
    try:
        assert not client.info.get("auth_required"), client.info
        await client.send(b"CONNECT " + json.dumps({"verbose": False, **connect}).encode() + b"\r\nPING\r\n")
        if admitted:
            await client.expect(b"PONG\r\n")
        else:
            await client.expect_then_closed(VIOLATION)
    finally:
        await client.close()


async def test_no_auth_user_admits_a_first_op_other_than_connect(start):
    # nats-server (parser.go) lets a telnet session start with PING or SUB when no_auth_user is set, with
    # the default (verbose) options; the auth timeout no longer applies afterwards.
    server = start(config=no_auth_user_config("alice"))
    pinger = await RawClient.open(server.port)
    subscriber = await RawClient.open(server.port)
    try:
        await pinger.send(b"PING\r\n")
        await pinger.expect(b"PONG\r\n")
        await subscriber.send(b"SUB news 1\r\n")
        await subscriber.expect(b"+OK\r\n")
        await pinger.send(b"PUB news 2\r\nhi\r\n")
        await pinger.expect(b"+OK\r\n")
        await subscriber.expect(b"MSG news 1 2\r\nhi\r\n")
        await asyncio.sleep(0.8)  # past the 0.5 s authorization timeout
        await pinger.expect_open()
    finally:
        await pinger.close()
        await subscriber.close()


async def test_no_auth_user_keeps_the_authentication_timeout_for_silent_clients(start):
    server = start(config=no_auth_user_config("alice"))
    client = await RawClient.open(server.port)
    try:
        await client.expect_then_closed(b"-ERR 'Authentication Timeout'\r\n", timeout=5)
    finally:
        await client.close()


@pytest.mark.parametrize("first", [b'CONNECT {"verbose":false}\r\nPING\r\n', b"PING\r\n"], ids=["connect", "ping"])
async def test_no_auth_user_with_a_bcrypt_password_admits_no_anonymous_client(start, first):
    # nats-server checks the user's stored password against itself, which a bcrypt hash never matches.
    server = start(config=no_auth_user_config("bob"))
    client = await RawClient.open(server.port)
    try:
        await client.send(first)
        await client.expect_then_closed(VIOLATION)
    finally:
        await client.close()


@pytest.mark.parametrize("config, message", [
    ("authorization { users = [ {user: alice, password: secret} ] }\nno_auth_user: carol\n",
     'no_auth_user: "carol" not present as user or nkey in authorization block or account configuration'),
    ("no_auth_user: alice\n", 'no_auth_user: "alice" present, but users/nkeys are not defined'),
    ("authorization { user: alice, password: secret }\nno_auth_user: alice\n",
     'no_auth_user: "alice" present, but users/nkeys are not defined'),
], ids=["unknown-user", "no-users", "single-user"])
def test_no_auth_user_must_name_a_user_of_the_list(impl, tmp_path, config, message):
    result = run_to_exit(impl, tmp_path, ["-a", "127.0.0.1", "-p", str(free_port())], config)
    assert result.returncode != 0, result
    assert message in result.stdout + result.stderr, result


# --- Files the operator names must be writable: a pid or log file that cannot be written is fatal ---
# nats-server: server.go Start() `Fatalf("Could not write pidfile: %v")`; logger/log.go NewFileLogger
# `log.Fatalf("error opening file: %v")`. A supervisor must not find a server running without them.

@pytest.mark.parametrize("flag, expected", [
    ("-P", "Could not write pidfile: open {path}: no such file or directory"),
    ("-l", "error opening file: open {path}: no such file or directory"),
])
def test_unwritable_pid_or_log_file_stops_the_server(impl, tmp_path, flag, expected):
    path = str(tmp_path / "missing-dir" / "file")
    result = subprocess.run([binary_for(impl), "-a", "127.0.0.1", "-p", "-1", flag, path],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert expected.format(path=path) in result.stdout + result.stderr


# --- A second CONNECT changes only the fields it names (nats-server decodes it over the current ones) ---

async def test_second_connect_keeps_options_it_does_not_name(server):
    raw = await RawClient.open(server.port)
    try:
        await raw.send(b'CONNECT {"verbose":false}\r\nPING\r\n')
        await raw.expect(b"PONG\r\n")
        await raw.send(b"CONNECT {}\r\nPING\r\n")
        # verbose stays off: no +OK before the PONG.
        await raw.expect(b"PONG\r\n")
    finally:
        await raw.close()
