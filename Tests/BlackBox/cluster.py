"""Clusters of NATS servers (natsd, nats-server or a mix) for black-box route tests.

A `Cluster` starts nodes on loopback ports claimed from port_allocator.py (client, cluster and
monitoring port: a node's route URL is named by nodes started before it, and a restarted node keeps
its ports so it is the same member to its peers); the claims are released when the cluster closes.
Each node names the routes it solicits. Everything observable is read from the outside: /routez
and /varz of the monitoring port (always bound to 127.0.0.1 through a one-line config file), and
clients.

Layouts say which implementation runs at which position of a cluster:
`natsd` and `nats-server` use one kind for every node; `mixed-ns-first` and `mixed-natsd-first`
alternate the two kinds, starting with the named one (so each kind both solicits and accepts).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from monitor_http import monitor_json
from nats_helpers import flushed
from server_process import ServerHandle, free_port, release_port, selected_impls, start_server, wait_until_accepting

CLUSTER_NAME = "bbcluster"
MESH_TIMEOUT = 10.0

ALL_LAYOUTS = ("natsd", "nats-server", "mixed-ns-first", "mixed-natsd-first")

# Route pool sizes the representative cluster tests run with, on every node: the default (3), 1 and the
# no-pool dialect (issue 7 point 6).
POOL_SIZES = (None, 1, -1)
POOL_IDS = ("pool3", "pool1", "nopool")


def selected_layouts() -> list[str]:
    """Layouts whose implementations are all selected by BLACKBOX_IMPLS."""
    impls = set(selected_impls())
    return [layout for layout in ALL_LAYOUTS if set(kinds_for(layout, 2)) <= impls]


def kinds_for(layout: str, count: int) -> list[str]:
    """Implementation of each of `count` nodes in `layout`."""
    if layout in ("natsd", "nats-server"):
        return [layout] * count
    first, second = ("nats-server", "natsd") if layout == "mixed-ns-first" else ("natsd", "nats-server")
    return [first if index % 2 == 0 else second for index in range(count)]


def pool_of(node: "Node") -> int | None:
    """The node's route pool size in effect: 3 by default (and for 0), None for the no-pool dialect."""
    if node.pool_size is None or node.pool_size == 0:
        return 3
    return None if node.pool_size < 0 else node.pool_size


def routes_per_pair(a: "Node", b: "Node", members: list["Node"]) -> int:
    """Route connections expected between two nodes of a cluster whose nodes (dead or alive) are
    `members`: one when either has no pool
    (`pool_size: -1`), else the larger pool size; two nats-servers add one pinned to $SYS when they
    pin it to each other (see `pins_system_account`)."""
    pools = (pool_of(a), pool_of(b))
    if None in pools:
        return 1
    return max(pools) + (1 if pins_system_account(a, b, members) else 0)


def pins_system_account(a: "Node", b: "Node", members: list["Node"]) -> bool:
    """Whether two pooled nats-servers open the connection pinned to $SYS. natsd has no system account and
    declines that connection, as a nats-server without one (`no_sys_acc: true`) does; and like such a
    server it never passes a pinned route on by gossip. So two nats-servers pin $SYS when one names the
    other as a route, or when they learn of each other from nats-servers (every member is one) or over
    a no-pool route (every natsd member has `pool_size: -1`: nats-server then dials its pinned routes too)."""
    if not (a.impl == b.impl == "nats-server"):
        return False
    if a.route_url in b.routes or b.route_url in a.routes:
        return True
    return all(node.impl == "nats-server" or pool_of(node) is None for node in members)


def is_system_subject(subject: str) -> bool:
    return subject.startswith("$SYS.")


