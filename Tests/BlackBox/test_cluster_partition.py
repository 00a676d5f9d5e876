"""A silent network partition of one node of a 3-node cluster, on Linux network namespaces.

Each node runs in its own namespace, joined to the others by a veth pair to a bridge in the root
namespace (where the test's clients run). Taking the bridge end of one node's veth down drops its
traffic both ways without a FIN or RST, as a pulled cable or a dead switch port would, so only the
route keep-alive can notice. Routes use the `cluster { ping_interval, ping_max }` settings when set
(nats-server falls back to the top-level ones otherwise), so the stale route must be gone within
ping_interval × (ping_max + 1): PINGs go out every interval, and the one that would exceed ping_max
closes the route instead.

Needs root and `ip netns` (iproute2); skipped otherwise. Every node names the two others as explicit
routes, which are retried forever, so the mesh heals once the link is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import nats
import pytest

from monitor_http import monitor_json
from server_process import ServerHandle, _spawn, binary_for, natsd_loop_args, wait_until_accepting

PING_INTERVAL = 1.0  # seconds, cluster { ping_interval }
PING_MAX = 2
STALE_BOUND = PING_INTERVAL * (PING_MAX + 1)
STALE_MARGIN = 1.5  # polling, scheduling and the PING timer's phase on a loaded machine
HEAL_TIMEOUT = 30.0
CLIENT_PORT, CLUSTER_PORT, HTTP_PORT = 4222, 6222, 8222  # each namespace has its own ports
PUBLISH_EVERY = 0.02

# Heal times of this session, printed as a table after the last test of this file.
HEAL_TIMES: dict[str, tuple[float, float]] = {}


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=10)


def _netns_problem() -> str | None:
    """Why this machine cannot run the test, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces and veth pairs)"
    if shutil.which("ip") is None:
        return "needs iproute2's `ip`"
    probe = f"nbprobe{secrets.token_hex(4)}"
    try:
        _ip("netns", "add", probe)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        return f"`ip netns add` failed: {getattr(error, 'stderr', '') or error}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=10)
    return None


pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


class Partitionable:
    """Three namespaces on a bridge, with one server each; `close()` removes everything, and is
    safe to call after a failure at any step."""

    def __init__(self, impl: str, workdir: Path) -> None:
        self.impl = impl
        self.workdir = workdir
        token = secrets.token_hex(3)  # interface names are limited to 15 bytes
        self.bridge = f"nbr{token}"
        self.namespaces = [f"natsd-part-{token}-{index}" for index in range(3)]
        self.host_ends = [f"nvh{token}{index}" for index in range(3)]
        self.subnet = self._free_subnet()
        self.addresses = [f"{self.subnet}.{10 + index}" for index in range(3)]
        self.servers: list[ServerHandle] = []
        self.created_bridge = False
        self.created_namespaces: list[str] = []

    @staticmethod
    def _free_subnet() -> str:
        """A 10.x.y.0/24 no interface of the root namespace uses (runs in parallel pick others)."""
        used = _ip("-4", "-o", "addr", "show").stdout + _ip("-4", "route", "show").stdout
        for _ in range(100):
            candidate = f"10.{secrets.choice(range(200, 250))}.{secrets.randbelow(256)}"
            if not re.search(rf"(^|\s){re.escape(candidate)}\.", used, re.MULTILINE):
                return candidate
        raise RuntimeError("no free 10.x.y.0/24 subnet for the test bridge")

    def build(self) -> None:
        _ip("link", "add", self.bridge, "type", "bridge")
        self.created_bridge = True
        _ip("addr", "add", f"{self.subnet}.1/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for namespace, host_end, address in zip(self.namespaces, self.host_ends, self.addresses):
            _ip("netns", "add", namespace)
            self.created_namespaces.append(namespace)
            # The namespace end is created inside the namespace, so its name cannot collide.
            _ip("link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", namespace)
            _ip("link", "set", host_end, "master", self.bridge)
            _ip("link", "set", host_end, "up")
            _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
            _ip("-n", namespace, "link", "set", "eth0", "up")
            _ip("-n", namespace, "link", "set", "lo", "up")

    def start_servers(self) -> None:
        for index, (namespace, address) in enumerate(zip(self.namespaces, self.addresses)):
            routes = ", ".join(f'"nats-route://{other}:{CLUSTER_PORT}"' for other in self.addresses if other != address)
            config = (
                f'http: "{address}:{HTTP_PORT}"\n'
                "cluster {\n"
                f'  name: "partition"\n  listen: "{address}:{CLUSTER_PORT}"\n  routes: [{routes}]\n'
                f'  ping_interval: "{PING_INTERVAL:g}s"\n  ping_max: {PING_MAX}\n'
                "}\n"
            )
            config_path = self.workdir / f"{self.impl}-n{index}.conf"
            config_path.write_text(config)
            binary = os.path.abspath(binary_for(self.impl))  # the server's working directory is the test's
            argv = (["ip", "netns", "exec", namespace, binary, "-a", address, "-p", str(CLIENT_PORT),
                     "-n", f"n{index}", "-c", str(config_path)] + natsd_loop_args(self.impl))
            log_path = self.workdir / f"{self.impl}-n{index}.log"
            self.servers.append(ServerHandle(impl=self.impl, host=address, port=CLIENT_PORT, args=argv,
                                             proc=_spawn(argv, log_path, self.workdir), log_path=log_path))
        for server in self.servers:
            wait_until_accepting(server)

    def routez(self, index: int) -> dict:
        return monitor_json(HTTP_PORT, "/routez", host=self.addresses[index], timeout=2)

    def server_id(self, index: int) -> str:
        return monitor_json(HTTP_PORT, "/varz", host=self.addresses[index], timeout=2)["server_id"]

    def remote_ids(self, index: int) -> set[str]:
        return {route["remote_id"] for route in self.routez(index).get("routes") or []}

    def cut(self, index: int) -> None:
        """Drops node `index`'s traffic both ways, silently: its bridge port goes down."""
        _ip("link", "set", self.host_ends[index], "down")

    def restore(self, index: int) -> None:
        _ip("link", "set", self.host_ends[index], "up")

    def close(self) -> str:
        """Kills the servers and removes the namespaces and the bridge; returns the servers' logs."""
        logs = []
        for server in self.servers:
            server.kill()
            logs.append(f"--- {server.impl} {' '.join(server.args)} ---\n{server.log}")
        for namespace in self.created_namespaces:  # deleting a namespace deletes its veth pair
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=10)
        if self.created_bridge:
            subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, timeout=10)
        return "\n".join(logs)


