"""natsd's live topology page (issue 10 point 5, beyond nats-server): `/` of the monitoring port serves a
self-contained page that draws the cluster from `/topologyz`, natsd's aggregation of its own /varz and
/routez and its natsd peers' (their monitoring ports come with the INFO that carries the natsd peer list,
`natsd_monitor_port`). A peer whose monitoring port is unknown, such as a nats-server, is described from
the serving node's routes only.

The page test drives Debian's chromium headless (headless_browser.py) against a live 3-node cluster with
traffic and keeps a screenshot under the folder it prints (env BLACKBOX_ARTIFACTS, default
Tests/BlackBox/artifacts, ignored by git). Only the link index at `/` is common to both servers, so only
that test runs against nats-server too."""

from __future__ import annotations

import asyncio
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from cluster import Cluster, eventually
from headless_browser import HeadlessChromium, find_chromium
from monitor_http import monitor_json
from nats_helpers import flushed
from server_process import selected_impls

NATSD_ONLY = "natsd-only: /topologyz and the topology page are natsd's own (nats-server serves a link index at /)"
ARTIFACTS = Path(os.environ.get("BLACKBOX_ARTIFACTS") or Path(__file__).parent / "artifacts")

# The endpoints natsd serves, by the names nats-server's index gives them.
LINKED_ENDPOINTS = ("varz", "connz", "routez", "subsz", "accountz", "healthz")


@pytest.fixture
def natsd_cluster(impl, tmp_path, request):
    """A natsd `Cluster`; the nats-server run of each test is skipped (NATSD_ONLY)."""
    if impl != "natsd":
        pytest.skip(NATSD_ONLY)
    owner = Cluster("natsd", tmp_path)
    yield owner
    owner.close(getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed)


@pytest.fixture
def mixed_cluster(tmp_path, request):
    """A `Cluster` alternating natsd and nats-server, natsd first."""
    if set(selected_impls()) != {"natsd", "nats-server"}:
        pytest.skip("needs both implementations (BLACKBOX_IMPLS)")
    owner = Cluster("mixed-natsd-first", tmp_path)
    yield owner
    owner.close(getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed)


def topology(node) -> dict:
    return monitor_json(node.http_port, "/topologyz", timeout=5)


def connections_by_pair(node) -> Counter:
    """Route connections of `node` per (node id, peer id) with their pool indexes, from its own /routez."""
    return Counter((node.server_id, r["remote_id"], r.get("pool_idx")) for r in node.route_list())


# ---- the link index -------------------------------------------------------------------------------------


def test_root_page_links_the_monitoring_endpoints(start):
    # nats-server's `/` is an index of links (`<a href=./varz>`…); natsd's page keeps those links.
    server = start("-m", "-1")
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{server.monitoring_port}/", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/html")
        page = response.read().decode()
    linked = set(re.findall(r"""href=["']?\./(\w+)""", page))
    assert set(LINKED_ENDPOINTS) <= linked, linked
    for endpoint in LINKED_ENDPOINTS:
        monitor_json(server.monitoring_port, f"/{endpoint}")


# ---- /topologyz ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pool_size", [None, -1], ids=["pool3", "nopool"])
async def test_topologyz_describes_every_server_from_its_own_monitoring(natsd_cluster, pool_size):
    cluster = natsd_cluster
    nodes = cluster.chain(3, pool_size=pool_size)
    await cluster.wait_mesh(nodes)
    serving = nodes[0]
    ids = {node.server_id: node for node in nodes}

    def complete():
        document = topology(serving)
        servers = {s["server_id"]: s for s in document["servers"]}
        return document if all(s["source"] != "routes" for s in servers.values()) and len(servers) == 3 else None

    # A peer's monitoring port arrives with its peer list, shortly after the route forms.
    document = await eventually(complete, 5, what="every peer's monitoring in /topologyz")
    assert document["server_id"] == serving.server_id
    servers = {s["server_id"]: s for s in document["servers"]}
    assert set(servers) == set(ids)
    for server_id, server in servers.items():
        node = ids[server_id]
        assert server["server_name"] == node.name
        assert server["source"] == ("self" if node is serving else "monitor"), server
        if node is not serving:
            assert server["monitor"] == f"127.0.0.1:{node.http_port}"
        assert "problem" not in server
        assert server["varz"]["connections"] >= 0 and "in_msgs" in server["varz"]
        drawn = Counter((server_id, r["remote_id"], r.get("pool_idx")) for r in server["routez"]["routes"])
        assert drawn == connections_by_pair(node)


