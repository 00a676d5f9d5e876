"""Fixtures of the black-box suite.

Every test that uses `impl` (directly or through `server` / `start`) runs once per server
implementation: `natsd` (binary from env NATSD_BIN, default .build/debug/natsd) and the reference
`nats-server` (.venv/bin/nats-server, else PATH). Env BLACKBOX_IMPLS=nats-server restricts the list.
A missing binary is an error, never a skip.
"""

from __future__ import annotations

from typing import Awaitable, Callable

import pytest

from raw_client import RawClient
from server_process import ServerHandle, binary_for, selected_impls, start_server


@pytest.fixture(params=selected_impls())
def impl(request) -> str:
    """Name of the implementation under test; fails if its binary is missing."""
    binary_for(request.param)
    return request.param


@pytest.fixture
def start(impl, tmp_path, request) -> Callable[..., ServerHandle]:
    """Factory: `start(*extra_args, config=None, port=None)` starts one more server of the current
    implementation. Without `port` the server picks its ports (`-p -1`; pass `-m -1` or a cluster
    URL with port -1 the same way) and the handle reports them from its ports file (`port`,
    `monitoring_port`, `cluster_port`). To restart a server on the same port, give `port=free_port()`.
    Every server is killed at teardown; its log is printed when the test failed."""
    handles: list[ServerHandle] = []

    def factory(*extra_args: str, config: str | None = None, port: int | None = None) -> ServerHandle:
        handle = start_server(impl, list(extra_args), config=config, workdir=tmp_path, port=port)
        handles.append(handle)
        return handle

    yield factory
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for handle in handles:
        handle.kill()
        if failed:
            print(f"--- {handle.impl} log ({' '.join(handle.args)}) ---\n{handle.log}")


@pytest.fixture
def server(start) -> ServerHandle:
    """A server of the current implementation with default options."""
    return start()


@pytest.fixture
async def raw(server) -> Callable[..., Awaitable[RawClient]]:
    """Factory of raw connections to `server`: `await raw()` reads INFO only,
    `await raw(connect={...})` also completes a quiet CONNECT + PING/PONG. All are closed at teardown."""
    clients: list[RawClient] = []

    async def factory(connect: dict | None = None, port: int | None = None, **kwargs) -> RawClient:
        target = port or server.port
        if connect is None:
            client = await RawClient.open(target, **kwargs)
        else:
            client = await RawClient.connected(target, connect, **kwargs)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Records each phase's report on the item so fixtures can tell whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


async def _open_nats(url: str, opened: list, **kwargs):
    """One nats-py connection without reconnects; errors are recorded on `nc.recorded_errors`."""
    import nats

    errors: list[Exception] = []

    async def record_error(error: Exception) -> None:
        errors.append(error)

    options = {"allow_reconnect": False, "connect_timeout": 2, "max_reconnect_attempts": 0,
               "error_cb": record_error}
    options.update(kwargs)
    nc = await nats.connect(servers=[url], **options)
    nc.recorded_errors = errors
    opened.append(nc)
    return nc


async def _close_all(opened: list) -> None:
    for nc in opened:
        try:
            await nc.close()
        except Exception:
            pass


@pytest.fixture
async def client(server):
    """Factory of nats-py connections to `server` (no reconnects, errors recorded on
    `nc.recorded_errors`); `await client(server=other, **connect_kwargs)`. Closed at teardown."""
    opened = []

    async def factory(target: ServerHandle | None = None, **kwargs):
        return await _open_nats((target or server).url, opened, **kwargs)

    yield factory
    await _close_all(opened)


# ---- clusters (test_cluster_*.py) ---------------------------------------------------------------

from cluster import Cluster, selected_layouts  # noqa: E402


@pytest.fixture(params=selected_layouts())
def layout(request) -> str:
    """Which implementation runs at each cluster position (see cluster.py); binaries must exist."""
    from cluster import kinds_for

    for impl in set(kinds_for(request.param, 2)):
        binary_for(impl)
    return request.param


@pytest.fixture
def cluster(layout, tmp_path, request) -> Cluster:
    """A `Cluster` of the current layout; every node is killed at teardown, logs printed on failure."""
    owner = Cluster(layout, tmp_path)
    yield owner
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    owner.close(failed)


@pytest.fixture
async def connect():
    """Factory of nats-py connections to any node: `await connect(node, **kwargs)`; closed at teardown."""
    opened = []

    async def factory(node, **kwargs):
        return await _open_nats(node.url, opened, **kwargs)

    yield factory
    await _close_all(opened)
