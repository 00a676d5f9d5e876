"""Routes spread over loops (issue 7 point 5): natsd runs with `--loops 4`, so its pool connections are
served by different loops, its clients sit on different loops, and a client's messages leave on the pool
connection of its own loop when there is one (else they are handed to the loop serving its slot). What
must hold across a route, for every layout and pool size (pool 8: more connections than loops; the
no-pool dialect: one connection on one loop): each publisher's order, no loss, and a client's
subscription reaching the peer before the request that relies on it (request/reply with a fresh inbox
per request). nats-server nodes run as they are."""

import asyncio

import pytest

from cluster import eventually
from nats_helpers import flushed
from test_cluster_pools import assert_in_order_per_publisher, publish_sequences

LOOPS = ["--loops", "4"]
POOLS = (None, 8, -1)
POOL_IDS = ("pool3", "pool8", "nopool")


def two_nodes(cluster, pool_size):
    first, second = cluster.kinds(2)
    a = cluster.node(first, pool_size=pool_size, extra_args=LOOPS if first == "natsd" else [])
    cluster.start(a)
    b = cluster.node(second, pool_size=pool_size, routes=[a.route_url], extra_args=LOOPS if second == "natsd" else [])
    cluster.start(b)
    return a, b


@pytest.mark.parametrize("pool_size", POOLS, ids=POOL_IDS)
async def test_each_publishers_order_holds_across_routes_on_many_loops(cluster, connect, pool_size):
    a, b = two_nodes(cluster, pool_size)
    await cluster.wait_mesh([a, b])
    subscribers = [await connect(node) for node in (b, b, a)]
    received: list[list[bytes]] = [[] for _ in subscribers]

    def handler_for(index):
        async def handler(msg):
            received[index].append(msg.data)
        return handler

    for index, nc in enumerate(subscribers):
        await nc.subscribe("loops.order", cb=handler_for(index))
    await flushed(*subscribers)
    await cluster.wait_interest("loops.order", b, [a])
    await cluster.wait_interest("loops.order", a, [b])
    # Eight publishers on each node land on every loop; each one's messages cross the route in order.
    sent_a = await publish_sequences(connect, a, "loops.order", publishers=8, count=200)
    total = sum(sent_a.values())
    await eventually(lambda: all(len(r) >= total for r in received), 10, what=f"{total} messages at every subscriber")
    await asyncio.sleep(0.2)
    for messages in received:
        assert len(messages) == total
        assert_in_order_per_publisher(messages, sent_a)


@pytest.mark.parametrize("pool_size", POOLS, ids=POOL_IDS)
async def test_a_fresh_reply_subscription_reaches_the_peer_before_its_request(cluster, connect, pool_size):
    a, b = two_nodes(cluster, pool_size)
    await cluster.wait_mesh([a, b])
    responder = await connect(b)

    async def respond(msg):
        await msg.respond(msg.data)

    await responder.subscribe("loops.service", cb=respond)
    await flushed(responder)
    await cluster.wait_interest("loops.service", b, [a])
    requesters = [await connect(a) for _ in range(8)]

    async def ask(nc, number):
        # old_style: a new inbox subscription (SUB, UNSUB 1) right before each request's PUB.
        for sequence in range(25):
            payload = f"{number}:{sequence}".encode()
            reply = await nc.request("loops.service", payload, timeout=5, old_style=True)
            assert reply.data == payload

    await asyncio.gather(*(ask(nc, number) for number, nc in enumerate(requesters)))
