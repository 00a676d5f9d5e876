"""Route pools (nats-protocol.md §2.10): `pool_size` connections per peer, negotiated with nats-server's
INFO fields; the pinned `$SYS` route declined as by a server without a system account; a restart
restores every pool connection; each publisher's messages keep their order while natsd spreads
publishers over the pool; towards nats-server all `$G` traffic rides nats-server's `$G` slot."""

import asyncio
import json
from collections import Counter, defaultdict

import pytest

from cluster import POOL_IDS, POOL_SIZES, eventually, expect_delivery, pool_of
from monitor_http import monitor_json
from nats_helpers import flushed
from raw_client import RawClient
from server_process import selected_impls

GLOBAL_ACCOUNT_SLOT = 2  # FNV-1a("$G") % 3: where nats-server with pool 3 puts `$G`


def pool_slots(node, remote) -> Counter:
    """natsd's /routez `pool_idx` of each connection from `node` to `remote`."""
    return Counter(r.get("pool_idx") for r in node.route_list() if r["remote_id"] == remote.server_id)


@pytest.mark.parametrize("pool_size", POOL_SIZES, ids=POOL_IDS)
async def test_restart_restores_every_pool_connection(cluster, connect, pool_size):
    nodes = cluster.chain(3, pool_size=pool_size)
    await cluster.wait_mesh(nodes)
    middle = nodes[1]
    cluster.restart(middle)
    # wait_mesh counts every pool connection of every pair (cluster.routes_per_pair).
    await cluster.wait_mesh(nodes, timeout=10)
    # natsd shows each connection's slot: every slot of every pooled pair is back.
    for node in (n for n in nodes if n.impl == "natsd"):
        for other in (n for n in nodes if n is not node):
            pools = (pool_of(node), pool_of(other))
            want = Counter([None]) if None in pools else Counter(range(max(pools)))
            assert pool_slots(node, other) == want, f"{node.name}->{other.name}: {node.route_list()}"
    await expect_delivery(connect, nodes[0], middle, cluster, "restored.in")
    await expect_delivery(connect, middle, nodes[2], cluster, "restored.out")


def fake_route_connect(cluster_name: str = "C") -> bytes:
    connect = {"echo": True, "verbose": False, "pedantic": False, "tls_required": False, "headers": True,
               "name": "NFAKEPEER", "cluster": cluster_name}
    return b"CONNECT " + json.dumps(connect).encode() + b"\r\n"


def fake_route_info(**fields) -> bytes:
    info = {"server_id": "NFAKEPEER", "server_name": "fake", "version": "2.15.1", "proto": 3, "host": "127.0.0.1",
            "port": 1, "headers": True, "max_payload": 1048576, "cluster": "C"}
    info.update(fields)
    return b"INFO " + json.dumps(info).encode() + b"\r\n"


def start_cluster_member(start, pool_size):
    """A single server with a cluster port; `no_sys_acc` makes nats-server what natsd is (no system account)."""
    config = "no_sys_acc: true\n" + ("" if pool_size is None else f"cluster {{ pool_size: {pool_size} }}\n")
    return start("--cluster", "nats://127.0.0.1:-1", "--cluster_name", "C", config=config)


@pytest.mark.parametrize("pool_size", [None, -1], ids=["pool3", "nopool"])
async def test_pinned_system_account_route_is_declined_as_without_a_system_account(start, pool_size):
    # A pooled nats-server also dials a connection pinned to its system account (INFO `route_account`).
    # nats-server run without a system account refuses it, pooled or not; natsd has none either.
    member = start_cluster_member(start, pool_size)
    dialler = await RawClient.open(member.cluster_port)
    try:
        assert dialler.info.get("route_pool_size") == (None if pool_size == -1 else 3), dialler.info
        await dialler.send(fake_route_connect() + fake_route_info(route_pool_size=3, route_account="$SYS"))
        await dialler.expect_then_closed(b"-ERR 'Unable to lookup account \"$SYS\": account missing'\r\n")
    finally:
        await dialler.close()


