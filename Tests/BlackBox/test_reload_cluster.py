"""Configuration reload of the `cluster` block, `pid_file` and `ports_file_dir` (issue 10 point 1), against
natsd and nats-server: what nats-server applies while running (server/reload.go `clusterOption`,
`reloadClusterPermissions`, `reloadAuthorization`, `pidFileOption`, `portsFileDirOption`) natsd applies too.

Two-node clusters: `seed` accepts the route that `node` dials. Whether a subject crosses the route is seen
by publishing on one node to a subscriber on the other (`delivered`)."""
from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from monitor_http import monitor_json
from raw_client import RawClient
from server_process import ServerHandle, free_port, release_port, start_server, wait_for
from test_reload import delivered, reload

PERMISSIONS_BODY = 'import: { deny: "blocked.>" }, export: { deny: "secret.>" }'
AUTHORIZATION = 'authorization { user: ruser, password: rpass }'


def cluster_config(routes: list[str], *lines: str) -> str:
    listed = ", ".join(f'"{route}"' for route in routes)
    body = "\n".join(f"  {line}" for line in lines)
    return f'cluster {{\n  name: reload\n  listen: "127.0.0.1:-1"\n  routes: [{listed}]\n{body}\n}}\n'


def route_to(server: ServerHandle, credentials: str = "") -> str:
    return f"nats-route://{credentials}127.0.0.1:{server.cluster_port}"


def cluster_notice(log: str) -> bool:
    """nats-server's notice for a change of the `cluster` block (`Reloaded: cluster routes` is another)."""
    return re.search(r"Reloaded: cluster\s*$", log, re.MULTILINE) is not None


async def subscribed(port: int, subject: str) -> RawClient:
    client = await RawClient.connected(port, {"verbose": False})
    await client.send(f"SUB {subject} 1\r\nPING\r\n".encode())
    await client.expect(b"PONG\r\n")
    return client


async def settle(*subscribers: RawClient) -> None:
    """After a reload that stops a subject crossing: lets the change reach the peer, drops what was in flight."""
    await asyncio.sleep(0.5)
    for subscriber in subscribers:
        await subscriber.read_for(0.1)


@pytest.mark.parametrize("side", ["accepting", "soliciting"])
async def test_cluster_permissions_reload_on_live_routes(cluster, side):
    """Widened import: the reloaded node announces interest it held back. Widened export: it tells the peer
    (an INFO with the new permissions), which announces again the interest the node had ignored. Narrowed
    back: the interest is withdrawn and dropped, and messages stop crossing; the route stays up. Every
    layout, so natsd and nats-server each reload against the other."""
    kinds = cluster.kinds(2)
    # The names are in the config too: nats-server's reload keeps the config's server name, not `-n`'s.
    seed = cluster.start(cluster.node(kinds[0], name="seed", config_cluster=True, extra_config="server_name: seed",
                                      cluster_permissions=PERMISSIONS_BODY if side == "accepting" else None))
    node = cluster.start(cluster.node(kinds[1], name="node", routes=[seed.route_url], config_cluster=True,
                                      extra_config="server_name: node",
                                      cluster_permissions=PERMISSIONS_BODY if side == "soliciting" else None))
    await cluster.wait_mesh([seed, node])
    guarded, peer = (seed, node) if side == "accepting" else (node, seed)

    imported = await subscribed(guarded.port, "blocked.a")  # interest the guarded node does not announce
    exported = await subscribed(peer.port, "secret.a")  # interest the guarded node ignores
    control = await subscribed(guarded.port, "open.a")
    assert await delivered(peer.port, control, "open.a"), "the route is up"
    assert not await delivered(peer.port, imported, "blocked.a", timeout=1.0)
    assert not await delivered(guarded.port, exported, "secret.a", timeout=1.0)

    guarded.cluster_permissions = None
    log = reload(guarded.handle, guarded.config())
    assert cluster_notice(log)
    assert await delivered(peer.port, imported, "blocked.a"), "import widened: the interest is announced"
    assert await delivered(guarded.port, exported, "secret.a"), "export widened: the peer announces its interest again"

    guarded.cluster_permissions = PERMISSIONS_BODY
    reload(guarded.handle, guarded.config())
    await settle(imported, exported)
    assert not await delivered(peer.port, imported, "blocked.a", timeout=1.0), "import narrowed: interest withdrawn"
    assert not await delivered(guarded.port, exported, "secret.a", timeout=1.0), "export narrowed: interest dropped"
    assert await delivered(peer.port, control, "open.a"), "the route stays up"
    for client in (imported, exported, control):
        await client.close()