@pytest.fixture
def partitionable(impl, tmp_path, request):
    problem = _netns_problem()
    if problem:
        pytest.skip(f"partition test skipped: {problem}")
    setup = Partitionable(impl, tmp_path)
    try:
        setup.build()
        yield setup
    finally:
        logs = setup.close()
        failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
        if failed:
            print(logs)


@pytest.fixture(scope="module", autouse=True)
def heal_table(request):
    yield
    if not HEAL_TIMES:
        return
    lines = [
        "", f"partition of one node of 3 (cluster ping_interval {PING_INTERVAL:g}s, ping_max {PING_MAX}; "
        f"stale bound {STALE_BOUND:g}s + {STALE_MARGIN:g}s)",
        f"{'server':<12} {'stale route gone (s)':>21} {'mesh healed (s)':>16}",
    ] + [f"{impl:<12} {stale:>21.2f} {heal:>16.2f}" for impl, (stale, heal) in sorted(HEAL_TIMES.items())]
    # Shown without -s too: output capture is suspended while the table is printed.
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\n".join(lines))


async def _until(check, timeout: float, what: str):
    """Polls `check()` every 50 ms until truthy (errors count as not yet); fails after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as error:  # a monitoring request to a node whose link is down
            last = error
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout}s; last: {last!r}")


async def _connect(address: str):
    return await nats.connect(f"nats://{address}:{CLIENT_PORT}", allow_reconnect=False, connect_timeout=2)


async def _flows_everywhere(clients, round_number: int, received: list[set[str]]) -> bool:
    """Publishes `heal.<round>.<from>` from every node; true once every node received the two others'."""
    for index, client in enumerate(clients):
        await client.publish(f"heal.{round_number}.{index}", b"")
        await client.flush(timeout=2)
    await asyncio.sleep(0.1)
    return all(
        {f"heal.{round_number}.{other}" for other in range(3) if other != index} <= received[index]
        for index in range(3)
    )


