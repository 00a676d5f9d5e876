"""Regressions found by running the NATS Python client's own test suites against natsd
(scripts/peer-suites.sh). Each test names the peer test that exposed the difference."""

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
