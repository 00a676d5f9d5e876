"""Accounts across a 3-node chain (issue 8, points 2 and 6): every node has the same `accounts` block; a
client's account travels with its interest and messages (RS+/RS-/RMSG name it), so subjects stay isolated
per account on every node, stream imports reach importers on other nodes, and a service request made on
one node reaches the exporter's responder on another and its response finds the way back. Runs in every
layout (natsd, nats-server, mixed both orders) with pooled routes and the no-pool dialect: with a pool an
account's traffic goes on its slot (FNV-1a of the name), without one every account shares the connection."""

from __future__ import annotations

import asyncio
import time

import pytest

from cluster import eventually
from nats_helpers import flushed

ACCOUNTS = """
accounts {
  A: {
    users = [ {user: a, password: pw} ]
    exports = [
      {stream: "events.>"}
      {stream: "alerts.*"}
      {service: "svc.time"}
    ]
  }
  B: {
    users = [ {user: b, password: pw} ]
    imports = [
      {stream: {account: A, subject: "events.>"}, prefix: "from_a"}
      {stream: {account: A, subject: "alerts.*"}, to: "a_alerts.*"}
      {service: {account: A, subject: "svc.time"}, to: "time"}
    ]
  }
  C: { users = [ {user: c, password: pw} ] }
  D: { users = [ {user: d, password: pw} ] }
}
authorization { users = [ {user: g, password: pw} ] }
"""

USERS = ("a", "b", "c", "d", "g")


def collector(store: list):
    async def handler(msg):
        store.append((msg.subject, msg.data))
    return handler


async def chain(cluster, pool_size):
    nodes = cluster.chain(3, config_cluster=True, pool_size=pool_size, extra_config=ACCOUNTS)
    await cluster.wait_mesh(nodes)
    return nodes


async def as_user(connect, node, user):
    return await connect(node, user=user, password="pw")


async def until_routed(publisher, subject: str, received: list, timeout: float = 5.0):
    """Publishes `subject` until the subscriber (collecting into `received`) has one: the interest it
    registered with that subscription (its last) has then crossed the routes. Bounded in time."""
    deadline = time.monotonic() + timeout
    while not any(s == subject for s, _ in received):
        assert time.monotonic() < deadline, f"{subject} never routed"
        await publisher.publish(subject, b"ready")
        await flushed(publisher)
        await asyncio.sleep(0.05)
    received[:] = [entry for entry in received if entry[0] != subject]


POOLS = pytest.mark.parametrize("pool_size", [None, -1], ids=["pooled", "nopool"])


@POOLS
async def test_accounts_stay_isolated_across_the_chain(cluster, connect, pool_size):
    first, _, third = await chain(cluster, pool_size)
    received = {user: [] for user in USERS}
    subscribers = {}
    for user in USERS:
        subscribers[user] = await as_user(connect, third, user)
        await subscribers[user].subscribe("shared.>", cb=collector(received[user]))
        await subscribers[user].subscribe(f"ready.{user}", cb=collector(received[user]))
        await flushed(subscribers[user])
    publishers = {user: await as_user(connect, first, user) for user in USERS}
    for user in USERS:
        await until_routed(publishers[user], f"ready.{user}", received[user])

    for user in USERS:
        for index in range(3):
            await publishers[user].publish(f"shared.{index}", user.encode())
        await flushed(publishers[user])
    await eventually(lambda: all(len(received[user]) >= 3 for user in USERS), 5,
                     what=lambda: f"three messages per account ({received})")
    await asyncio.sleep(0.2)  # a message leaking into another account would have arrived by now
    for user in USERS:
        assert received[user] == [(f"shared.{index}", user.encode()) for index in range(3)], user


@POOLS
async def test_stream_imports_reach_importers_on_other_nodes(cluster, connect, pool_size):
    first, second, third = await chain(cluster, pool_size)
    at_b: list = []
    b = await as_user(connect, third, "b")
    await b.subscribe("from_a.events.>", cb=collector(at_b))
    await b.subscribe("a_alerts.*", cb=collector(at_b))
    # Same subjects in B's own space must not be mistaken for the imports, and A's subscribers elsewhere
    # still get A's messages.
    at_a: list = []
    a_sub = await as_user(connect, second, "a")
    await a_sub.subscribe("events.>", cb=collector(at_a))
    await flushed(b)
    await flushed(a_sub)

    a = await as_user(connect, first, "a")
    deadline = time.monotonic() + 5
    while not any(s == "from_a.events.ready" for s, _ in at_b):
        assert time.monotonic() < deadline, "the import's interest never reached the exporter's node"
        await a.publish("events.ready", b"r")
        await a.publish("alerts.ready", b"r")
        await flushed(a)
        await asyncio.sleep(0.05)
    await eventually(lambda: any(s == "a_alerts.ready" for s, _ in at_b), 5, what="the `to` import")
    at_b.clear()
    at_a.clear()

    await a.publish("events.x.y", b"1")
    await a.publish("alerts.fire", b"2")
    await a.publish("other", b"3")
    await flushed(a)
    c = await as_user(connect, first, "c")
    await c.publish("events.x.y", b"not-a")
    await flushed(c)
    await eventually(lambda: len(at_b) >= 2 and len(at_a) >= 1, 5, what=lambda: f"imports (b {at_b}, a {at_a})")
    await asyncio.sleep(0.2)
    assert sorted(at_b) == [("a_alerts.fire", b"2"), ("from_a.events.x.y", b"1")]
    assert at_a == [("events.x.y", b"1")]


@POOLS
async def test_service_imports_answer_across_the_chain(cluster, connect, pool_size):
    first, _, third = await chain(cluster, pool_size)
    a = await as_user(connect, first, "a")

    async def respond(msg):
        await a.publish(msg.reply, b"noon:" + msg.subject.encode())
    await a.subscribe("svc.time", cb=respond)
    await flushed(a)

    b = await as_user(connect, third, "b")
    answer = None
    deadline = time.monotonic() + 10
    while answer is None:
        assert time.monotonic() < deadline, "the service import never answered"
        try:
            answer = await b.request("time", b"?", timeout=1)
        except Exception:  # no responders yet (the exporter's interest is still on its way): retry
            await asyncio.sleep(0.1)
    # The responder sees the exported subject; the requester gets the response on its own inbox.
    assert answer.data == b"noon:svc.time"
    for _ in range(5):
        assert (await b.request("time", b"?", timeout=2)).data == b"noon:svc.time"

    # Account C has no import: its `time` and `svc.time` reach nobody.
    c = await as_user(connect, third, "c")
    for subject in ("time", "svc.time"):
        with pytest.raises(Exception):
            await c.request(subject, b"?", timeout=0.5)