def route_ids(server: ServerHandle) -> set[int]:
    return {route["rid"] for route in monitor_json(server.monitoring_port, "/routez")["routes"]}


async def test_cluster_authorization_closes_accepted_routes_it_no_longer_admits(start):
    seed = start("-m", "-1", config=cluster_config([]))
    node = start("-m", "-1", config=cluster_config([route_to(seed)]))
    subscriber = await subscribed(seed.port, "routed")
    assert await delivered(node.port, subscriber, "routed")

    # Credentials required by the dialling node: its own routes were not accepted by it, they stay.
    before = route_ids(node)
    log = reload(node, cluster_config([route_to(seed)], AUTHORIZATION))
    assert cluster_notice(log)
    await asyncio.sleep(0.5)
    assert route_ids(node) == before, "a solicited route is not checked against the new credentials"

    # Credentials required by the accepting seed: the node's routes offered none, they are closed and the
    # node's redials are refused.
    log = reload(seed, cluster_config([], AUTHORIZATION))
    assert cluster_notice(log)
    wait_for(lambda: not route_ids(seed), what="the unauthorized routes closed")
    await settle(subscriber)
    assert not await delivered(node.port, subscriber, "routed", timeout=1.0)

    # The node dials with the credentials: routed again.
    reload(node, cluster_config([route_to(seed, "ruser:rpass@")], AUTHORIZATION))
    assert await delivered(node.port, subscriber, "routed")
    await subscriber.close()


async def route_port_info(port: int) -> dict:
    """The INFO a new connection to a route port gets."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
    try:
        line = await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()
    assert line.startswith(b"INFO ")
    return json.loads(line[5:])


async def test_cluster_name_and_advertising_reload_for_new_routes(start):
    seed = start(config=cluster_config([]))
    info = await route_port_info(seed.cluster_port)
    assert info["cluster"] == "reload"
    assert info.get("connect_urls")
    renamed = cluster_config([], 'advertise: "10.9.8.7:4848"', "no_advertise: true", "connect_retries: 3")
    log = reload(seed, renamed.replace("name: reload", "name: renamed"))
    assert cluster_notice(log)
    assert "Cluster name updated to renamed" in log
    # Logged as the cluster option is applied, before its notice (nats-server's order).
    assert log.index("Cluster name updated to renamed") < log.index("Reloaded: cluster")
    info = await route_port_info(seed.cluster_port)
    assert (info["cluster"], info["host"], info["port"]) == ("renamed", "10.9.8.7", 4848)
    assert info["ip"] == "nats-route://10.9.8.7:4848/"
    assert not info.get("connect_urls"), "no_advertise: no client URLs for new routes"


async def test_cluster_host_cannot_change(start):
    seed = start(config=cluster_config([]))
    log = reload(seed, cluster_config([]).replace("127.0.0.1:-1", "localhost:-1"),
                 outcome="Failed to reload server configuration")
    assert "config reload not supported for cluster host: old=127.0.0.1, new=localhost" in log


def test_pid_file_moved(start, tmp_path):
    first, second = tmp_path / "first.pid", tmp_path / "second.pid"
    server = start(config=f'pid_file: "{first}"\n')
    wait_for(lambda: first.exists() and first.read_text().strip() == str(server.proc.pid), what="the first pid file")
    log = reload(server, f'pid_file: "{second}"\n')
    assert f"Reloaded: pid_file = {second}" in log
    assert second.read_text().strip() == str(server.proc.pid)
    assert first.exists(), "nats-server leaves the old pid file"


def test_ports_file_moved(impl, tmp_path):
    """The harness's `--ports_file_dir` flag would override the config: this server gets none."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    port = free_port()
    server = start_server(impl, config=f'ports_file_dir: "{first}"\n', workdir=tmp_path, port=port,
                          harness_ports_file=False)
    try:
        name = f"{Path(server.args[0]).name}_{server.proc.pid}.ports"
        wait_for(lambda: (first / name).exists(), what="the ports file in the first directory")
        log = reload(server, f'ports_file_dir: "{second}"\n')
        assert f"Reloaded: ports_file_dir = {second}" in log
        wait_for(lambda: (second / name).exists(), what="the ports file in the second directory")
        assert not (first / name).exists(), "the old ports file is removed"
        ports = json.loads((second / name).read_text())
        assert ports["nats"] == [f"nats://127.0.0.1:{port}"]
    finally:
        server.kill()
        release_port(port)
