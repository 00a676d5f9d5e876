"""Publish/subscribe: delivery, reply subjects, empty payloads, wildcards, UNSUB, echo."""

import asyncio

import pytest

from nats_helpers import flushed


async def test_msg_carries_reply_subject(raw):
    client = await raw(connect={})
    await client.send(b"SUB foo 1\r\nPUB foo bar.baz 5\r\nhello\r\n")
    await client.expect(b"MSG foo 1 bar.baz 5\r\nhello\r\n")


async def test_zero_byte_payload(raw):
    client = await raw(connect={})
    await client.send(b"SUB empty 7\r\nPUB empty 0\r\n\r\n")
    await client.expect(b"MSG empty 7 0\r\n\r\n")


async def test_payload_with_crlf_inside_is_opaque(raw):
    client = await raw(connect={})
    await client.send(b"SUB foo 1\r\nPUB foo 11\r\nPING\r\nPUB x\r\n")
    await client.expect(b"MSG foo 1 11\r\nPING\r\nPUB x\r\n")
    await client.expect_open()


async def test_publisher_and_subscriber_on_different_connections(raw):
    subscriber = await raw(connect={})
    publisher = await raw(connect={})
    await subscriber.send(b"SUB news 42\r\n")
    await subscriber.expect_open()
    await publisher.send(b"PUB news 4\r\ndata\r\n")
    await publisher.expect_open()
    await subscriber.expect(b"MSG news 42 4\r\ndata\r\n")


@pytest.mark.parametrize(
    "subject, expected_sids",
    [
        ("foo", {"lit-foo", "gt"}),
        ("foo.bar", {"lit-foo.bar", "star", "foo-gt", "gt", "star-bar"}),
        ("foo.baz", {"star", "foo-gt", "gt"}),
        ("foo.bar.baz", {"foo-gt", "gt"}),
        ("foo*", {"lit-foo*", "gt"}),
        ("x.bar", {"star-bar", "gt"}),
        ("bar", {"gt"}),
    ],
)
async def test_wildcard_matching(raw, subject, expected_sids):
    client = await raw(connect={})
    subscriptions = {
        "lit-foo": "foo", "lit-foo.bar": "foo.bar", "star": "foo.*", "foo-gt": "foo.>",
        "gt": ">", "star-bar": "*.bar", "lit-foo*": "foo*",
    }
    await client.send(b"".join(f"SUB {subj} {sid}\r\n".encode() for sid, subj in subscriptions.items()))
    await client.send(f"PUB {subject} 2\r\nok\r\n".encode())
    messages = await client.read_messages_until_pong()
    assert sorted(m.sid for m in messages) == sorted(expected_sids)
    assert all(m.subject == subject and m.payload == b"ok" for m in messages)


async def test_non_pedantic_publish_to_wildcard_subject_is_routed_literally(raw):
    client = await raw(connect={})
    await client.send(b"SUB foo.* 1\r\nSUB > 2\r\nSUB foo.bar 3\r\nSUB foo.> 4\r\n")
    await client.send(b"PUB foo.* 2\r\nhi\r\n")
    messages = await client.read_messages_until_pong()
    assert sorted(m.sid for m in messages) == ["1", "2", "4"]
    assert {m.subject for m in messages} == {"foo.*"}


async def test_unsubscribe_stops_delivery(raw):
    client = await raw(connect={})
    await client.send(b"SUB foo 1\r\nPUB foo 1\r\na\r\nUNSUB 1\r\nPUB foo 1\r\nb\r\n")
    messages = await client.read_messages_until_pong()
    assert [m.payload for m in messages] == [b"a"]


async def test_auto_unsubscribe_after_max_messages(raw):
    client = await raw(connect={})
    await client.send(b"SUB foo 5\r\nUNSUB 5 2\r\n")
    await client.send(b"PUB foo 1\r\n1\r\nPUB foo 1\r\n2\r\nPUB foo 1\r\n3\r\n")
    await client.expect(b"MSG foo 5 1\r\n1\r\nMSG foo 5 1\r\n2\r\n")
    await client.expect_open()
    await client.expect_nothing(0.2)


async def test_auto_unsubscribe_below_delivered_count_removes_now(raw):
    client = await raw(connect={})
    await client.send(b"SUB foo 5\r\nPUB foo 1\r\n1\r\nPUB foo 1\r\n2\r\nUNSUB 5 1\r\nPUB foo 1\r\n3\r\n")
    messages = await client.read_messages_until_pong()
    assert [m.payload for m in messages] == [b"1", b"2"]


async def test_unsubscribe_unknown_sid_is_silent(raw):
    client = await raw(connect={})
    await client.send(b"UNSUB 99\r\nUNSUB nope 3\r\n")
    await client.expect_open()
    verbose = await raw()
    await verbose.send(b'CONNECT {"verbose":true}\r\nUNSUB 99\r\nPING\r\n')
    await verbose.expect(b"+OK\r\n+OK\r\nPONG\r\n")


async def test_no_echo_suppresses_own_messages_only(raw):
    quiet = await raw(connect={"echo": False})
    other = await raw(connect={})
    await quiet.send(b"SUB foo 1\r\n")
    await other.send(b"SUB foo 2\r\n")
    await quiet.expect_open()
    await other.expect_open()
    await quiet.send(b"PUB foo 4\r\nself\r\n")
    await quiet.expect_open()
    assert [m.payload for m in await other.read_messages_until_pong()] == [b"self"]
    assert await quiet.read_messages_until_pong() == []
    await other.send(b"PUB foo 5\r\nother\r\n")
    assert [m.payload for m in await other.read_messages_until_pong()] == [b"other"]
    assert [m.payload for m in await quiet.read_messages_until_pong()] == [b"other"]


async def test_nats_py_no_echo(client):
    nc = await client(no_echo=True)
    peer = await client()
    mine, theirs = [], []

    async def on_mine(msg):
        mine.append(msg.data)

    async def on_theirs(msg):
        theirs.append(msg.data)

    await nc.subscribe("e", cb=on_mine)
    await peer.subscribe("e", cb=on_theirs)
    await flushed(nc)
    await flushed(peer)
    await nc.publish("e", b"1")
    await flushed(nc)
    await flushed(peer)
    await asyncio.sleep(0.1)
    assert mine == [] and theirs == [b"1"]


async def test_nats_py_pubsub_many_messages_in_order(client):
    nc = await client()
    received: list[bytes] = []
    done = asyncio.Event()

    async def handler(msg):
        received.append(msg.data)
        if len(received) == 1000:
            done.set()

    await nc.subscribe("seq.>", cb=handler)
    await flushed(nc)
    publisher = await client()
    for i in range(1000):
        await publisher.publish(f"seq.{i % 7}", str(i).encode())
    await flushed(publisher)
    await asyncio.wait_for(done.wait(), 10)
    assert received == [str(i).encode() for i in range(1000)]


async def test_large_payload_up_to_max_payload(raw):
    client = await raw(connect={})
    payload = bytes(range(256)) * 4096  # 1 MiB exactly
    await client.send(b"SUB big 1\r\nPUB big %d\r\n" % len(payload) + payload + b"\r\n")
    messages = await client.read_messages_until_pong(timeout=10)
    assert len(messages) == 1 and messages[0].payload == payload