async def test_silent_partition_is_detected_and_heals(partitionable):
    setup = partitionable
    setup.start_servers()
    ids = [setup.server_id(index) for index in range(3)]
    await _until(lambda: all(setup.remote_ids(i) == set(ids) - {ids[i]} for i in range(3)), 10, "the full mesh")

    # Traffic between the two healthy nodes, both ways, for the whole partition.
    a, b = await _connect(setup.addresses[0]), await _connect(setup.addresses[1])
    got_at_b: list[tuple[int, float]] = []
    got_at_a: list[tuple[int, float]] = []
    await b.subscribe("part.ab", cb=functools.partial(_note, got_at_b))
    await a.subscribe("part.ba", cb=functools.partial(_note, got_at_a))
    await b.flush()
    await a.flush()
    for sequence in range(1, 1000):  # interest crosses the route: probe until one arrives each way
        await a.publish("part.ab", str(-sequence).encode())
        await b.publish("part.ba", str(-sequence).encode())
        await asyncio.sleep(0.02)
        if got_at_a and got_at_b:
            break
    assert got_at_a and got_at_b, "no traffic between the two healthy nodes before the partition"
    got_at_a.clear()
    got_at_b.clear()
    sent = 0
    stop = asyncio.Event()

    async def publish_steadily():
        nonlocal sent
        while not stop.is_set():
            sent += 1
            await a.publish("part.ab", str(sent).encode())
            await b.publish("part.ba", str(sent).encode())
            await asyncio.sleep(PUBLISH_EVERY)

    publisher = asyncio.create_task(publish_steadily())
    try:
        await asyncio.sleep(0.3)
        cut_at = time.monotonic()
        setup.cut(2)
        await _until(lambda: all(ids[2] not in setup.remote_ids(i) for i in (0, 1)),
                     STALE_BOUND + STALE_MARGIN + 2, "the stale route to the cut node gone from n0 and n1")
        stale_seconds = time.monotonic() - cut_at
        assert stale_seconds <= STALE_BOUND + STALE_MARGIN, (
            f"stale route detected after {stale_seconds:.2f}s, bound {STALE_BOUND}s + {STALE_MARGIN}s")
        assert setup.remote_ids(0) == {ids[1]} and setup.remote_ids(1) == {ids[0]}, "healthy route lost"
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await publisher
    await a.flush(timeout=2)
    await b.flush(timeout=2)
    for arrivals, direction in ((got_at_b, "n0 → n1"), (got_at_a, "n1 → n0")):
        await _until(lambda arrivals=arrivals: sum(seq > 0 for seq, _ in arrivals) >= sent, 3,
                     f"all {sent} messages {direction}")
        got = [(seq, at) for seq, at in arrivals if seq > 0]  # late probes left out
        assert [seq for seq, _ in got] == list(range(1, sent + 1)), f"{direction} lost or reordered messages"
        gaps = [later - earlier for (_, earlier), (_, later) in zip(got, got[1:])]
        assert max(gaps) < 1.0, f"{direction} stalled for {max(gaps):.2f}s during the partition"

    # The link comes back: all routes and traffic across all three nodes.
    restored_at = time.monotonic()
    setup.restore(2)
    await _until(lambda: all(setup.remote_ids(i) == set(ids) - {ids[i]} for i in range(3)), HEAL_TIMEOUT,
                 "all routes back")
    clients = [a, b, await _until_connected(setup.addresses[2], restored_at + HEAL_TIMEOUT)]
    received: list[set[str]] = [set(), set(), set()]
    for index, client in enumerate(clients):
        await client.subscribe("heal.>", cb=functools.partial(_collect, received[index]))
        await client.flush()
    round_number = 0
    while not await _flows_everywhere(clients, round_number, received):
        round_number += 1
        assert time.monotonic() - restored_at < HEAL_TIMEOUT, f"messages do not cross all three nodes: {received}"
    heal_seconds = time.monotonic() - restored_at
    HEAL_TIMES[setup.impl] = (stale_seconds, heal_seconds)
    print(f"{setup.impl}: stale route gone after {stale_seconds:.2f}s, mesh healed {heal_seconds:.2f}s after the link")
    for client in clients:
        await client.close()


async def _note(into: list[tuple[int, float]], msg) -> None:
    """Records a steady message (positive sequence) or a probe (negative) with its arrival time."""
    into.append((int(msg.data), time.monotonic()))


async def _collect(into: set[str], msg) -> None:
    into.add(msg.subject)


async def _until_connected(address: str, deadline: float):
    """A client on `address`, retried until `deadline` (the link may still be settling)."""
    while True:
        try:
            return await _connect(address)
        except Exception:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.1)