async def test_slot_outside_the_pool_is_refused(start):
    member = start_cluster_member(start, None)
    dialler = await RawClient.open(member.cluster_port)
    try:
        await dialler.send(fake_route_connect() + fake_route_info(route_pool_size=3, route_pool_idx=7))
        await dialler.expect_then_closed(b"-ERR 'Invalid route pool index: 7 - pool size is 3'\r\n")
    finally:
        await dialler.close()


@pytest.mark.parametrize("pool_size, reported", [(None, 3), (0, 3), (1, 1), (5, 5), (-1, -1)])
async def test_varz_reports_the_pool_size(start, pool_size, reported):
    member = start("-m", "-1", "--cluster", "nats://127.0.0.1:-1", "--cluster_name", "C",
                   config="" if pool_size is None else f"cluster {{ pool_size: {pool_size} }}\n")
    varz = monitor_json(member.monitoring_port, "/varz", timeout=3)
    assert varz["cluster"]["pool_size"] == reported, varz["cluster"]


async def publish_sequences(connect, publisher_node, subject: str, publishers: int, count: int) -> Counter:
    """`publishers` connections each publish `count` numbered messages; returns what was sent."""
    sent = Counter()
    connections = [await connect(publisher_node) for _ in range(publishers)]
    for index, nc in enumerate(connections):
        for seq in range(count):
            await nc.publish(subject, f"{index}:{seq}".encode())
            sent[index] += 1
    await flushed(*connections)
    return sent


def assert_in_order_per_publisher(received: list[bytes], sent: Counter) -> None:
    sequences = defaultdict(list)
    for data in received:
        publisher, seq = data.decode().split(":")
        sequences[int(publisher)].append(int(seq))
    for publisher, count in sent.items():
        assert sequences[publisher] == list(range(count)), f"publisher {publisher}: {sequences[publisher][:20]}…"


@pytest.mark.parametrize("layout", ["natsd"])
async def test_natsd_spreads_publishers_over_the_pool_keeping_each_ones_order(cluster, connect):
    a, b = cluster.chain(2)
    await cluster.wait_mesh([a, b])
    assert pool_slots(a, b) == Counter({0: 1, 1: 1, 2: 1})
    received: list[bytes] = []

    async def handler(msg):
        received.append(msg.data)

    sub_nc = await connect(b)
    await sub_nc.subscribe("spread.x", cb=handler)
    async def responder(msg):
        await msg.respond(b"pong")

    await sub_nc.subscribe("spread.req", cb=responder)
    await flushed(sub_nc)
    await cluster.wait_interest("spread.x", b, [a])
    await cluster.wait_interest("spread.req", b, [a])
    before = {r["pool_idx"]: r["out_msgs"] for r in a.route_list()}
    sent = await publish_sequences(connect, a, "spread.x", publishers=6, count=100)
    await eventually(lambda: len(received) >= 600, 5, what="600 messages")
    await asyncio.sleep(0.2)
    assert len(received) == 600
    assert_in_order_per_publisher(received, sent)
    used = {r["pool_idx"]: r["out_msgs"] - before[r["pool_idx"]] for r in a.route_list()}
    assert sum(used.values()) == 600, used
    assert sum(1 for count in used.values() if count > 0) == 3, f"six publishers should use all three slots: {used}"
    # Requests: each requester's reply subscription reaches b on the requester's own slot, ahead of
    # the request itself.
    for _ in range(5):
        requester = await connect(a)
        reply = await requester.request("spread.req", b"ping", timeout=2)
        assert reply.data == b"pong"
        await requester.close()


