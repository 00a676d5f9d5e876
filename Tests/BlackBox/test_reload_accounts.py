"""Configuration reload of the `accounts` block (issue 10 point 1), against natsd and nats-server: accounts
added (their users log in at once) and removed (their clients closed), users moved to another account
(closed, they reconnect into the new one), stream and service imports added and removed taking effect on
live connections (on one node and across a route), and subscribers in accounts the reload leaves alone
receiving without interruption."""
from __future__ import annotations

import asyncio
import re

import pytest

from monitor_http import closed_reason
from raw_client import RawClient
from server_process import ServerHandle, wait_for
from test_reload import login, reload

# A reload is applied on every loop after the main loop logs it (natsd); nats-server applies it before.
SETTLE = 0.3


def accounts(a_users: str = "{user: a, password: pw}", b_users: str = "{user: b, password: pw}",
             b_imports: str = "", extra_accounts: str = "", a_exports: str = "") -> str:
    return f"""
accounts {{
  A: {{
    users = [ {a_users} ]
    exports = [ {{stream: "events.>"}}, {{service: "svc.time"}} {a_exports} ]
  }}
  B: {{
    users = [ {b_users} ]
    imports = [ {b_imports} ]
  }}
  C: {{ users = [ {{user: c1, password: pw}}, {{user: c2, password: pw}} ] }}
  {extra_accounts}
}}
"""


STREAM_IMPORT = '{stream: {account: A, subject: "events.>"}}'
SERVICE_IMPORT = '{service: {account: A, subject: "svc.time"}, to: "time"}'


async def subscribed(server: ServerHandle, user: str, subject: str, sid: int = 1) -> RawClient:
    client = await login(server, user, "pw")
    await client.send(f"SUB {subject} {sid}\r\nPING\r\n".encode())
    await client.expect(b"PONG\r\n")
    return client


async def publish(server: ServerHandle, user: str, subject: str, payload: bytes = b"hi") -> None:
    publisher = await login(server, user, "pw")
    await publisher.send(f"PUB {subject} {len(payload)}\r\n".encode() + payload + b"\r\nPING\r\n")
    await publisher.expect(b"PONG\r\n")
    await publisher.close()


async def receives_only_from(server: ServerHandle, client: RawClient, sender: str, other: str) -> None:
    """`client`, subscribed to `x` as sid 1, gets what user `sender` publishes there, and nothing of what user
    `other` (of another account) publishes first."""
    await publish(server, other, "x", b"other")
    await publish(server, sender, "x", b"own")
    await client.expect(b"MSG x 1 3\r\nown\r\n")
    await client.expect_nothing(0.3)


async def test_account_added_with_a_user(start):
    server = start(config=accounts())
    with pytest.raises(Exception):
        await login(server, "d", "pw")
    log = reload(server, accounts(extra_accounts="D: { users = [ {user: d, password: pw} ] }"))
    assert "Reloaded: accounts" in log
    d = await subscribed(server, "d", "x")
    # The new account is its own subject space.
    await publish(server, "a", "x")
    await d.expect_nothing(0.3)
    await publish(server, "d", "x", b"own")
    await d.expect(b"MSG x 1 3\r\nown\r\n")
    await d.close()


async def test_removed_account_closes_its_clients(start):
    server = start(config=accounts(extra_accounts="D: { users = [ {user: d, password: pw} ] }"))
    d = await login(server, "d", "pw")
    a = await login(server, "a", "pw")
    log = reload(server, accounts())
    assert "Reloaded: accounts" in log
    # nats-server closes it without an -ERR (`Client Closed`).
    assert await d.expect_closed() == b""
    await a.expect_open()
    with pytest.raises(Exception):
        await login(server, "d", "pw")
    await a.close()


async def test_user_moved_to_another_account_reconnects_into_it(start):
    moving = "{user: u, password: pw}"
    server = start(config=accounts(a_users="{user: a, password: pw}, " + moving))
    u = await subscribed(server, "u", "x")
    reload(server, accounts(b_users="{user: b, password: pw}, " + moving))
    assert await u.expect_closed() == b""
    again = await subscribed(server, "u", "x")
    await receives_only_from(server, again, "b", other="a")
    await again.close()


