"""What the server logs when it refuses a client or part of what it does: a failed login, a message over
max_payload (also after a reload lowered it), a subscription a reload no longer permits. An operator
switching servers greps for these lines, so both servers must write them alike: the same level, the
same text after the client's `<ip>:<port> - cid:<id>` label.
"""

from __future__ import annotations

import json
import re

import pytest

from raw_client import RawClient
from monitor_http import monitor_json
from server_process import ServerHandle, wait_for
from test_cluster_pools import fake_route_connect, fake_route_info, start_cluster_member
from test_nkeys import OTHER_SEED, PUBLIC, sign
from test_reload import login, reload, users_config

VIOLATION = b"-ERR 'Authorization Violation'\r\n"


def label(client: RawClient) -> str:
    """How both servers name a client in their log: its address as the server sees it, and its id."""
    host, port = client.writer.get_extra_info("sockname")[:2]
    return f"{host}:{port} - cid:{client.info['client_id']}"


def wait_logged(server: ServerHandle, level: str, text: str) -> str:
    """Waits (bounded) for one whole log line `[<level>] <text>`; returns it."""
    pattern = re.compile(rf"^\[\d+\] (?:[\d/]+ [\d:.]+ )?\[{level}\] {re.escape(text)}$", re.M)
    wait_for(lambda: pattern.search(server.log), timeout=5, what=f"[{level}] {text}")
    return pattern.search(server.log).group(0)


def logged_lines(server: ServerHandle, text: str) -> list[str]:
    """Every log line containing `text`."""
    return [line for line in server.log.splitlines() if text in line]


# ---- failed logins -----------------------------------------------------------------------------------

USERS_AND_NKEY = f"""
authorization {{
  users = [
    {{user: alice, password: s3cret}}
    {{nkey: {PUBLIC}}}
  ]
}}
"""


@pytest.mark.parametrize("connect, logged", [
    ({"user": "alice", "pass": "wrong"}, 'authentication error - User "alice"'),
    ({"user": "mallory", "pass": "s3cret"}, 'authentication error - User "mallory"'),
    ({"auth_token": "guess"}, 'authentication error - Token "[REDACTED]"'),
    ({}, "authentication error"),
    # The nkey is named before a user name, whatever the CONNECT also carries.
    ({"nkey": PUBLIC, "user": "alice", "sig": "AAAA"}, f'authentication error - Nkey "{PUBLIC}"'),
], ids=["wrong-password", "unknown-user", "token", "no-credentials", "nkey-bad-signature"])
async def test_failed_login_is_an_error_naming_the_credentials(start, connect, logged):
    server = start(config=USERS_AND_NKEY)
    client = await RawClient.open(server.port)
    await client.send(b"CONNECT " + json.dumps({"verbose": False, **connect}).encode() + b"\r\nPING\r\n")
    await client.expect_then_closed(VIOLATION)
    wait_logged(server, "ERR", f"{label(client)} - {logged}")
    await client.close()
    assert not logged_lines(server, "authentication failure")


async def test_nkey_signed_with_another_key_is_logged_by_its_nkey(start):
    server = start(config=USERS_AND_NKEY)
    client = await RawClient.open(server.port)
    signature = sign(OTHER_SEED, client.info["nonce"])
    await client.send(b"CONNECT " + json.dumps({"verbose": False, "nkey": PUBLIC, "sig": signature}).encode() + b"\r\n")
    await client.expect_then_closed(VIOLATION)
    wait_logged(server, "ERR", f'{label(client)} - authentication error - Nkey "{PUBLIC}"')
    await client.close()


async def test_operation_before_connect_is_logged_without_a_name(start):
    server = start(config=USERS_AND_NKEY)
    client = await RawClient.open(server.port)
    await client.send(b"SUB foo 1\r\n")
    await client.expect_then_closed(VIOLATION)
    wait_logged(server, "ERR", f"{label(client)} - authentication error")
    await client.close()