async def test_overlapping_interest_from_several_clients_is_forwarded_once(cluster, connect):
    # Three clients on b subscribe to subjects that all match: towards a natsd peer their interest
    # travels on three different pool connections, yet it is one peer's: one copy per message.
    a, b = cluster.chain(2)
    await cluster.wait_mesh([a, b])
    received: dict[str, list[bytes]] = {}
    for subject in ("overlap.x", "overlap.*", "overlap.>"):
        nc = await connect(b)
        received[subject] = []

        async def handler(msg, store=received[subject]):
            store.append(msg.data)

        await nc.subscribe(subject, cb=handler)
        await flushed(nc)
        await cluster.wait_interest(subject, b, [a])
    before = a.out_msgs_to(b.server_id)
    sent = await publish_sequences(connect, a, "overlap.x", publishers=3, count=20)
    await eventually(lambda: all(len(got) >= 60 for got in received.values()), 5, what="60 messages per subscriber")
    await asyncio.sleep(0.2)  # a second copy would arrive here
    for subject, got in received.items():
        assert len(got) == 60, f"{subject}: {len(got)} messages"
        assert_in_order_per_publisher(got, sent)
    # nats-server's own $SYS traffic may add a message or two.
    assert a.out_msgs_to(b.server_id) - before < 65, "a message was forwarded more than once to one peer"


@pytest.mark.skipif(set(selected_impls()) != {"natsd", "nats-server"}, reason="needs both implementations")
@pytest.mark.parametrize("layout", ["mixed-natsd-first", "mixed-ns-first"])
async def test_global_account_rides_nats_servers_slot_both_ways(cluster, connect):
    first, second = cluster.chain(2)
    await cluster.wait_mesh([first, second])
    natsd, ns = (first, second) if first.impl == "natsd" else (second, first)
    received = {natsd.name: [], ns.name: []}
    for node in (natsd, ns):
        nc = await connect(node)

        async def handler(msg, store=received[node.name]):
            store.append(msg.data)

        await nc.subscribe(f"slot.{node.name}", cb=handler)
        await flushed(nc)
    await cluster.wait_interest(f"slot.{ns.name}", ns, [natsd])
    await cluster.wait_interest(f"slot.{natsd.name}", natsd, [ns])
    await publish_sequences(connect, natsd, f"slot.{ns.name}", publishers=4, count=10)
    await publish_sequences(connect, ns, f"slot.{natsd.name}", publishers=4, count=10)
    await eventually(lambda: all(len(got) >= 40 for got in received.values()), 5, what="40 messages each way")
    for node, remote in ((natsd, ns), (ns, natsd)):
        routes = [r for r in node.route_list() if r["remote_id"] == remote.server_id]
        carrying = [r["rid"] for r in routes if r["out_msgs"] > 0 or r["in_msgs"] > 0]
        interest = [r["rid"] for r in routes if r["subscriptions"] > 0]
        # One connection carries `$G` both ways, whatever the publisher; natsd never sees nats-server's
        # $SYS traffic, having declined the $SYS route.
        assert len(carrying) == 1 and interest == carrying, f"{node.name}: {routes}"
    slots = [r.get("pool_idx") for r in natsd.route_list() if r["in_msgs"] > 0]
    assert slots == [GLOBAL_ACCOUNT_SLOT], natsd.route_list()


MIXED_POOLS = [
    ("natsd", 3, "nats-server", 1),
    ("nats-server", 1, "natsd", 3),
    ("natsd", -1, "nats-server", 3),
    ("nats-server", 3, "natsd", -1),
    ("natsd", 5, "natsd", 2),
    ("natsd", 1, "natsd", -1),
]


@pytest.mark.parametrize("layout", ["natsd"])
@pytest.mark.parametrize("kind_a, pool_a, kind_b, pool_b", MIXED_POOLS,
                         ids=[f"{a}{pa}-{b}{pb}" for a, pa, b, pb in MIXED_POOLS])
async def test_peers_with_different_pool_sizes_use_the_larger_pool(cluster, connect, kind_a, pool_a, kind_b, pool_b):
    if not {kind_a, kind_b} <= set(selected_impls()):
        pytest.skip("needs both implementations")
    a = cluster.start(cluster.node(kind_a, pool_size=pool_a))
    b = cluster.start(cluster.node(kind_b, routes=[a.route_url], pool_size=pool_b))
    # wait_mesh expects the larger pool (one connection when either side has none).
    await cluster.wait_mesh([a, b])
    await expect_delivery(connect, a, b, cluster, "sizes.ab", count=10)
    await expect_delivery(connect, b, a, cluster, "sizes.ba", count=10)
