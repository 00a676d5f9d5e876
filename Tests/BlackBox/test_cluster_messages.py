"""Messages across routes: headers, request/reply, no-responders; cluster membership in async INFO."""

import asyncio
import json

import nats.errors
import pytest

from cluster import eventually
from nats_helpers import flushed
from raw_client import RawClient

HEADER_BLOCK = b"NATS/1.0\r\nA: 1\r\nB: 2\r\n\r\n"


async def test_headers_cross_the_cluster(cluster):
    n1, n2, n3 = cluster.chain(3)
    await cluster.wait_mesh([n1, n2, n3])
    subscriber = await RawClient.connected(n3.port, {"headers": True})
    publisher = await RawClient.connected(n1.port, {"headers": True})
    try:
        await subscriber.send(b"SUB hdr.x 9\r\n")
        await subscriber.expect_open()
        await cluster.wait_interest("hdr.x", n3, [n1])
        total = len(HEADER_BLOCK) + 5
        await publisher.send(b"HPUB hdr.x reply.to %d %d\r\n%shello\r\n" % (len(HEADER_BLOCK), total, HEADER_BLOCK))
        await publisher.send(b"PUB hdr.x 5\r\nplain\r\n")
        await publisher.expect_open()
        await subscriber.expect(b"HMSG hdr.x 9 reply.to %d %d\r\n%shello\r\n" % (len(HEADER_BLOCK), total, HEADER_BLOCK))
        await subscriber.expect(b"MSG hdr.x 9 5\r\nplain\r\n")
    finally:
        await subscriber.close()
        await publisher.close()


async def test_request_reply_across_the_cluster(cluster, connect):
    n1, n2, n3 = cluster.chain(3)
    await cluster.wait_mesh([n1, n2, n3])
    responder = await connect(n3)

    async def answer(msg):
        await responder.publish(msg.reply, b"re:" + msg.data, headers={"Echo": msg.headers.get("Echo", "")}
                                if msg.headers else None)

    await responder.subscribe("svc.echo", queue="svc", cb=answer)
    await flushed(responder)
    await cluster.wait_interest("svc.echo", n3, [n1, n2])
    for node in (n1, n2):
        requester = await connect(node)
        for i in range(10):
            reply = await requester.request("svc.echo", str(i).encode(), timeout=2, headers={"Echo": f"h{i}"})
            assert reply.data == b"re:" + str(i).encode()
            assert reply.headers == {"Echo": f"h{i}"}


async def test_no_responders_across_the_cluster(cluster, connect):
    n1, n2, n3 = cluster.chain(3)
    await cluster.wait_mesh([n1, n2, n3])
    requester = await connect(n1)
    with pytest.raises(nats.errors.NoRespondersError):
        await requester.request("svc.none", b"x", timeout=2)
    # A responder on n3 answers; once it leaves, n1 answers no-responders again.
    responder = await connect(n3)

    async def answer(msg):
        await responder.publish(msg.reply, b"ok")

    await responder.subscribe("svc.gone", cb=answer)
    await flushed(responder)
    await cluster.wait_interest("svc.gone", n3, [n1])
    assert (await requester.request("svc.gone", b"x", timeout=2)).data == b"ok"
    await responder.close()
    await cluster.wait_interest("svc.gone", n3, [n1], present=False)
    with pytest.raises(nats.errors.NoRespondersError):
        await requester.request("svc.gone", b"x", timeout=2)


async def test_no_responders_ignores_a_queue_reply_subscription_across_the_cluster(cluster):
    # The request subject has interest nowhere in the cluster (a responder on n3 came and went);
    # the requester on n1 gets the status only on its plain reply subscription (issue 6 point 7).
    n1, n2, n3 = cluster.chain(3)
    await cluster.wait_mesh([n1, n2, n3])
    responder = await RawClient.connected(n3.port)
    requester = await RawClient.connected(n1.port, {"headers": True, "no_responders": True})
    try:
        await responder.send(b"SUB svc.left 1\r\n")
        await responder.expect_open()
        await cluster.wait_interest("svc.left", n3, [n1])
        await responder.close()
        await cluster.wait_interest("svc.left", n3, [n1], present=False)
        await requester.send(b"SUB _INBOX.q grp 1\r\nSUB _INBOX.p 2\r\n"
                             b"PUB svc.left _INBOX.q 0\r\n\r\nPUB svc.left _INBOX.p 0\r\n\r\n")
        messages = await requester.read_messages_until_pong()
        assert [(m.subject, m.sid, m.headers) for m in messages] == [
            ("_INBOX.p", "2", b"NATS/1.0 503\r\nNats-Subject: svc.left\r\n\r\n")]
    finally:
        await requester.close()
        await responder.close()


async def read_infos_until(raw: RawClient, predicate, timeout: float = 8.0) -> dict:
    """Reads async INFO lines (answering PINGs) until one satisfies `predicate`; returns it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = []
    while True:
        remaining = deadline - loop.time()
        assert remaining > 0, f"no INFO matched within {timeout}s; saw {seen}"
        try:
            line = await raw.read_until(b"\r\n", remaining)
        except AssertionError as error:
            raise AssertionError(f"no INFO matched within {timeout}s; saw {seen}") from error
        if line == b"PING\r\n":
            await raw.send(b"PONG\r\n")
            continue
        assert line.startswith(b"INFO "), f"unexpected {line!r}"
        info = json.loads(line[5:])
        seen.append(info.get("connect_urls"))
        if predicate(info):
            return info


async def test_async_info_announces_joining_and_leaving_members(cluster):
    kinds = cluster.kinds(3)
    n1 = cluster.start(cluster.node(kinds[0]))
    n2 = cluster.start(cluster.node(kinds[1], routes=[n1.route_url]))
    await cluster.wait_mesh([n1, n2])
    raw = await RawClient.open(n1.port)
    try:
        assert set(raw.info.get("connect_urls") or []) == {n1.client_address, n2.client_address}
        await raw.send(b'CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\nPING\r\n')
        await raw.expect(b"PONG\r\n")
        n3 = cluster.start(cluster.node(kinds[2], routes=[n2.route_url]))
        await read_infos_until(raw, lambda info: n3.client_address in (info.get("connect_urls") or []))
        await cluster.wait_mesh([n1, n2, n3])
        n3.kill()
        info = await read_infos_until(raw, lambda info: n3.client_address not in (info.get("connect_urls") or []))
        assert set(info["connect_urls"]) == {n1.client_address, n2.client_address}
    finally:
        await raw.close()


async def test_protocol_zero_client_gets_no_async_info(cluster):
    kinds = cluster.kinds(2)
    n1 = cluster.start(cluster.node(kinds[0]))
    raw = await RawClient.connected(n1.port, {"protocol": 0})
    try:
        n2 = cluster.start(cluster.node(kinds[1], routes=[n1.route_url]))
        await cluster.wait_mesh([n1, n2])
        await raw.expect_nothing(0.5)
        await raw.expect_open()
    finally:
        await raw.close()