async def test_authentication_timeout_is_logged_at_debug_level_only(start):
    server = start("-D", config="authorization { user: alice, password: s3cret, timeout: 0.5 }\n")
    client = await RawClient.open(server.port)
    await client.expect_then_closed(b"-ERR 'Authentication Timeout'\r\n", timeout=5)
    wait_logged(server, "DBG", f"{label(client)} - Authentication Timeout")
    await client.close()
    assert [line for line in logged_lines(server, "Authentication Timeout") if "[DBG]" not in line] == []


# ---- max_payload -------------------------------------------------------------------------------------

MAX_PAYLOAD = b"-ERR 'Maximum Payload Violation'\r\n"


@pytest.mark.parametrize("operation, size", [
    (b"PUB big 2000\r\n", 2000),
    (b"HPUB big 12 2000\r\n", 2000),  # the announced total, headers included
], ids=["PUB", "HPUB"])
async def test_message_over_max_payload_is_an_error_with_both_sizes(start, operation, size):
    server = start(config="max_payload: 1024\n")
    client = await RawClient.connected(server.port, {"headers": True})
    await client.send(operation)
    await client.expect_then_closed(MAX_PAYLOAD)
    wait_logged(server, "ERR", f"{label(client)} - maximum payload exceeded: {size} vs 1024")
    await client.close()


async def test_max_payload_lowered_by_reload_is_logged_with_the_new_limit(start):
    server = start(config="max_payload: 2000\n")
    client = await RawClient.connected(server.port)
    log = reload(server, "max_payload: 1000\n")
    assert "Reloaded: max_payload = 1000" in log
    await client.send(b"PUB big 1500\r\n" + b"x" * 1500 + b"\r\n")
    await client.expect_then_closed(MAX_PAYLOAD)
    wait_logged(server, "ERR", f"{label(client)} - maximum payload exceeded: 1500 vs 1000")
    await client.close()


# ---- subscriptions a reload no longer permits ----------------------------------------------------------

async def test_subscription_removed_by_reload_is_a_notice_naming_the_user(start):
    server = start(config=users_config())
    bob = await login(server, "bob", "b1")
    await bob.send(b"SUB orders.> 7\r\nSUB orders.* workers 9\r\nSUB audit.> 8\r\nPING\r\n")
    await bob.expect(b"PONG\r\n")
    reload(server, users_config(bob_publish="audit.>"))
    # One -ERR per removed subscription, in no particular order.
    errors = await bob.expect(re.compile(rb"(?:-ERR '[^\r\n]*'\r\n){2}"))
    assert sorted(errors.group(0).split(b"\r\n")[:2]) == [
        b"-ERR 'Permissions Violation for Subscription to \"orders.*\" using queue \"workers\" (sid \"9\")'",
        b"-ERR 'Permissions Violation for Subscription to \"orders.>\" (sid \"7\")'",
    ]
    wait_logged(server, "INF", 'Removed sub "orders.>" (sid "7") for User "bob" - not authorized')
    wait_logged(server, "INF", 'Removed sub "orders.*" using queue "workers" (sid "9") for User "bob" - not authorized')
    # The allowed subscription stays, and is not logged.
    assert not logged_lines(server, '"audit.>" (sid')
    await bob.send(b"PUB audit.1 2\r\nhi\r\n")
    await bob.expect(b"MSG audit.1 8 2\r\nhi\r\n")
    await bob.close()


# ---- -ERR received -------------------------------------------------------------------------------------

