"""Accounts (issue 8, point 2): isolated subject spaces with their users, `$G` for users outside every
account, `no_auth_user` into an account, stream exports/imports (`prefix`, `to`), service exports/imports
with the response routed back (`response_type` singleton and stream), private exports, and the config
errors nats-server gives for imports that are not authorized. Every test runs against natsd and
nats-server (single node here; across clusters in test_cluster_accounts.py)."""

from __future__ import annotations

import asyncio
import nats
import pytest

from nats_helpers import flushed
from raw_client import RawClient
from test_config import run_to_exit

ACCOUNTS = """
accounts {
  A: {
    users = [ {user: a, password: pw}, {user: a2, password: pw} ]
    exports = [
      {stream: "events.>"}
      {stream: "alerts"}
      {stream: "private.>", accounts: [B]}
      {service: "svc.time"}
      {service: "svc.stream.*", response_type: stream, response_threshold: "2s"}
    ]
  }
  B: {
    users = [ {user: b, password: pw} ]
    imports = [
      {stream: {account: A, subject: "events.>"}, prefix: "from_a"}
      {stream: {account: A, subject: "alerts"}, to: "a.alerts"}
      {stream: {account: A, subject: "private.>"}}
      {service: {account: A, subject: "svc.time"}, to: "time"}
      {service: {account: A, subject: "svc.stream.*"}}
    ]
  }
  C: { users = [ {user: c, password: pw} ] }
}
authorization { users = [ {user: g, password: pw} ] }
"""


@pytest.fixture
def accounts_server(start):
    return start(config=ACCOUNTS)


@pytest.fixture
async def user(accounts_server):
    """Factory: `await user(name)`, a nats-py connection as that user (password pw); closed at teardown."""
    opened = []

    async def factory(name: str, **kwargs):
        nc = await nats.connect(f"nats://{name}:pw@127.0.0.1:{accounts_server.port}", allow_reconnect=False, **kwargs)
        opened.append(nc)
        return nc

    yield factory
    for nc in opened:
        await nc.close()


def collector(store: list):
    async def handler(msg):
        store.append((msg.subject, msg.data))
    return handler


async def settle(*connections) -> None:
    """Every connection's messages so far have been processed by the server and delivered back."""
    await flushed(*connections)
    await asyncio.sleep(0.05)
    await flushed(*connections)


# ---- isolation ----------------------------------------------------------------------------------

async def test_accounts_isolate_subjects(user):
    a, a2, b, c, g = [await user(name) for name in ("a", "a2", "b", "c", "g")]
    received = {name: [] for name in ("a2", "b", "c", "g")}
    for name, nc in (("a2", a2), ("b", b), ("c", c), ("g", g)):
        await nc.subscribe("foo", cb=collector(received[name]))
        await nc.subscribe(">", cb=collector(received[name]))
    await settle(a2, b, c, g)
    await a.publish("foo", b"from-a")
    await c.publish("foo", b"from-c")
    await g.publish("foo", b"from-g")
    await settle(a, c, g, a2, b)
    assert received["a2"] == [("foo", b"from-a")] * 2
    assert received["c"] == [("foo", b"from-c")] * 2
    assert received["g"] == [("foo", b"from-g")] * 2
    assert received["b"] == []


async def test_queue_groups_are_per_account(user):
    a, b = await user("a"), await user("b")
    at_a, at_b = [], []
    await a.subscribe("work", queue="q", cb=collector(at_a))
    await b.subscribe("work", queue="q", cb=collector(at_b))
    await settle(a, b)
    for _ in range(10):
        await a.publish("work", b"x")
    await settle(a, b)
    assert len(at_a) == 10 and at_b == []


async def test_connect_info_names_the_account(accounts_server):
    client = await RawClient.connected(accounts_server.port, {"user": "b", "pass": "pw", "protocol": 1})
    try:
        # Protocol 1: an INFO with `connect_info` follows the first PONG.
        info = await client.read_info()
        assert info["remote_account"] == "B"
    finally:
        await client.close()


async def test_no_auth_user_lands_in_its_account(start):
    server = start(config=ACCOUNTS + "\nno_auth_user: b\n")
    anonymous = await nats.connect(f"nats://127.0.0.1:{server.port}", allow_reconnect=False)
    b = await nats.connect(f"nats://b:pw@127.0.0.1:{server.port}", allow_reconnect=False)
    a = await nats.connect(f"nats://a:pw@127.0.0.1:{server.port}", allow_reconnect=False)
    try:
        received = []
        await anonymous.subscribe("hello", cb=collector(received))
        await settle(anonymous)
        await a.publish("hello", b"a")
        await b.publish("hello", b"b")
        await settle(a, b, anonymous)
        assert received == [("hello", b"b")]
    finally:
        for nc in (anonymous, b, a):
            await nc.close()


