"""Regressions found by running NATS clients' own test suites against natsd (scripts/peer-suites.sh
for nats.py, scripts/peer-suites-c.sh for nats.c). Each test names the peer test that exposed the
difference."""

import asyncio

from raw_client import RawClient


async def test_stopping_server_sends_clients_no_info_update(cluster):
    # nats-core tests/test_client.py::test_cluster_reconnect_sequential_shutdown: a server stopped
    # with SIGTERM drops its routes while closing its clients. nats-server sends no async INFO
    # while shutting down; natsd sent one per dropped route, with "port" and its own connect URL
    # already reading -1 (from `-p -1`, its listener closed), which the client then kept trying.
    kinds = cluster.kinds(2)
    stopping = cluster.start(cluster.node(kinds[0]))
    peer = cluster.start(cluster.node(kinds[1], routes=[stopping.route_url]))
    await cluster.wait_mesh([stopping, peer])
    raw = await RawClient.connected(stopping.port, {"protocol": 1})
    try:
        assert peer.client_address in (raw.info.get("connect_urls") or [])
        await raw.read_for(0.3)  # whatever the server says right after the handshake
        stopping.handle.proc.terminate()
        after_stop = await raw.expect_closed(timeout=5, allow_data=True)
        assert b"INFO" not in after_stop, f"INFO sent while shutting down: {after_stop!r}"
    finally:
        await raw.close()


async def test_connect_urls_absent_until_a_peer_brings_its_urls(cluster):
    # Seen in nats.c's test_DiscoveredServersCb and test_GetServers (their failures on the debug build
    # are timing: its routes come up a few ms later): a clustered server that has never had a peer sends
    # INFO without connect_urls, as nats-server fills the list only when a route brings URLs; natsd
    # listed itself. Once a peer has come, the list stays, down to the server itself alone.
    kinds = cluster.kinds(2)
    first = cluster.start(cluster.node(kinds[0]))
    alone = await RawClient.open(first.port)
    await alone.close()
    assert "connect_urls" not in alone.info, alone.info
    peer = cluster.start(cluster.node(kinds[1], routes=[first.route_url]))
    await cluster.wait_mesh([first, peer])
    meshed = await RawClient.open(first.port)
    await meshed.close()
    assert sorted(meshed.info.get("connect_urls") or []) == sorted([first.client_address, peer.client_address])
    peer.kill()

    async def urls_after_peer_left():
        raw = await RawClient.open(first.port)
        await raw.close()
        return raw.info.get("connect_urls")

    last = None
    for _ in range(50):
        last = await urls_after_peer_left()
        if last == [first.client_address]:
            break
        await asyncio.sleep(0.1)
    assert last == [first.client_address], f"connect_urls after the peer left: {last}"
