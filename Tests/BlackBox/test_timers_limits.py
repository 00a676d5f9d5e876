"""Server-side timers and limits: keep-alive PINGs, stale connections, slow consumers,
maximum connections. Options without a flag are set through a config file (`-c`)."""

import asyncio
import re
import time

import pytest

from monitor_http import monitor_json
from nats_helpers import flushed
from raw_client import RawClient
from server_process import wait_for

QUIET_CONNECT = b'CONNECT {"verbose":false,"pedantic":false}\r\n'
FAST_PINGS = 'ping_interval: "1s"\n'


@pytest.mark.slow
async def test_unanswered_pings_make_connection_stale(start):
    server = start(config=FAST_PINGS)
    client = await RawClient.open(server.port)
    client.auto_pong = False
    await client.send(QUIET_CONNECT)
    await client.expect(b"PING\r\n", timeout=5)
    await client.expect(b"PING\r\n", timeout=5)
    await client.expect_then_closed(b"-ERR 'Stale Connection'\r\n", timeout=5)
    await client.close()


@pytest.mark.slow
async def test_first_ping_counts_from_connect_not_accept(start):
    # nats.c's SSLPerfConcurrentConnect (scripts/peer-suites-c.sh): on a loaded machine a TLS handshake
    # plus CONNECT took over 2 s and natsd's first PING, counted from accept, reached the client before
    # the PONG it waited for ("Expected 'PONG', got 'PING'"). nats-server runs the whole ping_interval
    # until CONNECT and the short first delay (2 s, plus up to 20%) from each CONNECT.
    server = start(config='ping_interval: "5s"\n')
    client = await RawClient.open(server.port)
    client.auto_pong = False
    before_connect = await client.read_for(2.5)
    assert before_connect == b"", f"sent before CONNECT: {before_connect!r}"
    await client.send(QUIET_CONNECT)
    connected_at = time.monotonic()
    await client.expect(b"PING\r\n", timeout=5)
    assert time.monotonic() - connected_at >= 1.8
    await client.close()


@pytest.mark.slow
async def test_answered_pings_keep_connection(start):
    server = start(config=FAST_PINGS)
    client = await RawClient.open(server.port)
    client.auto_pong = False
    await client.send(QUIET_CONNECT)
    for _ in range(3):
        await client.expect(b"PING\r\n", timeout=5)
        await client.send(b"PONG\r\n")
    await client.expect_open()
    await client.close()


@pytest.mark.slow
async def test_slow_consumer_is_disconnected_while_others_keep_receiving(start, client):
    server = start(config="max_pending: 100KB\nmax_payload: 64KB\n")
    slow = await RawClient.open(server.port, rcvbuf=4096)
    await slow.send(QUIET_CONNECT + b"SUB flood 1\r\nPING\r\n")
    await slow.expect(b"PONG\r\n")

    fast = await client(server)
    received = 0
    all_in = asyncio.Event()
    total = 12000  # 12 MB: more than kernel socket buffers can hide

    async def count(msg):
        nonlocal received
        received += 1
        if received == total:
            all_in.set()

    await fast.subscribe("flood", cb=count, pending_bytes_limit=-1, pending_msgs_limit=-1)
    await flushed(fast)

    publisher = await client(server)
    payload = b"x" * 1024
    batch = 40  # well under max_pending, so the fast subscriber never falls behind by that much
    for sent in range(batch, total + 1, batch):
        for _ in range(batch):
            await publisher.publish("flood", payload)
        await publisher.flush()
        while received < sent - batch:  # pace the flood on the fast reader, not on the slow one
            await asyncio.sleep(0.001)
    await asyncio.wait_for(all_in.wait(), 20)
    assert fast.is_connected and publisher.is_connected

    # The slow reader gets what was already in flight, then EOF, and never an -ERR.
    leftover = await slow.expect_closed(timeout=10, allow_data=True)
    assert b"-ERR" not in leftover
    assert len(leftover) < total * len(payload)
    await slow.close()


@pytest.mark.slow
async def test_write_deadline_closes_a_reader_that_stopped(start):
    # Far below max_pending: only the write deadline can end this connection.
    server = start(config='write_deadline: "1s"\n')
    stuck = await RawClient.open(server.port, rcvbuf=4096)
    await stuck.send(QUIET_CONNECT + b"SUB flood 1\r\nPING\r\n")
    await stuck.expect(b"PONG\r\n")
    publisher = await RawClient.connected(server.port)
    frame = b"PUB flood 8192\r\n" + b"x" * 8192 + b"\r\n"
    for _ in range(8):  # 16 MB in 2 MB writes: more than the kernel buffers hold
        await publisher.send(frame * 256)
    await publisher.send(b"PING\r\n")
    await publisher.expect(b"PONG\r\n", timeout=15)
    # Not reading for well past the deadline; reading now would let the output move again.
    await asyncio.sleep(4)
    # The stuck reader was closed (what was in flight arrives first, never an -ERR), the publisher not.
    leftover = await stuck.expect_closed(timeout=15, allow_data=True)
    assert b"-ERR" not in leftover
    assert len(leftover) < 8 * 256 * len(frame)
    await publisher.send(b"PING\r\n")
    await publisher.expect(b"PONG\r\n")
    await stuck.close()
    await publisher.close()


async def wait_for_connection_count(server, count: int, timeout: float = 5.0) -> None:
    """Polls /varz until the server counts `count` client connections (a closed one is counted
    until the server has read its EOF); fails after `timeout` seconds."""
    def connections() -> int:
        return monitor_json(server.monitoring_port, "/varz", timeout=2)["connections"]

    deadline = time.monotonic() + timeout
    while (now := await asyncio.to_thread(connections)) != count:
        assert time.monotonic() < deadline, f"{now} connections after {timeout}s, want {count}"
        await asyncio.sleep(0.02)


async def test_maximum_connections_exceeded(start):
    server = start("-m", "-1", config="max_connections: 2\n")
    await wait_for_connection_count(server, 0)  # the readiness probe has gone
    first = await RawClient.connected(server.port)
    second = await RawClient.connected(server.port)
    third = await RawClient.open(server.port)
    await third.expect_then_closed(b"-ERR 'maximum connections exceeded'\r\n")
    # Logged as nats-server's maxConnExceeded logs it: the -ERR's text, as an error.
    wait_for(lambda: re.search(r"\[ERR\] 127\.0\.0\.1:\d+ - cid:\d+ - maximum connections exceeded$", server.log, re.M),
             timeout=5, what="the refusal logged")
    await first.expect_open()
    await second.close()
    await wait_for_connection_count(server, 1)
    fourth = await RawClient.connected(server.port)
    await fourth.expect_open()
    for connection in (first, third, fourth):
        await connection.close()
