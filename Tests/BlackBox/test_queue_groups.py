"""Queue groups: one member per group per message, plain subscribers get everything."""

import asyncio
from collections import Counter

from nats_helpers import flushed

MESSAGES = 300


async def test_queue_group_delivers_each_message_to_exactly_one_member(client):
    subscriber = await client()
    publisher = await client()
    received: dict[str, list[bytes]] = {}

    def collector(name: str):
        received[name] = []

        async def handler(msg):
            received[name].append(msg.data)

        return handler

    for member in ("g1", "g2", "g3"):
        await subscriber.subscribe("work", queue="g", cb=collector(member))
    for member in ("h1", "h2"):
        await subscriber.subscribe("work", queue="h", cb=collector(member))
    await subscriber.subscribe("work", cb=collector("plain"))
    await subscriber.subscribe("work", cb=collector("plain2"))
    await flushed(subscriber)

    for i in range(MESSAGES):
        await publisher.publish("work", str(i).encode())
    await flushed(publisher)

    expected = Counter(str(i).encode() for i in range(MESSAGES))
    for _ in range(100):
        if sum(len(v) for v in received.values()) >= 4 * MESSAGES:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)  # let any duplicate surface

    group_g = Counter(received["g1"] + received["g2"] + received["g3"])
    group_h = Counter(received["h1"] + received["h2"])
    assert group_g == expected, "group g must get every message exactly once"
    assert group_h == expected, "group h must get every message exactly once"
    assert Counter(received["plain"]) == expected
    assert Counter(received["plain2"]) == expected
    for member in ("g1", "g2", "g3"):
        assert len(received[member]) >= 50, {k: len(v) for k, v in received.items()}
    for member in ("h1", "h2"):
        assert len(received[member]) >= 80, {k: len(v) for k, v in received.items()}


async def test_queue_members_on_separate_connections(client):
    members = [await client() for _ in range(3)]
    counts = [0, 0, 0]

    def handler_for(index: int):
        async def handler(msg):
            counts[index] += 1
        return handler

    for index, nc in enumerate(members):
        await nc.subscribe("jobs.*", queue="workers", cb=handler_for(index))
        await flushed(nc)
    publisher = await client()
    for i in range(MESSAGES):
        await publisher.publish(f"jobs.{i % 3}", b"x")
    await flushed(publisher)
    for _ in range(100):
        if sum(counts) >= MESSAGES:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    assert sum(counts) == MESSAGES
    assert min(counts) >= 50, counts


async def test_queue_name_is_not_in_msg(raw):
    client = await raw(connect={})
    await client.send(b"SUB q.* grp 7\r\nPUB q.a rep.1 3\r\nabc\r\n")
    await client.expect(b"MSG q.a 7 rep.1 3\r\nabc\r\n")


async def test_unsubscribed_queue_member_gets_nothing(raw):
    client = await raw(connect={})
    await client.send(b"SUB q grp 1\r\nSUB q grp 2\r\nUNSUB 1\r\n")
    await client.send(b"".join(b"PUB q 1\r\n%d\r\n" % (i % 10) for i in range(20)))
    messages = await client.read_messages_until_pong()
    assert len(messages) == 20 and {m.sid for m in messages} == {"2"}