@pytest.mark.parametrize("argument", ["'boom here'", "boom bah", "x'"])
async def test_client_sending_err_is_logged_and_closed_as_a_parse_error(start, argument):
    # nats-server's processErr: "Client Error <argument as sent>" at error level, no reply, closed as "Parse Error".
    server = start("-m", "-1")
    client = await RawClient.connected(server.port)
    await client.send(f"-ERR {argument}\r\n".encode())
    await client.expect_closed(timeout=5)
    wait_logged(server, "ERR", f"{label(client)} - Client Error {argument}")
    await client.close()
    closed = wait_for(lambda: [conn for conn in monitor_json(server.monitoring_port, "/connz?state=closed")["connections"]
                               if conn["cid"] == client.info["client_id"]], timeout=5, what="the closed client in /connz")
    assert closed[0]["reason"] == "Parse Error"


async def test_refused_route_is_logged_by_the_dialling_side(start):
    # The node whose CONNECT is refused logs the peer's -ERR as nats-server does: "Route Error '<text>'".
    seed = start(config="cluster { port: -1, authorization { user: ruser, password: rpass } }\n")
    dialler = start(config=f'cluster {{ port: -1, routes: ["nats-route://ruser:wrong@127.0.0.1:{seed.cluster_port}"] }}\n')
    pattern = re.compile(r"^\[\d+\] (?:[\d/]+ [\d:.]+ )?\[ERR\] 127\.0\.0\.1:\d+ - rid:\d+ - Route Error 'Authorization Violation'$", re.M)
    wait_for(lambda: pattern.search(dialler.log), timeout=10, what="the dialling side's Route Error line")


# ---- -V traces leak no credential -----------------------------------------------------------------------

async def test_trace_redacts_the_secrets_of_a_connect(start):
    # nats-server writes `[REDACTED]` for pass, auth_token, nkey and sig in a traced CONNECT; the rest stays.
    server = start("-V", config=USERS_AND_NKEY)
    client = await RawClient.open(server.port)
    connect = {"verbose": False, "user": "alice", "pass": "s3cret", "auth_token": "t0ken", "nkey": PUBLIC,
               "sig": "c2lnbmF0dXJl", "name": "tracedapp"}
    await client.send(b"CONNECT " + json.dumps(connect, separators=(",", ":")).encode() + b"\r\nPING\r\n")
    await client.expect_closed(timeout=5, allow_data=True)
    await client.close()
    line = wait_for(lambda: next((line for line in logged_lines(server, "<<- [CONNECT ") if "tracedapp" in line), None),
                    timeout=5, what="the traced CONNECT")
    assert '"user":"alice"' in line and '"name":"tracedapp"' in line, line
    for field in ("pass", "auth_token", "nkey", "sig"):
        assert f'"{field}":"[REDACTED]"' in line, line
    # The nkey is public (both servers name it in the authentication error); the others are secrets.
    for secret in ("s3cret", "t0ken", "c2lnbmF0dXJl"):
        assert secret not in server.log, f"{secret} in the log"


async def test_trace_redacts_a_route_connects_password(start):
    seed = start("-V", config="cluster { port: -1, authorization { user: ruser, password: rp4ss } }\n")
    start(config=f'cluster {{ port: -1, routes: ["nats-route://ruser:rp4ss@127.0.0.1:{seed.cluster_port}"] }}\n')
    line = wait_for(lambda: next(iter(logged_lines(seed, "<<- [CONNECT ")), None), timeout=10, what="the traced route CONNECT")
    assert '"pass":"[REDACTED]"' in line and '"user":"ruser"' in line, line
    assert "rp4ss" not in seed.log


# ---- malformed client input ------------------------------------------------------------------------------

def closed_reason(server: ServerHandle, client: RawClient) -> str:
    """The close reason /connz?state=closed gives `client` (waited for, bounded)."""
    closed = wait_for(lambda: [conn for conn in monitor_json(server.monitoring_port, "/connz?state=closed")["connections"]
                               if conn["cid"] == client.info["client_id"]], timeout=5, what="the closed client in /connz")
    return closed[0]["reason"]


