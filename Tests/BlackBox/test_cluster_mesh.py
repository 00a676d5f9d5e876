"""Cluster membership: chained solicit, gossip to a full mesh, kill and restart of any node."""

import asyncio
import time

import pytest

from cluster import POOL_IDS, POOL_SIZES, expect_delivery


@pytest.mark.parametrize("pool_size", POOL_SIZES, ids=POOL_IDS)
async def test_chain_of_three_forms_full_mesh_and_delivers_end_to_end(cluster, connect, pool_size):
    nodes = cluster.chain(3, pool_size=pool_size)
    await cluster.wait_mesh(nodes)
    await expect_delivery(connect, nodes[0], nodes[2], cluster, "chain.a")
    await expect_delivery(connect, nodes[2], nodes[0], cluster, "chain.b")
    for node in nodes:
        by_remote = {route["remote_id"]: route for route in node.route_list()}
        # A node names only its predecessor: that route is configured and solicited.
        if node.routes:
            predecessor = nodes[nodes.index(node) - 1]
            assert by_remote[predecessor.server_id]["is_configured"] is True
            assert by_remote[predecessor.server_id]["did_solicit"] is True
            assert by_remote[predecessor.server_id]["remote_name"] == predecessor.name


@pytest.mark.parametrize("victim", [0, 1, 2], ids=["first", "middle", "last"])
async def test_kill_and_restart_any_node_of_a_chain(cluster, connect, victim):
    nodes = cluster.chain(3)
    await cluster.wait_mesh(nodes)
    dead = nodes[victim]
    survivors = [node for node in nodes if node is not dead]
    dead.kill()
    # The survivors drop every route to the dead node and stay routed to each other.
    await cluster.wait_mesh(survivors, timeout=5)
    await expect_delivery(connect, survivors[0], survivors[1], cluster, "survive.a")
    await expect_delivery(connect, survivors[1], survivors[0], cluster, "survive.b")
    cluster.start(dead)
    await cluster.wait_mesh(nodes, timeout=10)
    for a in nodes:
        for b in nodes:
            if a is not b:
                await expect_delivery(connect, a, b, cluster, f"back.{a.name}.{b.name}", count=2)


async def test_concurrent_chain_of_five_converges_to_full_mesh(cluster, connect):
    nodes = cluster.chain(5, concurrent=True)
    started = time.monotonic()
    await cluster.wait_mesh(nodes, timeout=10)
    assert time.monotonic() - started < 10
    await expect_delivery(connect, nodes[0], nodes[4], cluster, "five")
    await expect_delivery(connect, nodes[4], nodes[0], cluster, "five.back")


def natsd_only(cluster) -> None:
    """nats-server itself does not reliably mesh large concurrently started chains (its duplicate-route
    races, nats-server issue #5483; `bench mesh` shows it timing out at 10-40 nodes), so the larger
    convergence tests hold natsd to the stricter requirement of issue 3 on its own."""
    if cluster.layout != "natsd":
        pytest.skip("large concurrent chains: natsd-only requirement (nats-server does not converge reliably)")


def route_snapshot(nodes) -> dict:
    """Each node's routes as (rid, remote_id, start): equal snapshots mean no route churned."""
    return {node.name: sorted((r["rid"], r["remote_id"], r["start"]) for r in node.route_list()) for node in nodes}


@pytest.mark.stress
@pytest.mark.timeout(90)
async def test_stress_concurrent_chain_of_ten_converges_and_stays_stable(cluster, connect):
    natsd_only(cluster)
    nodes = cluster.chain(10, concurrent=True)
    await cluster.wait_mesh(nodes, timeout=20)
    snapshot = route_snapshot(nodes)
    await asyncio.sleep(2)
    assert route_snapshot(nodes) == snapshot, "routes churned after the mesh formed"
    await expect_delivery(connect, nodes[0], nodes[9], cluster, "ten")
    await expect_delivery(connect, nodes[9], nodes[4], cluster, "ten.back")


@pytest.mark.stress
@pytest.mark.timeout(120)
async def test_stress_concurrent_chain_of_twenty_converges_without_churn(cluster, connect):
    natsd_only(cluster)
    nodes = cluster.chain(20, concurrent=True)
    await cluster.wait_mesh(nodes, timeout=30)
    snapshot = route_snapshot(nodes)
    # wait_mesh checked one pool (three connections) per pair; no connection to anything else.
    assert all(len({remote for _, remote, _ in routes}) == 19 for routes in snapshot.values()), "one pool per pair"
    await asyncio.sleep(3)
    assert route_snapshot(nodes) == snapshot, "routes churned after the mesh formed"
    await expect_delivery(connect, nodes[0], nodes[19], cluster, "twenty")