@dataclass
class Node:
    """One cluster member; `handle` is replaced on restart, the ports stay."""

    impl: str
    name: str
    port: int
    cluster_port: int
    http_port: int
    routes: list[str]
    cluster_name: str
    extra_args: list[str]
    config_cluster: bool
    pool_size: int | None
    cluster_user: str | None
    cluster_password: str | None
    workdir: Path
    handle: ServerHandle | None = None
    server_id: str = ""
    history: list[ServerHandle] = field(default_factory=list)
    # `cluster { permissions { ... } }` body (config-file cluster only), e.g. 'import: {deny: "x.>"}'.
    cluster_permissions: str | None = None
    # Config text appended as it is (an `accounts` block, `no_auth_user`).
    extra_config: str = ""

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def client_address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def route_url(self) -> str:
        """URL another node uses to solicit this one (no credentials)."""
        return f"nats-route://127.0.0.1:{self.cluster_port}"

    def alive(self) -> bool:
        return self.handle is not None and self.handle.alive()

    @property
    def log(self) -> str:
        return self.handle.log if self.handle else ""

    # ---- process ----------------------------------------------------------------------------------

    def _listen_url(self) -> str:
        credentials = f"{self.cluster_user}:{self.cluster_password}@" if self.cluster_user else ""
        return f"nats://{credentials}127.0.0.1:{self.cluster_port}"

    def _argv_and_config(self) -> tuple[list[str], str]:
        config = f'http: "127.0.0.1:{self.http_port}"\n' + self.extra_config + "\n"
        args = ["-n", self.name]
        if self.config_cluster:
            lines = [f"  name: {self.cluster_name}", f'  listen: "127.0.0.1:{self.cluster_port}"']
            if self.routes:
                lines.append("  routes: [" + ", ".join(f'"{r}"' for r in self.routes) + "]")
            if self.pool_size is not None:
                lines.append(f"  pool_size: {self.pool_size}")
            if self.cluster_user:
                lines.append(f'  authorization {{ user: "{self.cluster_user}", password: "{self.cluster_password}" }}')
            if self.cluster_permissions:
                lines.append(f"  permissions {{ {self.cluster_permissions} }}")
            config += "cluster {\n" + "\n".join(lines) + "\n}\n"
        else:
            args += ["--cluster", self._listen_url()]
            if self.cluster_name:  # empty: no name, the server generates (and may adopt) one
                args += ["--cluster_name", self.cluster_name]
            if self.routes:
                args += ["--routes", ",".join(self.routes)]
            if self.pool_size is not None:
                config += f"cluster {{ pool_size: {self.pool_size} }}\n"
        return args + self.extra_args, config

    def config(self) -> str:
        """The config file text of the node as declared now (a test changes a field, then reloads with it)."""
        return self._argv_and_config()[1]

    def spawn(self) -> None:
        """Starts the process without waiting; `wait_ready` completes the start."""
        args, config = self._argv_and_config()
        self.handle = start_server(self.impl, args, config=config, workdir=self.workdir,
                                   port=self.port, wait=False)
        self.history.append(self.handle)
        self.server_id = ""

    def wait_ready(self) -> None:
        assert self.handle is not None
        wait_until_accepting(self.handle)
        self.server_id = self.varz()["server_id"]

    def kill(self) -> None:
        if self.handle is not None:
            self.handle.kill()

    # ---- monitoring -------------------------------------------------------------------------------

    def monitor(self, path: str) -> dict:
        return monitor_json(self.http_port, path, timeout=3)

    def varz(self) -> dict:
        return self.monitor("/varz")

    def routez(self, subs: bool = False) -> dict:
        return self.monitor("/routez?subs=1" if subs else "/routez")

    def route_list(self) -> list[dict]:
        return self.routez().get("routes") or []

    def route_counts(self) -> Counter:
        """Route connections per remote server id."""
        return Counter(route["remote_id"] for route in self.route_list())

    def remote_interest(self, remote_id: str) -> Counter:
        """Subjects (not $SYS) the routes to `remote_id` registered interest in, summed over pooled routes."""
        subjects: Counter = Counter()
        for route in self.routez(subs=True).get("routes") or []:
            if route["remote_id"] == remote_id:
                subjects.update(s for s in route.get("subscriptions_list") or [] if not is_system_subject(s))
        return subjects

    def out_msgs_to(self, remote_id: str) -> int:
        return sum(r.get("out_msgs", 0) for r in self.route_list() if r["remote_id"] == remote_id)


