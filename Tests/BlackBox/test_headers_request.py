"""Request/reply, message headers and no-responders."""

import asyncio

import nats.errors
import pytest

from nats_helpers import flushed

HEADER_BLOCK = b"NATS/1.0\r\nA: 1\r\nB: 2\r\n\r\n"


async def test_request_reply_with_nats_py(client):
    responder = await client()
    requester = await client()

    async def answer(msg):
        await responder.publish(msg.reply, b"re:" + msg.data)

    await responder.subscribe("svc.echo", cb=answer)
    await flushed(responder)
    for i in range(20):
        reply = await requester.request("svc.echo", str(i).encode(), timeout=2)
        assert reply.data == b"re:" + str(i).encode()


async def test_request_reply_with_queue_responders(client):
    responder = await client()
    requester = await client()

    async def answer(msg):
        await responder.publish(msg.reply, msg.data.upper())

    for _ in range(3):
        await responder.subscribe("svc.upper", queue="svc", cb=answer)
    await flushed(responder)
    replies = await asyncio.gather(*(requester.request("svc.upper", b"abc", timeout=2) for _ in range(10)))
    assert [r.data for r in replies] == [b"ABC"] * 10


async def test_hpub_delivered_as_hmsg_byte_exact(raw):
    client = await raw(connect={"headers": True})
    await client.send(b"SUB h 1\r\nHPUB h 24 29\r\n" + HEADER_BLOCK + b"hello\r\n")
    await client.expect(b"HMSG h 1 24 29\r\n" + HEADER_BLOCK + b"hello\r\n")


async def test_hpub_with_reply_subject(raw):
    client = await raw(connect={"headers": True})
    await client.send(b"SUB h 1\r\nHPUB h inbox.1 24 29\r\n" + HEADER_BLOCK + b"hello\r\n")
    await client.expect(b"HMSG h 1 inbox.1 24 29\r\n" + HEADER_BLOCK + b"hello\r\n")


async def test_header_message_to_client_without_headers_is_stripped(raw):
    plain = await raw(connect={})
    publisher = await raw(connect={"headers": True})
    await plain.send(b"SUB h 3\r\n")
    await plain.expect_open()
    await publisher.send(b"HPUB h 24 29\r\n" + HEADER_BLOCK + b"hello\r\n")
    await publisher.expect_open()
    await plain.expect(b"MSG h 3 5\r\nhello\r\n")


async def test_hpub_with_empty_header_block_is_plain_msg(raw):
    client = await raw(connect={"headers": True})
    await client.send(b"SUB s 1\r\nHPUB s 0 2\r\nhi\r\n")
    await client.expect(b"MSG s 1 2\r\nhi\r\n")


async def test_headers_with_nats_py(client):
    nc = await client()
    got = asyncio.get_running_loop().create_future()

    async def handler(msg):
        if not got.done():
            got.set_result(msg)

    await nc.subscribe("hdr", cb=handler)
    await flushed(nc)
    await nc.publish("hdr", b"body", headers={"X-Trace": "abc", "Other": "1"})
    msg = await asyncio.wait_for(got, 2)
    assert msg.data == b"body"
    assert msg.headers == {"X-Trace": "abc", "Other": "1"}


async def test_no_responders_raises_in_nats_py(client):
    nc = await client()
    with pytest.raises(nats.errors.NoRespondersError):
        await nc.request("nobody.home", b"?", timeout=2)


async def test_no_responders_status_frame_byte_exact(raw):
    client = await raw(connect={"headers": True, "no_responders": True})
    await client.send(b"SUB _INBOX.x 1\r\nPUB req _INBOX.x 0\r\n\r\n")
    await client.expect(b"HMSG _INBOX.x 1 35 35\r\nNATS/1.0 503\r\nNats-Subject: req\r\n\r\n\r\n")


async def test_no_responders_not_sent_when_someone_listens(raw):
    client = await raw(connect={"headers": True, "no_responders": True})
    await client.send(b"SUB _INBOX.x 1\r\nSUB req 2\r\nPUB req _INBOX.x 1\r\nq\r\n")
    messages = await client.read_messages_until_pong()
    assert [(m.subject, m.sid, m.reply, m.payload) for m in messages] == [("req", "2", "_INBOX.x", b"q")]


async def test_no_responders_requires_headers(raw):
    client = await raw()
    await client.send(b'CONNECT {"verbose":false,"no_responders":true}\r\n')
    await client.expect_then_closed(b"-ERR 'no responders requires headers support'\r\n")


async def test_no_responders_not_sent_to_a_queue_reply_subscription(raw):
    # Only a plain subscription of the requester on the reply subject gets the status, as from
    # nats-server (issue 6 point 7).
    client = await raw(connect={"headers": True, "no_responders": True})
    await client.send(b"SUB _INBOX.q grp 1\r\nSUB _INBOX.* grp2 2\r\nPUB req _INBOX.q 0\r\n\r\n")
    assert await client.read_messages_until_pong() == []
    await client.send(b"SUB _INBOX.q 3\r\nPUB req _INBOX.q 0\r\n\r\n")
    await client.expect(b"HMSG _INBOX.q 3 35 35\r\nNATS/1.0 503\r\nNats-Subject: req\r\n\r\n\r\n")
    await client.expect_open()
