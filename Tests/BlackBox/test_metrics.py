"""/metrics: natsd's own Prometheus endpoint (nats-server has none: it needs a separate exporter), so
these tests run against natsd only. The text is parsed with prometheus_client's parser, which rejects
malformed exposition text, and the values are checked after known traffic."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cluster import Cluster, eventually
from monitor_http import monitor_json, wait_monitor_json
from nats_helpers import flushed
from server_process import selected_impls

ACCOUNTS = """
accounts {
  A: { users: [ { user: a, password: a } ] }
  B: { users: [ { user: b, password: b } ] }
}
"""


def scrape(port: int) -> dict[tuple, float]:
    """Every sample of /metrics as {(name, sorted labels): value}; the content type is Prometheus' text format."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        assert family.documentation, family.name  # every metric has HELP
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def total(samples: dict, name: str) -> float:
    """The sum of every labelled series of `name`."""
    return sum(v for (sample, _), v in samples.items() if sample == name)


@pytest.fixture
def natsd_only(impl):
    if impl != "natsd":
        pytest.skip("/metrics is natsd's own endpoint: nats-server has no Prometheus endpoint to compare with")


async def test_metrics_count_known_traffic(natsd_only, start, client):
    server = start("-m", "-1", config=ACCOUNTS)
    port = server.monitoring_port
    wait_monitor_json(port, "/varz")
    subscriber = await client(server, user="a", password="a")
    received = []

    async def handler(msg):
        received.append(msg)

    await subscriber.subscribe("metrics.x", cb=handler)
    await flushed(subscriber)
    publisher = await client(server, user="a", password="a")
    for _ in range(5):
        await publisher.publish("metrics.x", b"0123456789")
    await flushed(publisher)
    other = await client(server, user="b", password="b")
    for _ in range(3):
        await other.publish("metrics.nobody", b"abcd")
    await flushed(other)
    await eventually(lambda: len(received) == 5, 5, what="5 messages at the subscriber")
    # A closed client's messages still count for its account.
    await publisher.close()
    await eventually(lambda: monitor_json(port, "/varz")["connections"] == 2, 5, what="the publisher gone")

    samples = scrape(port)
    varz = monitor_json(port, "/varz")
    assert value(samples, "natsd_in_messages_total") == varz["in_msgs"] == 8
    assert value(samples, "natsd_in_bytes_total") == varz["in_bytes"] == 62
    assert value(samples, "natsd_out_messages_total") == varz["out_msgs"] == 5
    assert value(samples, "natsd_out_bytes_total") == varz["out_bytes"] == 50
    assert value(samples, "natsd_connections") == 2
    assert value(samples, "natsd_connections_total") == varz["total_connections"]
    assert value(samples, "natsd_subscriptions") == varz["subscriptions"]
    assert value(samples, "natsd_slow_consumers_total") == 0
    assert value(samples, "natsd_account_in_messages_total", account="A") == 5
    assert value(samples, "natsd_account_in_bytes_total", account="A") == 50
    assert value(samples, "natsd_account_out_messages_total", account="A") == 5
    assert value(samples, "natsd_account_in_messages_total", account="B") == 3
    assert value(samples, "natsd_account_in_bytes_total", account="B") == 12
    assert value(samples, "natsd_account_out_messages_total", account="B") == 0
    assert value(samples, "natsd_account_connections", account="A") == 1
    assert value(samples, "natsd_account_subscriptions", account="A") == 1
    # The loops' shares add up to the totals.
    assert total(samples, "natsd_loop_connections") == 2
    assert total(samples, "natsd_loop_in_messages_total") == 8
    assert total(samples, "natsd_loop_out_bytes_total") == 50
    assert value(samples, "natsd_info", server_id=varz["server_id"], server_name=varz["server_name"],
                 version=varz["version"], built_with=varz["go"]) == 1


async def test_metrics_per_route(natsd_only, tmp_path, connect):
    cluster = Cluster("natsd", tmp_path)
    try:
        first, second = cluster.chain(2)
        await cluster.wait_mesh([first, second])
        sub_nc = await connect(second)
        received = []

        async def handler(msg):
            received.append(msg)

        await sub_nc.subscribe("over.route", cb=handler)
        await flushed(sub_nc)
        await cluster.wait_interest("over.route", second, [first])
        pub_nc = await connect(first)
        for _ in range(4):
            await pub_nc.publish("over.route", b"xyz")
        await flushed(pub_nc)
        await eventually(lambda: len(received) == 4, 5, what="4 messages over the route")

        routes = first.route_list()
        samples = await eventually(
            lambda: (s := scrape(first.http_port)) and total(s, "natsd_route_out_messages_total") == 4
            and all(v > 0 for (name, _), v in s.items() if name == "natsd_route_rtt_seconds") and s,
            5, what="route counters and RTTs")
        assert value(samples, "natsd_routes") == len(routes)
        assert total(samples, "natsd_route_out_bytes_total") == 12
        series = [labels for (name, labels) in samples if name == "natsd_route_rtt_seconds"]
        assert sorted(dict(labels)["rid"] for labels in series) == sorted(str(route["rid"]) for route in routes)
        assert all(dict(labels)["remote_id"] == routes[0]["remote_id"] for labels in series)
        receiving = scrape(second.http_port)
        assert total(receiving, "natsd_route_in_messages_total") == 4
    finally:
        cluster.close(failed=False)