async def test_no_auth_user_moved_to_another_account_closes_anonymous_clients_silently(start):
    # A client without credentials is the `no_auth_user`: when a reload moves that user to another account,
    # nats-server closes it as it closes a client that named a moved user (`Client Closed`, no -ERR, no
    # authentication error in the log), and it reconnects into the new account.
    no_auth = "no_auth_user: b\n"
    server = start("-m", "-1", config=accounts() + no_auth)
    anonymous = await RawClient.connected(server.port)
    cid = anonymous.info["client_id"]
    log = reload(server, accounts(a_users="{user: a, password: pw}, {user: b, password: pw}",
                                  b_users="{user: b2, password: pw}") + no_auth)
    assert "Reloaded: accounts" in log
    assert await anonymous.expect_closed() == b""
    assert await asyncio.to_thread(closed_reason, server.monitoring_port, cid) == "Client Closed"
    assert "Authorization Violation" not in server.log and "authentication error" not in server.log
    again = await RawClient.connected(server.port)
    await again.send(b"SUB x 1\r\nPING\r\n")
    await again.expect(b"PONG\r\n")
    await receives_only_from(server, again, "a", other="b2")
    await again.close()


async def test_no_auth_user_password_changed_refuses_anonymous_clients(start):
    # nats-server checks an anonymous client against the `no_auth_user` password it logged in with: a
    # reload that changes that password refuses it (-ERR, and the log names the user).
    no_auth = "no_auth_user: b\n"
    server = start(config=accounts() + no_auth)
    anonymous = await RawClient.connected(server.port)
    reload(server, accounts(b_users="{user: b, password: other}") + no_auth)
    assert await anonymous.expect_closed(allow_data=True) == b"-ERR 'Authorization Violation'\r\n"
    await asyncio.to_thread(wait_for, lambda: 'authentication error - User "b"' in server.log, 5.0,
                            "the authentication error")
    await (await RawClient.connected(server.port)).close()


async def test_stream_import_added_then_removed_on_a_live_subscription(start):
    server = start(config=accounts())
    b = await subscribed(server, "b", "events.>")
    await publish(server, "a", "events.1")
    await b.expect_nothing(0.3)

    reload(server, accounts(b_imports=STREAM_IMPORT))
    await asyncio.sleep(SETTLE)
    await publish(server, "a", "events.2")
    await b.expect(b"MSG events.2 1 2\r\nhi\r\n")

    reload(server, accounts())
    await asyncio.sleep(SETTLE)
    await publish(server, "a", "events.3")
    await b.expect_nothing(0.5)
    # The subscription itself is still there, in its own account.
    await publish(server, "b", "events.4")
    await b.expect(b"MSG events.4 1 2\r\nhi\r\n")
    await b.close()


async def test_stream_import_with_a_new_prefix_moves_the_live_subscription(start):
    prefixed = '{stream: {account: A, subject: "events.>"}, prefix: "p1"}'
    server = start(config=accounts(b_imports=prefixed))
    b = await login(server, "b", "pw")
    await b.send(b"SUB p1.events.> 1\r\nSUB p2.events.> 2\r\nPING\r\n")
    await b.expect(b"PONG\r\n")
    await publish(server, "a", "events.1")
    await b.expect(b"MSG p1.events.1 1 2\r\nhi\r\n")

    reload(server, accounts(b_imports=prefixed.replace("p1", "p2")))
    await asyncio.sleep(SETTLE)
    await publish(server, "a", "events.2")
    await b.expect(b"MSG p2.events.2 2 2\r\nhi\r\n")
    await b.expect_nothing(0.3)
    await b.close()


async def request_reaches_responder(server: ServerHandle, responder: RawClient, timeout: float = 1.0) -> bool:
    """b requests `time`; True when the responder in A got it and its answer came back to b."""
    requester = await subscribed(server, "b", "inbox")
    try:
        await requester.send(b"PUB time inbox 2\r\nhi\r\nPING\r\n")
        await requester.expect(b"PONG\r\n")
        try:
            request = await responder.expect(re.compile(rb"MSG svc\.time 1 (\S+) 2\r\nhi\r\n"), timeout=timeout)
        except AssertionError:
            return False
        await responder.send(b"PUB " + request.group(1) + b" 3\r\nnow\r\n")
        await requester.expect(b"MSG inbox 1 3\r\nnow\r\n")
        return True
    finally:
        await requester.close()


