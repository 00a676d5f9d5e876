"""The suite's own port handling: servers report the ports they picked, claimed ports never
collide across allocators or processes, and a restart on the same port succeeds."""

import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from port_allocator import PortAllocator, candidate_range, ephemeral_range
from raw_client import RawClient
from server_process import BIND_RETRY_SECONDS, free_port, release_port

HERE = Path(__file__).resolve().parent


async def test_server_reports_every_port_it_picked(start):
    server = start("-m", "-1", "--cluster", "nats://127.0.0.1:-1", "--cluster_name", "picked")
    assert server.port > 0 and server.monitoring_port and server.cluster_port
    assert len({server.port, server.monitoring_port, server.cluster_port}) == 3
    client = await RawClient.open(server.port)
    assert client.info["port"] == server.port
    await client.close()


async def test_restart_on_the_same_port(start):
    port = free_port()
    first = start(port=port)
    client = await RawClient.connected(first.port)  # leaves a socket on the port after the kill
    first.kill()
    await client.close()
    second = start(port=port)
    assert second.port == port and second.alive()
    release_port(port)


def listen_on(port: int) -> socket.socket:
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", port))
    blocker.listen()
    return blocker


def test_start_on_a_port_still_taken_is_retried_until_it_is_free(start):
    port = free_port()
    blocker = listen_on(port)
    timer = threading.Timer(1.0, blocker.close)
    timer.start()
    try:
        server = start(port=port)
    finally:
        timer.join()
    assert server.port == port and server.alive()
    assert "address already in use" in server.log.lower(), "the first start should have failed to bind"
    release_port(port)


@pytest.mark.slow
def test_start_on_a_port_that_stays_taken_fails_in_bounded_time(start):
    port = free_port()
    with listen_on(port):
        began = time.monotonic()
        with pytest.raises(RuntimeError, match="exited"):
            start(port=port)
        assert time.monotonic() - began < BIND_RETRY_SECONDS + 3
    release_port(port)


def test_claimed_ports_lie_below_the_ephemeral_range():
    low, high = ephemeral_range()
    ports = candidate_range((low, high))
    assert ports.stop <= low or ports.start > high
    assert candidate_range((32768, 60999)) == range(20000, 32768)
    assert candidate_range((1024, 60999)) == range(61000, 65536)
    with pytest.raises(RuntimeError):
        candidate_range((1024, 65000))


def every_port(port: int) -> bool:
    """Stands in for the bind check, so that the lock tests do not depend on what else listens."""
    return True


def test_two_allocators_never_hand_out_the_same_port(tmp_path):
    # Two allocators over one lock directory stand for two processes: each open of a lock file is
    # its own flock holder. Between them they get every port once, then nothing.
    ports = range(24100, 24110)
    first, second = PortAllocator(tmp_path, ports, every_port), PortAllocator(tmp_path, ports, every_port)
    claimed = [allocator.claim() for _ in range(5) for allocator in (first, second)]
    assert sorted(claimed) == list(ports)
    with pytest.raises(RuntimeError):
        first.claim()
    second.release(claimed[1])
    assert first.claim() == claimed[1]


def test_a_port_claimed_by_another_process_is_skipped(tmp_path):
    ports = range(24200, 24204)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            sys.path.insert(0, {str(HERE)!r})
            from pathlib import Path
            from port_allocator import PortAllocator
            allocator = PortAllocator(Path({str(tmp_path)!r}), range({ports.start}, {ports.stop}),
                                      lambda port: True)
            print(allocator.claim(), allocator.claim(), flush=True)
            sys.stdin.read()  # hold the claims until the parent closes stdin
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        held = {int(port) for port in holder.stdout.readline().split()}
        assert len(held) == 2
        mine = PortAllocator(tmp_path, ports, every_port)
        got = {mine.claim(), mine.claim()}
        assert got == set(ports) - held
        with pytest.raises(RuntimeError):
            mine.claim()
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    # The holder's claims ended with it.
    assert PortAllocator(tmp_path, ports, every_port).claim() in held


def test_a_port_someone_listens_on_is_skipped(tmp_path):
    port = free_port()  # claimed in the shared directory: no cooperating process binds it meanwhile
    only_that_port = PortAllocator(tmp_path, range(port, port + 1))
    blocker = listen_on(port)  # an unrelated program listening, without a claim
    with pytest.raises(RuntimeError):
        only_that_port.claim()
    blocker.close()
    assert only_that_port.claim() == port
    release_port(port)
