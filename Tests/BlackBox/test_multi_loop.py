"""Many event loops (issue 7): natsd runs with `--loops 4`, so on a server with four loops the clients of
one test sit on different loops (accepts are spread round robin) and messages cross loops. nats-server
runs the same tests as it is (it uses every core anyway). What must hold: per-publisher order, queue
groups exactly once, every client visible to monitoring, a clean stop."""

import asyncio
import signal
from collections import Counter

from monitor_http import monitor_json
from nats_helpers import flushed

LOOPS = ["--loops", "4"]


def loop_args(impl: str) -> list[str]:
    return LOOPS if impl == "natsd" else []


async def wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def test_per_publisher_order_holds_across_loops(impl, start, client):
    server = start(*loop_args(impl))
    publishers = [await client(server) for _ in range(4)]
    subscribers = [await client(server) for _ in range(4)]
    count = 2000
    seen: list[dict[int, list[int]]] = [{} for _ in subscribers]

    def handler_for(index: int):
        async def handler(msg):
            publisher, sequence = (int(part) for part in msg.data.split(b":"))
            seen[index].setdefault(publisher, []).append(sequence)
        return handler

    for index, nc in enumerate(subscribers):
        await nc.subscribe("order.>", cb=handler_for(index))
    await flushed(*subscribers)
    for sequence in range(count):
        for number, nc in enumerate(publishers):
            await nc.publish(f"order.{number}", f"{number}:{sequence}".encode())
    await flushed(*publishers)
    total = len(publishers) * count
    assert await wait_for(lambda: all(sum(len(v) for v in s.values()) >= total for s in seen)), \
        [sum(len(v) for v in s.values()) for s in seen]
    for received in seen:
        for number in range(len(publishers)):
            assert received[number] == list(range(count)), f"publisher {number}: out of order or lost"


async def test_queue_group_exactly_once_across_loops(impl, start, client):
    server = start(*loop_args(impl))
    members = [await client(server) for _ in range(8)]
    received: list[list[bytes]] = [[] for _ in members]

    def handler_for(index: int):
        async def handler(msg):
            received[index].append(msg.data)
        return handler

    for index, nc in enumerate(members):
        await nc.subscribe("jobs", queue="workers", cb=handler_for(index))
    await flushed(*members)
    publishers = [await client(server) for _ in range(3)]
    count = 3000
    for sequence in range(count):
        await publishers[sequence % 3].publish("jobs", str(sequence).encode())
    await flushed(*publishers)
    assert await wait_for(lambda: sum(len(r) for r in received) >= count)
    await asyncio.sleep(0.2)  # let any duplicate surface
    together = Counter(message for r in received for message in r)
    assert together == Counter(str(i).encode() for i in range(count)), "every message exactly once"
    assert min(len(r) for r in received) >= count // 8 // 3, [len(r) for r in received]


async def test_monitoring_sees_clients_of_every_loop(impl, start, client):
    server = start(*loop_args(impl), "-m", "-1")
    clients = [await client(server, name=f"c{i}") for i in range(6)]
    for index, nc in enumerate(clients):
        await nc.subscribe(f"mon.{index}")
    await flushed(*clients)
    await clients[0].publish("mon.5", b"x")
    await flushed(clients[0])
    port = server.monitoring_port
    connz = monitor_json(port, "/connz?subs=1")
    assert connz["total"] == 6
    assert sorted(c["name"] for c in connz["connections"]) == [f"c{i}" for i in range(6)]
    assert all(c["subscriptions_list"] == [f"mon.{c['name'][1:]}"] for c in connz["connections"])
    varz = monitor_json(port, "/varz")
    assert varz["connections"] == 6
    assert await wait_for(lambda: monitor_json(port, "/varz")["out_msgs"] == 1, 5)