@pytest.mark.parametrize("connect, operation, reply, logged, reason", [
    ({}, b"PUB foo -1\r\n", b"", 'processPub Bad or Missing Size: "foo -1"', "Protocol Violation"),
    ({}, b"PUB foo\r\n", b"", 'processPub Parse Error: "foo"', "Protocol Violation"),
    ({}, b"PUB a b c 1\r\n", b"", 'processPub Parse Error: "a b c 1"', "Protocol Violation"),
    ({"headers": True}, b"HPUB foo\r\n", b"", 'processHeaderPub Parse Error: "foo"', "Protocol Violation"),
    ({"headers": True}, b"HPUB foo x 2\r\n", b"", 'processHeaderPub Bad or Missing Header Size: "foo x 2"',
     "Protocol Violation"),
    ({"headers": True}, b"HPUB foo 12 2\r\n", b"", 'processHeaderPub Header Size larger then TotalSize: "foo 12 2"',
     "Protocol Violation"),
    ({}, b"SUB foo\r\n", b"", 'processSub Parse Error: "foo"', "Protocol Violation"),
    ({}, b"UNSUB 1 2 3\r\n", b"", 'processUnsub Parse Error: "1 2 3"', "Protocol Violation"),
    # Quoted as Go's %q writes it.
    ({}, b'SUB "\x01\xff\r\n', b"", r'processSub Parse Error: "\"\x01\xff"', "Protocol Violation"),
    ({}, b"HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", b"", "message headers not supported", "Protocol Violation"),
    ({}, b"PUB foo " + b"x" * 5000 + b" 1\r\n", b"-ERR 'maximum control line exceeded'\r\n",
     "maximum control line exceeded", "Maximum Control Line Exceeded"),
], ids=["pub-size", "pub-arguments", "pub-too-many", "hpub-arguments", "hpub-header-size", "hpub-header-over-total",
        "sub-arguments", "unsub-arguments", "quoted", "headers-not-negotiated", "control-line"])
async def test_malformed_op_is_logged_as_an_error(start, connect, operation, reply, logged, reason):
    server = start("-m", "-1")
    client = await RawClient.connected(server.port, connect)
    await client.send(operation)
    await client.expect_then_closed(reply) if reply else await client.expect_closed(timeout=5)
    wait_logged(server, "ERR", f"{label(client)} - {logged}")
    await client.close()
    assert closed_reason(server, client) == reason


async def test_unknown_operation_is_logged_with_a_snippet_of_the_input(start):
    # nats-server names its parser state and the byte offset it stopped at; natsd's op-wise parser logs
    # state 0 and the op's offset (ProtocolComplaint), so only those two numbers may differ.
    server = start("-m", "-1")
    client = await RawClient.connected(server.port)
    await client.send(b"\x00\x01\x02garbage\r\n")
    await client.expect_then_closed(b"-ERR 'Unknown Protocol Operation'\r\n")
    pattern = re.compile(r"^\[\d+\] (?:[\d/]+ [\d:.]+ )?\[ERR\] " + re.escape(label(client))
                         + r" - Client parser ERROR, state=\d+, i=\d+: " + re.escape(r"""proto='"\x00\x01\x02garbage\r"...'""") + "$",
                         re.M)
    wait_for(lambda: pattern.search(server.log), timeout=5, what="the parser ERROR line")
    await client.close()
    assert closed_reason(server, client) == "Protocol Violation"


@pytest.mark.parametrize("operation, logged", [
    (b"CONNECT {bad}\r\n", "invalid character 'b' looking for beginning of object key string"),
    (b"CONNECT\r\n", "unexpected end of JSON input"),
], ids=["bad-json", "no-json"])
async def test_undecodable_connect_is_logged_and_closed_as_a_protocol_violation(start, impl, operation, logged):
    server = start("-m", "-1")
    client = await RawClient.open(server.port)
    await client.send(operation)
    await client.expect_closed(timeout=5)
    if impl == "natsd" and operation != b"CONNECT\r\n":
        # natsd's JSON decoder reports no reason: it logs its own words where nats-server logs Go's.
        logged = "invalid CONNECT JSON"
    wait_logged(server, "ERR", f"{label(client)} - {logged}")
    await client.close()
    assert closed_reason(server, client) == "Protocol Violation"


