"""Interest across routes: queue groups exactly once cluster-wide, and RS+/RS- following
SUB, UNSUB, auto-unsubscribe and client close, also under concurrent churn."""

import asyncio
import random
import re
import time
from collections import Counter

import pytest

from cluster import POOL_IDS, POOL_SIZES, eventually
from nats_helpers import flushed
from raw_client import RawClient

MESSAGES_PER_NODE = 150


def collector(store: list):
    async def handler(msg):
        store.append(msg.data)
    return handler


@pytest.mark.parametrize("pool_size", POOL_SIZES, ids=POOL_IDS)
async def test_queue_group_exactly_once_across_three_nodes(cluster, connect, pool_size):
    nodes = cluster.chain(3, pool_size=pool_size)
    await cluster.wait_mesh(nodes)
    members: dict[str, list[bytes]] = {}
    plain: dict[str, list[bytes]] = {}
    for node in nodes:
        nc = await connect(node)
        for index in range(2):
            members[f"{node.name}.q{index}"] = []
            await nc.subscribe("work.item", queue="workers", cb=collector(members[f"{node.name}.q{index}"]))
        plain[node.name] = []
        await nc.subscribe("work.item", cb=collector(plain[node.name]))
        await flushed(nc)
    for origin in nodes:
        await cluster.wait_interest("work.item", origin, [n for n in nodes if n is not origin])

    publishers = [await connect(node) for node in nodes]
    expected = Counter()
    for index, nc in enumerate(publishers):
        for i in range(MESSAGES_PER_NODE):
            payload = f"{index}:{i}".encode()
            expected[payload] += 1
            await nc.publish("work.item", payload)
    await flushed(*publishers)
    total = len(expected)
    await eventually(lambda: sum(map(len, members.values())) >= total
                     and all(len(v) >= total for v in plain.values()), 5, what="all deliveries")
    await asyncio.sleep(0.3)  # duplicates would surface here
    assert Counter(m for v in members.values() for m in v) == expected, "queue group: each message exactly once"
    for name, got in plain.items():
        assert Counter(got) == expected, f"plain subscriber on {name} must get every message once"
    assert min(len(v) for v in members.values()) >= total // 20, {k: len(v) for k, v in members.items()}


async def test_queue_group_with_only_remote_members_spreads_over_nodes(cluster, connect):
    nodes = cluster.chain(3)
    await cluster.wait_mesh(nodes)
    received = {node.name: [] for node in nodes[1:]}
    for node in nodes[1:]:
        nc = await connect(node)
        await nc.subscribe("remote.work", queue="g", cb=collector(received[node.name]))
        await flushed(nc)
        await cluster.wait_interest("remote.work", node, [nodes[0]])
    publisher = await connect(nodes[0])
    for i in range(300):
        await publisher.publish("remote.work", str(i).encode())
    await flushed(publisher)
    await eventually(lambda: sum(map(len, received.values())) >= 300, 5, what="300 deliveries")
    await asyncio.sleep(0.3)
    assert Counter(m for v in received.values() for m in v) == Counter(str(i).encode() for i in range(300))
    assert min(len(v) for v in received.values()) >= 30, {k: len(v) for k, v in received.items()}


@pytest.mark.parametrize("pool_size", POOL_SIZES, ids=POOL_IDS)
async def test_unsubscribe_and_auto_unsubscribe_propagate(cluster, connect, pool_size):
    n1, n2, n3 = cluster.chain(3, pool_size=pool_size)
    await cluster.wait_mesh([n1, n2, n3])
    subscriber = await RawClient.connected(n3.port)
    publisher = await connect(n1)
    try:
        await subscriber.send(b"SUB unsub.x 1\r\n")
        await subscriber.expect_open()
        await cluster.wait_interest("unsub.x", n3, [n1, n2])
        for i in range(3):
            await publisher.publish("unsub.x", b"%d" % i)
        await flushed(publisher)
        await subscriber.expect(b"MSG unsub.x 1 1\r\n0\r\nMSG unsub.x 1 1\r\n1\r\nMSG unsub.x 1 1\r\n2\r\n")

        await subscriber.send(b"UNSUB 1\r\n")
        await subscriber.expect_open()
        await cluster.wait_interest("unsub.x", n3, [n1, n2], present=False)
        before = n1.out_msgs_to(n3.server_id)
        for i in range(50):
            await publisher.publish("unsub.x", b"late")
        await flushed(publisher)
        await subscriber.expect_nothing(0.3)
        # nats-server's own $SYS traffic may add a message or two; 50 would mean unsub.x still flows.
        assert n1.out_msgs_to(n3.server_id) - before < 5, "n1 still forwards unsub.x to n3 without interest"

        # Auto-unsubscribe after 3: exactly 3 arrive across the cluster, then the interest goes.
        await subscriber.send(b"SUB auto.x 2\r\nUNSUB 2 3\r\n")
        await subscriber.expect_open()
        await cluster.wait_interest("auto.x", n3, [n1, n2])
        for i in range(10):
            await publisher.publish("auto.x", b"%d" % i)
        await flushed(publisher)
        await subscriber.expect(b"MSG auto.x 2 1\r\n0\r\nMSG auto.x 2 1\r\n1\r\nMSG auto.x 2 1\r\n2\r\n")
        await subscriber.expect_nothing(0.3)
        await cluster.wait_interest("auto.x", n3, [n1, n2], present=False)
    finally:
        await subscriber.close()