# ---- stream imports -----------------------------------------------------------------------------

async def test_stream_import_with_prefix(user):
    a, b, c = await user("a"), await user("b"), await user("c")
    exact, wild, everything, at_c = [], [], [], []
    await b.subscribe("from_a.events.x", cb=collector(exact))
    await b.subscribe("from_a.>", cb=collector(wild))
    await b.subscribe(">", cb=collector(everything))
    await c.subscribe(">", cb=collector(at_c))
    await settle(b, c)
    await a.publish("events.x", b"1")
    await a.publish("events.y.z", b"2")
    await a.publish("other", b"3")
    await settle(a, b, c)
    assert exact == [("from_a.events.x", b"1")]
    assert sorted(wild) == [("from_a.events.x", b"1"), ("from_a.events.y.z", b"2")]
    assert sorted(everything) == sorted(wild)
    assert at_c == []
    # The importing account's own publishes on the mapped subject reach its subscribers as any subject does.
    await b.publish("from_a.events.local", b"4")
    await settle(b)
    assert ("from_a.events.local", b"4") in wild


async def test_stream_import_with_to_and_private_export(user):
    a, b = await user("a"), await user("b")
    alerts, private = [], []
    await b.subscribe("a.alerts", cb=collector(alerts))
    await b.subscribe("private.>", cb=collector(private))
    await settle(b)
    await a.publish("alerts", b"fire")
    await a.publish("private.x", b"p")
    await settle(a, b)
    assert alerts == [("a.alerts", b"fire")]
    assert private == [("private.x", b"p")]


async def test_stream_import_queue_subscription(user):
    a, b = await user("a"), await user("b")
    first, second = [], []
    await b.subscribe("from_a.events.q", queue="workers", cb=collector(first))
    await b.subscribe("from_a.events.q", queue="workers", cb=collector(second))
    await settle(b)
    for _ in range(20):
        await a.publish("events.q", b"w")
    await settle(a, b)
    assert len(first) + len(second) == 20


async def test_unsubscribing_stops_imported_messages(user):
    a, b = await user("a"), await user("b")
    received = []
    sub = await b.subscribe("from_a.events.>", cb=collector(received))
    await settle(b)
    await a.publish("events.1", b"1")
    await settle(a, b)
    await sub.unsubscribe()
    await settle(b)
    await a.publish("events.2", b"2")
    await settle(a, b)
    assert received == [("from_a.events.1", b"1")]


# ---- service imports ----------------------------------------------------------------------------

async def test_service_import_routes_the_response_back(user):
    a, b = await user("a"), await user("b")
    seen = []

    async def responder(msg):
        seen.append(msg.subject)
        await a.publish(msg.reply, b"noon:" + msg.data)

    await a.subscribe("svc.time", cb=responder)
    await settle(a)
    response = await b.request("time", b"q", timeout=2)
    assert response.data == b"noon:q"
    assert seen == ["svc.time"]
    # The service is not reachable under its own subject from B, nor from an account without the import.
    c = await user("c")
    with pytest.raises(nats.errors.NoRespondersError):
        await c.request("svc.time", b"q", timeout=1)


async def test_singleton_service_gets_one_response(user):
    a, b = await user("a"), await user("b")

    async def responder(msg):
        await a.publish(msg.reply, b"first")
        await a.publish(msg.reply, b"second")

    await a.subscribe("svc.time", cb=responder)
    await settle(a)
    inbox = b.new_inbox()
    got = []
    await b.subscribe(inbox, cb=collector(got))
    await b.publish("time", b"q", reply=inbox)
    await settle(a, b)
    await asyncio.sleep(0.1)
    await settle(a, b)
    assert [data for _, data in got] == [b"first"]


async def test_stream_service_gets_every_response(user):
    a, b = await user("a"), await user("b")

    async def responder(msg):
        for part in (b"1", b"2", b"3"):
            await a.publish(msg.reply, part)

    await a.subscribe("svc.stream.*", cb=responder)
    await settle(a)
    inbox = b.new_inbox()
    got = []
    await b.subscribe(inbox, cb=collector(got))
    await b.publish("svc.stream.x", b"q", reply=inbox)
    for _ in range(20):
        await settle(a, b)
        if len(got) == 3:
            break
    assert [data for _, data in got] == [b"1", b"2", b"3"]


