"""Self-healing rules: explicit routes are retried forever, implicit (gossiped) ones are not;
`--no_advertise` keeps a node out of connect_urls."""

import asyncio

from raw_client import RawClient


async def test_explicit_route_is_retried_forever(cluster):
    kinds = cluster.kinds(2)
    seed = cluster.start(cluster.node(kinds[0]))
    dialer = cluster.start(cluster.node(kinds[1], routes=[seed.route_url]))
    await cluster.wait_mesh([seed, dialer])
    seed.kill()
    await asyncio.sleep(3.5)  # several retry periods, all refused
    cluster.start(seed)
    await cluster.wait_mesh([seed, dialer], timeout=5)


async def test_implicit_route_is_not_retried_forever(cluster):
    # A seed and two nodes naming only the seed: the route between the two is implicit.
    # nats-server retries a lost implicit route at most `connect_retries` times (here 1, one a
    # second), so a node that comes back without routes of its own is not dialed by its old peer.
    kinds = cluster.kinds(3)
    options = {"extra_args": ["--connect_retries", "1"]}
    seed = cluster.start(cluster.node(kinds[0], **options))
    b = cluster.start(cluster.node(kinds[1], routes=[seed.route_url], **options))
    c = cluster.start(cluster.node(kinds[2], routes=[seed.route_url], **options))
    await cluster.wait_mesh([seed, b, c])
    solicited_by_b = any(r["did_solicit"] for r in b.route_list() if r["remote_id"] == c.server_id)
    dialer, victim = (b, c) if solicited_by_b else (c, b)
    assert not any(r["is_configured"] for r in dialer.route_list() if r["remote_id"] == victim.server_id)
    victim.kill()
    await asyncio.sleep(3.5)
    victim.routes = []  # back without routes of its own: only the implicit dialer could reconnect it
    cluster.start(victim)
    await asyncio.sleep(2.5)
    assert victim.route_list() == [], f"{dialer.name} kept retrying an implicit route: {victim.route_list()}"
    await cluster.wait_mesh([seed, dialer], timeout=1)


async def test_no_advertise_keeps_node_out_of_connect_urls(cluster):
    kinds = cluster.kinds(3)
    n1 = cluster.start(cluster.node(kinds[0]))
    hidden = cluster.start(cluster.node(kinds[1], routes=[n1.route_url], extra_args=["--no_advertise"]))
    n3 = cluster.start(cluster.node(kinds[2], routes=[n1.route_url]))
    await cluster.wait_mesh([n1, hidden, n3])
    raw = await RawClient.open(n1.port)
    try:
        assert set(raw.info.get("connect_urls") or []) == {n1.client_address, n3.client_address}
    finally:
        await raw.close()