async def eventually(check, timeout: float = 5.0, interval: float = 0.1, what="condition"):
    """Polls `check()` (sync; truthy = done) until it holds; fails with the last value and error.
    `what` names the condition: a string, or a callable evaluated at failure time (current state)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = check()
            if last:
                return last
        except Exception as error:  # a node may be restarting: keep polling
            last = error
        if time.monotonic() >= deadline:
            described = what() if callable(what) else what
            raise AssertionError(f"{described} not reached within {timeout}s; last: {last!r}")
        await asyncio.sleep(interval)


async def expect_delivery(connect, publisher_node, subscriber_node, cluster, subject: str, count: int = 5):
    """Subscribes on `subscriber_node`, waits for its interest on `publisher_node`, publishes
    `count` messages there and expects exactly those at the subscriber (one hop, no duplicates)."""
    sub_nc = await connect(subscriber_node)
    pub_nc = await connect(publisher_node)
    received: list[bytes] = []

    async def handler(msg):
        received.append(msg.data)

    sub = await sub_nc.subscribe(subject, cb=handler)
    await flushed(sub_nc)
    await cluster.wait_interest(subject, subscriber_node, [publisher_node])
    for i in range(count):
        await pub_nc.publish(subject, str(i).encode())
    await flushed(pub_nc)
    await eventually(lambda: len(received) >= count, 3, what=f"{count} messages on {subject}")
    await asyncio.sleep(0.2)  # a duplicate would arrive here
    assert received == [str(i).encode() for i in range(count)]
    await sub.unsubscribe()
    await sub_nc.close()
    await pub_nc.close()


class Cluster:
    """Factory and owner of the nodes of one test; `close()` kills them all."""

    def __init__(self, layout: str, workdir: Path) -> None:
        self.layout = layout
        self.workdir = workdir
        self.nodes: list[Node] = []

    def kinds(self, count: int) -> list[str]:
        return kinds_for(self.layout, count)

    def node(self, impl: str, name: str | None = None, routes: list[str] | None = None,
             cluster_name: str = CLUSTER_NAME, extra_args: list[str] | None = None,
             config_cluster: bool = False, pool_size: int | None = None,
             cluster_user: str | None = None, cluster_password: str | None = None,
             cluster_permissions: str | None = None, extra_config: str = "") -> Node:
        """Declares a node on fresh ports; `start()` or `spawn()` runs it."""
        node = Node(impl=impl, name=name or f"n{len(self.nodes) + 1}", port=free_port(),
                    cluster_port=free_port(), http_port=free_port(), routes=list(routes or []),
                    cluster_name=cluster_name, extra_args=list(extra_args or []),
                    config_cluster=config_cluster, pool_size=pool_size, cluster_user=cluster_user,
                    cluster_password=cluster_password, workdir=self.workdir,
                    cluster_permissions=cluster_permissions, extra_config=extra_config)
        self.nodes.append(node)
        return node

    def start(self, node: Node) -> Node:
        """Starts `node` on its ports and waits until it accepts (a port still held by the node's
        previous process is retried for a bounded time, see server_process.wait_until_accepting)."""
        node.spawn()
        node.wait_ready()
        return node

    def chain(self, count: int, concurrent: bool = False, **options) -> list[Node]:
        """`count` nodes of this layout, each soliciting only its predecessor. Sequential by
        default (each started after the previous accepts); `concurrent` spawns all at once."""
        nodes: list[Node] = []
        for impl in self.kinds(count):
            routes = [nodes[-1].route_url] if nodes else []
            nodes.append(self.node(impl, routes=routes, **options))
            if not concurrent:
                self.start(nodes[-1])
        return self.run(nodes, concurrent) if concurrent else nodes

    def full(self, count: int, **options) -> list[Node]:
        """`count` nodes of this layout, each configured with a route to every other, started together."""
        nodes = [self.node(impl, **options) for impl in self.kinds(count)]
        for node in nodes:
            node.routes = [other.route_url for other in nodes if other is not node]
        return self.run(nodes, concurrent=True)

    def run(self, nodes: list[Node], concurrent: bool) -> list[Node]:
        if concurrent:
            for node in nodes:
                node.spawn()
            for node in nodes:
                node.wait_ready()
        else:
            for node in nodes:
                self.start(node)
        return nodes

    def restart(self, node: Node) -> Node:
        node.kill()
        return self.start(node)

    def close(self, failed: bool) -> None:
        """Kills every node, then gives their ports back to the allocator."""
        for node in self.nodes:
            node.kill()
        for node in self.nodes:
            for port in (node.port, node.cluster_port, node.http_port):
                release_port(port)
        if failed:
            for node in self.nodes:
                for handle in node.history:
                    print(f"--- {node.name} {handle.impl} log ({' '.join(handle.args)}) ---\n{handle.log}")

    # ---- observations -----------------------------------------------------------------------------

    def settled_routes(self, node: Node) -> list[dict]:
        """`node`'s /routez routes without nats-server's connection pinned to $SYS towards a natsd peer:
        nats-server registers it before natsd's refusal arrives and redials it every second, so /routez
        shows it for a few milliseconds at a time (natsd has no system account, see pins_system_account)."""
        natsd_ids = {n.server_id for n in self.nodes if n.impl == "natsd"}
        return [r for r in node.route_list() if not (r.get("account") and r["remote_id"] in natsd_ids)]

    def mesh_problems(self, nodes: list[Node]) -> list[str]:
        """Differences from a full mesh among `nodes` (every pair routed, the right route count);
        empty when the mesh is complete. Routes to nodes outside `nodes` are problems too."""
        problems = []
        ids = {node.server_id: node for node in nodes}
        for node in nodes:
            counts = Counter(route["remote_id"] for route in self.settled_routes(node))
            for other in nodes:
                if other is node:
                    continue
                want = routes_per_pair(node, other, self.nodes)
                have = counts.pop(other.server_id, 0)
                if have != want:
                    problems.append(f"{node.name}->{other.name}: {have} routes, want {want}")
            for remote_id, have in counts.items():
                problems.append(f"{node.name}: {have} routes to {remote_id} "
                                f"({'unknown' if remote_id not in ids else 'dup'})")
        return problems

    async def wait_mesh(self, nodes: list[Node], timeout: float = MESH_TIMEOUT) -> None:
        await eventually(lambda: not self.mesh_problems(nodes) or None, timeout,
                         what=lambda: f"full mesh of {[n.name for n in nodes]} "
                                      f"(problems at the deadline: {self._safe_problems(nodes)})")

    def _safe_problems(self, nodes):
        try:
            return self.mesh_problems(nodes)
        except Exception as error:
            return repr(error)

    async def wait_interest(self, subject: str, origin: Node, at: list[Node], present: bool = True,
                            timeout: float = 5.0) -> None:
        """Waits until every node in `at` has (or, with `present=False`, lacks) route interest
        in `subject` from `origin`."""
        def check():
            return all((node.remote_interest(origin.server_id)[subject] > 0) == present for node in at)
        await eventually(check, timeout,
                         what=f"interest in {subject!r} from {origin.name} {'on' if present else 'gone from'} "
                              f"{[n.name for n in at]}")