# ---- config errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("config, message", [
    ("accounts { A: {}, B: { imports = [ {stream: {account: A, subject: x}} ] } }",
     'Error adding stream import "x": stream import not authorized'),
    ("accounts { A: { exports = [ {service: x, accounts: [C]} ] }, B: { imports = [ {service: {account: A, subject: x}} ] }, C: {} }",
     'Error adding service import "x": service import not authorized'),
    ("accounts { B: { imports = [ {stream: {account: NOPE, subject: x}} ] } }",
     '"NOPE" account not defined for stream import'),
    ('accounts { "$G": {} }', '"$G" is a Reserved Account'),
    ("accounts { A: { exports = [ {stream: x, response_type: stream} ] } }", "Detected response directive on non-service"),
    ("accounts { A: { users = [ {user: u, password: p} ] }, B: { users = [ {user: u, password: q} ] } }",
     'Duplicate user "u" detected'),
    ("system_account: SYS", "error resolving system account: account missing"),
    ("accounts { A { exports = [ {service: q} ], imports = [ {service: {account: B, subject: q}} ] }, "
     "B { exports = [ {service: q} ], imports = [ {service: {account: A, subject: q}} ] } }",
     'Error adding service import "q": import forms a cycle'),
    ("accounts { A { exports = [ {stream: s} ] }, B { imports = [ {stream: {account: A, subject: s}}, "
     "{stream: {account: A, subject: s}} ] } }", 'Error adding stream import "s": stream import already exists'),
])
def test_sharing_config_errors(impl, tmp_path, config, message):
    result = run_to_exit(impl, tmp_path, config)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


# ---- found by a fresh user (wildcard imports, cycles, unanswered requests) --------------------------

WILDCARD_QUEUE = """
accounts {
  A { users = [ {user: a, password: pw} ], exports = [ {stream: "wild.*.x"} ] }
  B { users = [ {user: b, password: pw} ], imports = [ {stream: {account: A, subject: "wild.*.x"}, to: "w.*.x"} ] }
}
"""


async def test_queue_members_on_different_imported_subjects_each_get_theirs(start):
    # Two members of one queue group subscribe to different subjects of a wildcard `to` import: each
    # subject's messages go to the member subscribed to it, none is lost to the other.
    server = start(config=WILDCARD_QUEUE)
    url = f"127.0.0.1:{server.port}"
    b1 = await nats.connect(f"nats://b:pw@{url}", allow_reconnect=False)
    b2 = await nats.connect(f"nats://b:pw@{url}", allow_reconnect=False)
    a = await nats.connect(f"nats://a:pw@{url}", allow_reconnect=False)
    try:
        at_1, at_2 = [], []
        await b1.subscribe("w.q.x", queue="g", cb=collector(at_1))
        await b2.subscribe("w.z.x", queue="g", cb=collector(at_2))
        await settle(b1, b2)
        for index in range(50):
            await a.publish("wild.q.x", b"%d" % index)
            await a.publish("wild.z.x", b"%d" % index)
        await settle(a, b1, b2)
        for _ in range(20):
            if len(at_1) == 50 and len(at_2) == 50:
                break
            await settle(b1, b2)
        assert [s for s, _ in at_1] == ["w.q.x"] * 50
        assert [s for s, _ in at_2] == ["w.z.x"] * 50
    finally:
        for nc in (a, b1, b2):
            await nc.close()


async def test_an_accounts_import_of_its_own_service_carries_a_request_once(start):
    # nats-server accepts one import of an account's own service: the responder gets the request once
    # directly and once through the import, never more.
    server = start(config="accounts { A { users = [ {user: a, password: pw} ], exports = [ {service: x} ], "
                          "imports = [ {service: {account: A, subject: x}} ] } }")
    nc = await nats.connect(f"nats://a:pw@127.0.0.1:{server.port}", allow_reconnect=False)
    try:
        got = []
        await nc.subscribe("x", cb=collector(got))
        await settle(nc)
        await nc.publish("x", b"once")
        for _ in range(10):
            await settle(nc)
        assert got == [("x", b"once")] * 2
    finally:
        await nc.close()


async def test_numbered_wildcards_in_to_reorder_tokens(start):
    server = start(config='accounts { A { users = [ {user: a, password: pw} ], exports = [ {stream: "a.*.*"} ] }, '
                          'B { users = [ {user: b, password: pw} ], '
                          'imports = [ {stream: {account: A, subject: "a.*.*"}, to: "b.$2.$1"} ] } }')
    url = f"127.0.0.1:{server.port}"
    a = await nats.connect(f"nats://a:pw@{url}", allow_reconnect=False)
    b = await nats.connect(f"nats://b:pw@{url}", allow_reconnect=False)
    try:
        got = []
        await b.subscribe("b.2.*", cb=collector(got))
        await settle(b)
        await a.publish("a.1.2", b"m")
        await a.publish("a.2.1", b"other")
        await settle(a, b)
        await settle(a, b)
        assert got == [("b.2.1", b"m")]
    finally:
        await a.close()
        await b.close()
