"""Mixed clusters: natsd and nats-server in one mesh, both chain orders, nats-server with its
default route pool (3 routes + one pinned to $SYS) and with `pool_size: -1`, configured from
config files (`cluster { name, listen, routes, pool_size }`) on every node."""

import asyncio
from collections import Counter

import pytest

from cluster import eventually
from nats_helpers import flushed
from server_process import selected_impls

pytestmark = pytest.mark.skipif(
    set(selected_impls()) != {"natsd", "nats-server"}, reason="mixed clusters need both implementations"
)


@pytest.fixture(params=["mixed-ns-first", "mixed-natsd-first"])
def layout(request):
    return request.param


@pytest.mark.parametrize("pool_size", [None, -1], ids=["ns-default-pool", "pool-1"])
async def test_mixed_cluster_meshes_and_carries_messages_both_ways(cluster, connect, pool_size):
    kinds = cluster.kinds(4)
    nodes = []
    for impl in kinds:
        routes = [nodes[-1].route_url] if nodes else []
        nodes.append(cluster.start(cluster.node(impl, routes=routes, config_cluster=True, pool_size=pool_size)))
    await cluster.wait_mesh(nodes)

    # Pub/sub: every node subscribes, every node publishes; each subscriber gets everything once.
    received = {node.name: [] for node in nodes}
    for node in nodes:
        nc = await connect(node)

        async def handler(msg, store=received[node.name]):
            store.append(msg.data)

        await nc.subscribe("mixed.all", cb=handler)
        await flushed(nc)
    for origin in nodes:
        await cluster.wait_interest("mixed.all", origin, [n for n in nodes if n is not origin])
    publishers = [await connect(node) for node in nodes]
    expected = Counter()
    for index, nc in enumerate(publishers):
        for i in range(20):
            payload = f"{nodes[index].name}:{i}".encode()
            expected[payload] += 1
            await nc.publish("mixed.all", payload)
    await flushed(*publishers)
    await eventually(lambda: all(len(v) >= len(expected) for v in received.values()), 5, what="fan-out")
    await asyncio.sleep(0.2)
    for name, got in received.items():
        assert Counter(got) == expected, f"{name} got {len(got)} of {len(expected)} (or duplicates)"

    # Queue group: members only on one kind, publishers on the other; then the other way round.
    for member_kind in ("natsd", "nats-server"):
        members = [n for n in nodes if n.impl == member_kind]
        senders = [n for n in nodes if n.impl != member_kind]
        subject = f"mixed.q.{member_kind}"
        got: dict[str, list] = {n.name: [] for n in members}
        for node in members:
            nc = await connect(node)

            async def qhandler(msg, store=got[node.name]):
                store.append(msg.data)

            await nc.subscribe(subject, queue="workers", cb=qhandler)
            await flushed(nc)
            await cluster.wait_interest(subject, node, senders)
        wanted = Counter()
        for node in senders:
            nc = await connect(node)
            for i in range(100):
                payload = f"{node.name}:{i}".encode()
                wanted[payload] += 1
                await nc.publish(subject, payload)
            await flushed(nc)
        await eventually(lambda: sum(map(len, got.values())) >= len(wanted), 5, what=f"queue {subject}")
        await asyncio.sleep(0.3)
        assert Counter(m for v in got.values() for m in v) == wanted, f"{subject}: not exactly once"
        assert min(len(v) for v in got.values()) >= 10, {k: len(v) for k, v in got.items()}