async def test_client_close_removes_remote_interest(cluster, connect):
    n1, n2, n3 = cluster.chain(3)
    await cluster.wait_mesh([n1, n2, n3])
    baseline = {node.name: sum(node.remote_interest(n3.server_id).values()) for node in (n1, n2)}
    nc = await connect(n3)
    subjects = [f"closing.{i}" for i in range(5)]
    for subject in subjects:
        await nc.subscribe(subject, cb=collector([]))
    await nc.subscribe("closing.q", queue="grp", cb=collector([]))
    await flushed(nc)
    for subject in subjects + ["closing.q"]:
        await cluster.wait_interest(subject, n3, [n1, n2])
    await nc.close()
    for subject in subjects + ["closing.q"]:
        await cluster.wait_interest(subject, n3, [n1, n2], present=False)
    assert {node.name: sum(node.remote_interest(n3.server_id).values()) for node in (n1, n2)} == baseline


async def test_concurrent_sub_unsub_churn_leaves_exact_interest(cluster, connect):
    nodes = cluster.chain(3)
    await cluster.wait_mesh(nodes)
    subjects = [f"churn.{i}" for i in range(8)]
    rng = random.Random(20261121)
    clients: list[tuple] = []  # (node, raw client, {sid: subject} currently subscribed)
    for node in nodes:
        for _ in range(4):
            clients.append((node, await RawClient.connected(node.port), {}))
    try:
        async def churn(raw: RawClient, subscribed: dict, seed: int):
            local = random.Random(seed)
            next_sid = 1
            for _ in range(40):
                batch = bytearray()
                for _ in range(local.randint(1, 5)):
                    if subscribed and local.random() < 0.45:
                        sid = local.choice(sorted(subscribed))
                        del subscribed[sid]
                        batch += b"UNSUB %d\r\n" % sid
                    else:
                        subject = local.choice(subjects)
                        subscribed[next_sid] = subject
                        batch += b"SUB %s %d\r\n" % (subject.encode(), next_sid)
                        next_sid += 1
                await raw.send(bytes(batch))
                await asyncio.sleep(local.random() * 0.01)
            await raw.expect_open()

        await asyncio.gather(*(churn(raw, subs, rng.randrange(1 << 30)) for _, raw, subs in clients))

        def interest_differences() -> list[str]:
            """Each (origin, node) pair whose route interest differs from the origin's clients' subscriptions."""
            differences = []
            for origin in nodes:
                wanted = {s for node, _, subs in clients if node is origin for s in subs.values()}
                for node in nodes:
                    if node is origin:
                        continue
                    have = {s for s, n in node.remote_interest(origin.server_id).items() if n > 0 and s in subjects}
                    if have != wanted:
                        differences.append(f"{node.name} hears from {origin.name}: missing {sorted(wanted - have)}, "
                                           f"stale {sorted(have - wanted)}")
            return differences

        await eventually(lambda: not interest_differences(), 5,
                         what=lambda: f"exact route interest after churn ({interest_differences()})")
        publishers = [await connect(node) for node in nodes]
        for subject in subjects:
            for nc in publishers:
                await nc.publish(subject, subject.encode())
        await flushed(*publishers)
        frame = re.compile(rb"MSG ([^ ]+) (\d+) \d+\r\n")
        for node, raw, subs in clients:
            want = Counter({(subject, sid): len(nodes) for sid, subject in subs.items()})
            # Read until every expected message is in (bounded: they cross routes), then a little
            # longer for duplicates.
            data = b""
            deadline = time.monotonic() + 5
            while len(frame.findall(data)) < sum(want.values()) and time.monotonic() < deadline:
                data += await raw.read_for(0.05)
            data += await raw.read_for(0.2)
            got = Counter((m.group(1).decode(), int(m.group(2))) for m in frame.finditer(data))
            assert got == want, f"client on {node.name}: got {dict(got)}, want {dict(want)}"
    finally:
        for _, raw, _ in clients:
            await raw.close()