async def test_service_import_added_then_removed(start):
    server = start(config=accounts())
    responder = await subscribed(server, "a", "svc.time")
    assert not await request_reaches_responder(server, responder, timeout=0.3)

    reload(server, accounts(b_imports=SERVICE_IMPORT))
    await asyncio.sleep(SETTLE)
    assert await request_reaches_responder(server, responder)

    reload(server, accounts())
    await asyncio.sleep(SETTLE)
    assert not await request_reaches_responder(server, responder, timeout=0.5)
    await responder.close()


async def test_subscriber_in_an_unchanged_account_keeps_receiving(start):
    server = start(config=accounts())
    c1 = await subscribed(server, "c1", "keep")
    c2 = await login(server, "c2", "pw")
    total = 300

    async def publish_throughout():
        for number in range(total):
            await c2.send(f"PUB keep {len(str(number))}\r\n{number}\r\n".encode())
            await asyncio.sleep(0.002)
        await c2.send(b"PING\r\n")
        await c2.expect(b"PONG\r\n")

    publishing = asyncio.create_task(publish_throughout())
    # In a thread, so the messages keep going out while the server reloads.
    await asyncio.to_thread(reload, server, accounts(b_imports=STREAM_IMPORT + ", " + SERVICE_IMPORT,
                                                     extra_accounts="D: { users = [ {user: d, password: pw} ] }"))
    await asyncio.to_thread(reload, server, accounts())
    await publishing
    for number in range(total):
        await c1.expect(f"MSG keep 1 {len(str(number))}\r\n{number}\r\n".encode())
    await c1.close()
    await c2.close()


def cluster_accounts(routes: list[int], b_imports: str = "") -> str:
    listed = ", ".join(f'"nats-route://127.0.0.1:{port}"' for port in routes)
    return (accounts(b_imports=b_imports)
            + f'cluster {{\n  name: reload\n  listen: "127.0.0.1:-1"\n  routes: [{listed}]\n}}\n')


def two_nodes(start) -> tuple[ServerHandle, ServerHandle]:
    seed = start(config=cluster_accounts([]))
    return seed, start(config=cluster_accounts([seed.cluster_port]))


def reload_both(seed: ServerHandle, node: ServerHandle, b_imports: str) -> None:
    for server, routes in ((seed, []), (node, [seed.cluster_port])):
        reload(server, cluster_accounts(routes, b_imports=b_imports))


async def eventually(attempt, what: str, timeout: float = 5.0) -> None:
    """Awaits `attempt()` until it returns True (the route may still be forming); fails after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await attempt():
        assert loop.time() < deadline, what


async def test_stream_import_added_reaches_a_subscriber_across_a_route(start):
    seed, node = two_nodes(start)
    b = await subscribed(seed, "b", "events.>")
    reload_both(seed, node, STREAM_IMPORT)

    # The subscriber's shadow in A is announced to the route (RS+ A events.>), so A's messages published
    # on the other node come over.
    async def crossed() -> bool:
        await publish(node, "a", "events.1")
        try:
            await b.expect(b"MSG events.1 1 2\r\nhi\r\n", timeout=0.3)
            return True
        except AssertionError:
            return False

    await eventually(crossed, "A's message never crossed the route to the importer")
    await b.close()


async def test_service_import_added_answers_come_back_across_a_route(start):
    seed, node = two_nodes(start)
    responder = await subscribed(seed, "a", "svc.time")
    reload_both(seed, node, SERVICE_IMPORT)
    # The request runs the import on `node`; the response, published on `seed` to the reply subject `node`
    # handed out, comes back because `node` announced its response wildcard (RS+ A _R_.….>) at the reload.
    await eventually(lambda: request_reaches_responder(node, responder, timeout=0.3),
                     "the request or its response never crossed the route")
    await responder.close()