# ---- -ERR sent to a route ------------------------------------------------------------------------------

def wait_route_logged(server: ServerHandle, level: str, peer: RawClient, text: str) -> str:
    """Waits (bounded) for `[<level>] <ip>:<port> - rid:<n> - <text>` about the route `peer` opened; `text`
    is a regular expression."""
    host, port = peer.writer.get_extra_info("sockname")[:2]
    pattern = re.compile(rf"^\[\d+\] (?:[\d/]+ [\d:.]+ )?\[{level}\] {re.escape(f'{host}:{port}')} - rid:\d+ - {text}$", re.M)
    wait_for(lambda: pattern.search(server.log), timeout=5, what=f"[{level}] rid - {text}")
    return pattern.search(server.log).group(0)


@pytest.mark.parametrize("sent, reply, logged", [
    (lambda: fake_route_info(), b"-ERR 'Authorization Violation'\r\n", re.escape("authentication error")),
    (lambda: b"PING\r\n", b"-ERR 'Authorization Violation'\r\n", re.escape("authentication error")),
    # As for clients, nats-server's state number and offset may differ from natsd's (ProtocolComplaint).
    (lambda: fake_route_connect() + b"xyz\r\n", b"-ERR 'Unknown Protocol Operation'\r\n",
     r"Router parser ERROR, state=\d+, i=\d+: " + re.escape("""proto='"xyz\\r"...'""")),
    (lambda: fake_route_connect() + b"RS+ " + b"a" * 70000 + b"\r\n", b"-ERR 'maximum control line exceeded'\r\n",
     re.escape("maximum control line exceeded")),
    (lambda: fake_route_connect() + fake_route_info(route_pool_size=3, route_account="$SYS"),
     b"-ERR 'Unable to lookup account \"$SYS\": account missing'\r\n",
     re.escape('Unable to lookup account "$SYS": account missing')),
    (lambda: fake_route_connect() + fake_route_info(route_pool_size=3, route_pool_idx=7),
     b"-ERR 'Invalid route pool index: 7 - pool size is 3'\r\n", re.escape("Invalid route pool index: 7 - pool size is 3")),
], ids=["info-before-connect", "op-before-connect", "unknown-op", "control-line", "system-account", "pool-index"])
async def test_error_sent_to_a_route_is_logged_by_its_text(start, sent, reply, logged):
    # nats-server writes "Route Error '…'" only for an -ERR it receives; one it sends is logged by its text.
    member = start_cluster_member(start, None)
    peer = await RawClient.open(member.cluster_port)
    await peer.send(sent())
    await peer.expect_then_closed(reply)
    wait_route_logged(member, "ERR", peer, logged)
    await peer.close()
    assert not logged_lines(member, "Route Error")


async def test_route_refused_by_reload_is_logged_by_the_user_it_offered(start):
    seed = start(config=CLUSTER_AUTH.format(password="rpass"))
    node = start(config=f'cluster {{ port: -1, routes: ["nats-route://ruser:rpass@127.0.0.1:{seed.cluster_port}"] }}\n')
    wait_for(lambda: "Route connection created" in node.log and "Route connection created" in seed.log, timeout=10,
             what="the route")
    reload(seed, CLUSTER_AUTH.format(password="other"))
    pattern = re.compile(r'^\[\d+\] (?:[\d/]+ [\d:.]+ )?\[ERR\] 127\.0\.0\.1:\d+ - rid:\d+ - authentication error - User "ruser"$',
                         re.M)
    wait_for(lambda: pattern.search(seed.log), timeout=5, what="the refused route's authentication error")
    assert not logged_lines(seed, "Route Error")


CLUSTER_AUTH = "cluster {{ port: -1, authorization {{ user: ruser, password: {password} }} }}\n"