async def test_topologyz_describes_a_nats_server_peer_from_routes(mixed_cluster):
    cluster = mixed_cluster
    natsd, nats_server = cluster.chain(2)
    await cluster.wait_mesh([natsd, nats_server])
    document = topology(natsd)
    servers = {s["server_id"]: s for s in document["servers"]}
    peer = servers[nats_server.server_id]
    assert peer["source"] == "routes" and "not natsd" in peer["problem"], peer
    assert "varz" not in peer and "routez" not in peer
    own = servers[natsd.server_id]["routez"]["routes"]
    assert {r["remote_id"] for r in own} == {nats_server.server_id}


# ---- the page, in a browser --------------------------------------------------------------------------------


def chromium_or_skip() -> str:
    binary = find_chromium()
    if binary is None:
        message = "chromium not found: scripts/bootstrap.sh installs Debian's chromium (or set CHROMIUM_BIN)"
        if os.environ.get("BLACKBOX_REQUIRE_CHROMIUM") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return binary


DRAWN_NODES = "[...document.querySelectorAll('g.node')].map(g => g.dataset.serverId)"
DRAWN_ROUTES = """[...document.querySelectorAll('path.route')].map(p => ({
    from: p.dataset.from, to: p.dataset.to, pool: p.dataset.poolIdx, rate: p.dataset.msgsPerSec ?? null}))"""


def pair_rate_expression(a: str, b: str) -> str:
    """JS: the summed msg/s the page shows on the connections between servers `a` and `b` (0 until known)."""
    return f"""[...document.querySelectorAll('path.route')]
        .filter(p => [p.dataset.from, p.dataset.to].sort().join(' ') === {' '.join(sorted([a, b]))!r})
        .reduce((sum, p) => sum + Number(p.dataset.msgsPerSec || 0), 0)"""


@pytest.mark.timeout(120)
async def test_topology_page_draws_the_live_cluster_in_chromium(natsd_cluster, connect):
    cluster = natsd_cluster
    binary = chromium_or_skip()
    nodes = cluster.chain(3)
    await cluster.wait_mesh(nodes)
    first, _, last = nodes
    await eventually(lambda: all(s["source"] != "routes" for s in topology(first)["servers"]), 5,
                     what="every peer's monitoring in /topologyz")

    # Steady traffic from the first node to the last, on their direct route, while the page refreshes.
    sub_nc, pub_nc = await connect(last), await connect(first)
    received = 0

    async def count(_msg):
        nonlocal received
        received += 1

    await sub_nc.subscribe("topology.traffic", cb=count)
    await flushed(sub_nc)
    await cluster.wait_interest("topology.traffic", last, [first])
    publishing = True

    async def publish():
        while publishing:
            await pub_nc.publish("topology.traffic", b"x" * 64)
            await asyncio.sleep(0.01)

    publisher = asyncio.create_task(publish())
    browser = await asyncio.to_thread(HeadlessChromium, binary, 1280, 1000)
    try:
        await asyncio.to_thread(browser.open, f"http://127.0.0.1:{first.http_port}/")
        await asyncio.to_thread(browser.wait_for, "Number(document.body.dataset.updates) >= 1", 15, "a first drawing")

        assert sorted(await asyncio.to_thread(browser.evaluate, DRAWN_NODES)) == sorted(n.server_id for n in nodes)
        # Every route connection, each pool connection on its own: as the side that reports a pair shows it.
        routes = await asyncio.to_thread(browser.evaluate, DRAWN_ROUTES)
        drawn = Counter(frozenset((r["from"], r["to"])) for r in routes)
        expected = Counter(frozenset((node.server_id, remote)) for node in nodes for remote in node.route_counts().elements())
        assert drawn == Counter({pair: count // 2 for pair, count in expected.items()}), routes
        for node in nodes:
            for remote, pools in group_pools(node).items():
                shown = sorted(r["pool"] for r in routes if {r["from"], r["to"]} == {node.server_id, remote})
                assert shown == pools, (node.name, remote, shown, pools)

        rate = await asyncio.to_thread(browser.wait_for, pair_rate_expression(first.server_id, last.server_id),
                                       20, "a message rate on the route of the traffic")
        assert rate > 10, rate
        assert await asyncio.to_thread(browser.evaluate, "document.querySelectorAll('text.rate.active').length") > 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "topology-page.png"
        await asyncio.to_thread(browser.screenshot, str(shot))
        print(f"topology page screenshot: {shot}")
        assert shot.stat().st_size > 10_000
    finally:
        publishing = False
        await publisher
        await asyncio.to_thread(browser.close)
    assert received > 0


def group_pools(node) -> dict[str, list[str]]:
    """Pool indexes of `node`'s route connections per peer, as the page writes them (strings, sorted)."""
    pools: dict[str, list[str]] = {}
    for route in node.route_list():
        pools.setdefault(route["remote_id"], []).append(str(route["pool_idx"]))
    return {remote: sorted(values) for remote, values in pools.items()}
