"""Route permissions (issue 8, point 3): `cluster { permissions { import, export } }` filter which interest
and messages cross a route, as nats-server does (route.go `canImport`, `canExport`; client.go `deliverMsg`):
- import: local interest outside it is never announced (RS+), so the peer never forwards those messages;
- export: a peer's RS+ outside it is ignored, so no message goes out for it; a peer's wildcard interest
  that export-denied subjects match is accepted, and messages on the denied subjects are not sent.
Only one node of each pair carries the permissions: the one accepting the route or the one soliciting it."""

import asyncio

import pytest

from cluster import eventually
from nats_helpers import flushed
from test_config import run_to_exit

PERMISSIONS = 'import: {deny: "noimp.>"}, export: {allow: [">"], deny: ["noexp.>", "mixed.secret"]}'


def collector(store: list):
    async def handler(msg):
        store.append((msg.subject, msg.data))
    return handler


async def two_nodes(cluster, pool_size, side):
    """`guarded` (with the permissions) and `peer`; `side` says which one solicits the route."""
    kinds = cluster.kinds(2)
    first = cluster.start(cluster.node(kinds[0], config_cluster=True, pool_size=pool_size,
                                       cluster_permissions=PERMISSIONS if side == "accepting" else None))
    second = cluster.start(cluster.node(kinds[1], routes=[first.route_url], config_cluster=True, pool_size=pool_size,
                                        cluster_permissions=PERMISSIONS if side == "soliciting" else None))
    await cluster.wait_mesh([first, second])
    return (first, second) if side == "accepting" else (second, first)


@pytest.mark.parametrize("side", ["accepting", "soliciting"])
@pytest.mark.parametrize("pool_size", [None, -1], ids=["pooled", "nopool"])
async def test_route_permissions_filter_interest_and_messages(cluster, connect, pool_size, side):
    guarded, peer = await two_nodes(cluster, pool_size, side)

    # Interest on the peer: an export-denied subject, a wildcard that one denied subject matches, a plain one.
    at_peer: list = []
    peer_nc = await connect(peer)
    for subject in ("noexp.a", "mixed.*", "ok.a"):
        await peer_nc.subscribe(subject, cb=collector(at_peer))
    await flushed(peer_nc)
    # Interest on the guarded node: an import-denied subject, then a plain one.
    at_guarded: list = []
    guarded_nc = await connect(guarded)
    for subject in ("noimp.a", "ok.b"):
        await guarded_nc.subscribe(subject, cb=collector(at_guarded))
    await flushed(guarded_nc)

    # RS+ go out in subscription order: once the last one is registered, a refused one would be too.
    await cluster.wait_interest("ok.a", peer, [guarded])
    await cluster.wait_interest("mixed.*", peer, [guarded])
    await cluster.wait_interest("ok.b", guarded, [peer])
    assert guarded.remote_interest(peer.server_id)["noexp.a"] == 0, "export-denied interest must be ignored"
    assert peer.remote_interest(guarded.server_id)["noimp.a"] == 0, "import-denied interest must not be announced"

    # Messages out of the guarded node: the denied ones are published first, the last one closes the batch.
    guarded_pub = await connect(guarded)
    for subject in ("noexp.a", "mixed.secret", "mixed.public", "ok.a"):
        await guarded_pub.publish(subject, b"out")
    await flushed(guarded_pub)
    # Messages into the guarded node.
    peer_pub = await connect(peer)
    for subject in ("noimp.a", "ok.b"):
        await peer_pub.publish(subject, b"in")
    await flushed(peer_pub)

    await eventually(lambda: ("ok.a", b"out") in at_peer and ("ok.b", b"in") in at_guarded, 5,
                     what=lambda: f"allowed messages (peer got {at_peer}, guarded got {at_guarded})")
    await asyncio.sleep(0.2)  # a message that should not cross would have arrived by now
    assert at_peer == [("mixed.public", b"out"), ("ok.a", b"out")], "export: denied subjects must not be sent"
    assert at_guarded == [("ok.b", b"in")], "import: denied subjects must not be received"


@pytest.mark.parametrize("pool_size", [None, -1], ids=["pooled", "nopool"])
async def test_route_permissions_queue_interest(cluster, connect, pool_size):
    """A queue group on the peer outside export never gets the guarded node's messages; local members do."""
    guarded, peer = await two_nodes(cluster, pool_size, "accepting")
    remote: list = []
    peer_nc = await connect(peer)
    await peer_nc.subscribe("noexp.work", queue="q", cb=collector(remote))
    await peer_nc.subscribe("ok.work", queue="q", cb=collector(remote))
    await flushed(peer_nc)
    await cluster.wait_interest("ok.work", peer, [guarded])
    assert guarded.remote_interest(peer.server_id)["noexp.work"] == 0
    publisher = await connect(guarded)
    for _ in range(5):
        await publisher.publish("noexp.work", b"x")
    await publisher.publish("ok.work", b"y")
    await flushed(publisher)
    await eventually(lambda: ("ok.work", b"y") in remote, 5, what=lambda: f"ok.work at the peer (got {remote})")
    await asyncio.sleep(0.2)
    assert remote == [("ok.work", b"y")]


@pytest.mark.parametrize("permissions, message", [
    ('import: "a", allow_responses: true', "Cluster permissions do not support dynamic responses"),
    ('export: "a q"', 'cluster export allow: subject "a q" is not a valid subject'),
])
def test_invalid_route_permissions_refused_at_start(impl, tmp_path, permissions, message):
    result = run_to_exit(impl, tmp_path, f"cluster {{\n  port: -1\n  permissions {{ {permissions} }}\n}}\n")
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