async def test_stop_with_clients_on_every_loop(impl, start, client):
    server = start(*loop_args(impl))
    clients = [await client(server) for _ in range(8)]
    for index, nc in enumerate(clients):
        await nc.subscribe("busy")
    await flushed(*clients)
    for _ in range(200):
        await clients[0].publish("busy", b"payload")
    await flushed(clients[0])
    server.proc.send_signal(signal.SIGTERM)
    exit_code = await asyncio.to_thread(server.proc.wait, 10)
    assert exit_code == 0, server.log


async def test_fast_producer_is_paused_not_its_reading_consumer(impl, start):
    """A publisher flooding a subscriber that reads steadily but slower than the flood: the producer
    is paused (nats-server's stall) until the subscriber drains; the subscriber is never cut off as a
    slow consumer. With natsd on four loops the two sit on different loops, so the pause crosses loops."""
    from raw_client import RawClient

    server = start(*loop_args(impl), config="max_pending: 4MB\n")
    subscriber = await RawClient.open(server.port)
    await subscriber.send(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB flood 1\r\nPING\r\n')
    await subscriber.expect(b"PONG\r\n")
    publisher = await RawClient.open(server.port)
    await publisher.send(b'CONNECT {"verbose":false,"pedantic":false}\r\n')
    payload = b"x" * 1024
    frame = b"PUB flood 1024\r\n" + payload + b"\r\n"
    count = 24 * 1024  # 24 MB: six times max_pending
    expected = count * len(b"MSG flood 1 1024\r\n" + payload + b"\r\n")

    async def flood():
        for _ in range(count // 256):
            await publisher.send(frame * 256)
        await publisher.send(b"PING\r\n")

    sender = asyncio.create_task(flood())
    received = 0
    deadline = asyncio.get_running_loop().time() + 60
    while received < expected:
        assert asyncio.get_running_loop().time() < deadline, f"{received} of {expected} bytes"
        chunk = await subscriber.reader.read(64 * 1024)
        assert chunk, f"subscriber closed after {received} of {expected} bytes"
        received += len(chunk)
        await asyncio.sleep(0.0005)  # a steady reader, slower than the flood
    await sender
    await publisher.expect(b"PONG\r\n", timeout=20)
    await subscriber.close()
    await publisher.close()


async def test_queue_members_coming_and_going_across_loops(impl, start):
    """Queue group members that subscribe and disconnect at once while publishers flood the group: with
    members on every loop, a loop must never touch a member another loop is closing (a crash once)."""
    from raw_client import RawClient

    server = start(*loop_args(impl))
    publishers = []
    for _ in range(2):
        publisher = await RawClient.open(server.port)
        await publisher.send(b'CONNECT {"verbose":false,"pedantic":false}\r\n')
        publishers.append(publisher)
    frames = b"".join(b"PUB f.%d 3\r\nabc\r\n" % (i % 8) for i in range(200))
    stop = asyncio.get_running_loop().time() + 3

    async def flood(publisher):
        while asyncio.get_running_loop().time() < stop:
            await publisher.send(frames)
            await asyncio.sleep(0.001)

    async def churn(seed: int):
        rounds = 0
        while asyncio.get_running_loop().time() < stop:
            # The INFO may wait behind a loop's turn of flood reads: libuv reads a saturated socket up to
            # 32 buffers per turn, seconds in a debug build on two busy cores (well under 0.1 s in release).
            # This test is about crashes, so it waits for the INFO rather than timing it.
            member = await RawClient.open(server.port, read_info=False)
            await member.read_info(timeout=30)
            await member.send(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB f.* q 2\r\n')
            await asyncio.sleep((seed * 7 + rounds * 3) % 20 / 1000)
            await member.close()
            rounds += 1

    await asyncio.gather(*(flood(p) for p in publishers), *(churn(i) for i in range(12)))
    for publisher in publishers:
        await publisher.send(b"PING\r\n")
        await publisher.expect(b"PONG\r\n", timeout=10)
        await publisher.close()
    assert server.proc.poll() is None, server.log
