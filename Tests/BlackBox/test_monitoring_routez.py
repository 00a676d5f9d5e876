"""/routez beyond the route list: `subs=detail`, `rtt`, `last_activity`, `idle`, on every cluster layout
(natsd, nats-server and both mixes), so each server is checked describing the other's interest."""

from __future__ import annotations

import re

from cluster import eventually, is_system_subject
from nats_helpers import flushed

RTT = re.compile(r"^(0s|\d+ns|\d+(\.\d+)?(µs|ms|s))$")


def interest_details(node, remote_id: str) -> list[tuple]:
    """(subject, qgroup, sid, msgs, cid == rid) of the non-system interest the routes to `remote_id` carry."""
    found = []
    for route in node.monitor("/routez?subs=detail").get("routes") or []:
        if route["remote_id"] != remote_id:
            continue
        assert "subscriptions_list" not in route, route
        for detail in route.get("subscriptions_list_detail") or []:
            if not is_system_subject(detail["subject"]):
                found.append((detail["subject"], detail.get("qgroup"), detail["sid"], detail["msgs"],
                              detail["cid"] == route["rid"]))
    return sorted(found)


async def test_routez_details_remote_interest(cluster, connect):
    first, second = cluster.chain(2)
    await cluster.wait_mesh([first, second])
    nc = await connect(second)
    await nc.subscribe("detail.plain")
    await nc.subscribe("detail.queued", queue="workers")
    await flushed(nc)
    second_id = second.varz()["server_id"]
    # The sid is the RS+ argument without the weight; between two nats-servers it carries an `R ` prefix.
    prefix = "R " if first.impl == second.impl == "nats-server" else ""
    expected = [("detail.plain", None, f"{prefix}$G detail.plain", 0, True),
                ("detail.queued", "workers", f"{prefix}$G detail.queued workers", 0, True)]
    await eventually(lambda: interest_details(first, second_id) == expected, 5,
                     what=lambda: f"interest details {interest_details(first, second_id)}")
    # Every route shows its round-trip time (after the first PING, a second in) and its activity.
    def measured():
        routes = first.route_list()
        return routes and all(RTT.match(route.get("rtt", "")) and route["rtt"] != "0s" for route in routes) and routes
    for route in await eventually(measured, 5, what=lambda: f"rtt on {first.route_list()}"):
        assert route["last_activity"] >= route["start"], route
        assert re.match(r"^(\d+[dhm])*\d+s$", route["idle"]), route
