"""Input split at arbitrary points, and random garbage from many connections."""

import asyncio
import random

import pytest

from nats_helpers import flushed
from raw_client import RawClient

HEADERS = b"NATS/1.0\r\nK: v\r\n\r\n"
# The queue group's name does not show in the output; each connection of `test_every_single_split_point`
# uses its own (same length), so no group member left over from the previous connection — whose close the
# server may not have processed yet, on another thread — can take this connection's message.
PIPELINE_TEMPLATE = (
    b'CONNECT {"verbose":true,"pedantic":false,"headers":true,"echo":true}\r\n'
    b"SUB foo 1\r\n"
    b"SUB bar.* %(queue)s 2\r\n"
    b"PING\r\n"
    b"PUB foo 5\r\nhello\r\n"
    b"PUB bar.x reply.to 0\r\n\r\n"
    b"HPUB foo %d %d\r\n%sworld\r\n"
    b"UNSUB 1\r\n"
    b"PUB foo 3\r\nnot\r\n"
    b"PING\r\n"
).replace(b"%(queue)s", b"%s")


def pipeline(queue: bytes = b"q000") -> bytes:
    return PIPELINE_TEMPLATE % (queue, len(HEADERS), len(HEADERS) + 5, HEADERS)


PIPELINE = pipeline()
EXPECTED = (
    b"+OK\r\n+OK\r\n+OK\r\nPONG\r\n"
    b"+OK\r\nMSG foo 1 5\r\nhello\r\n"
    b"+OK\r\nMSG bar.x 2 reply.to 0\r\n\r\n"
    b"+OK\r\nHMSG foo 1 %d %d\r\n%sworld\r\n"
    b"+OK\r\n"
    b"+OK\r\n"
    b"PONG\r\n"
) % (len(HEADERS), len(HEADERS) + 5, HEADERS)


async def run_pipeline(port: int, chunks: list[bytes]) -> bytes:
    client = await RawClient.open(port)
    try:
        for chunk in chunks:
            await client.send(chunk)
            await asyncio.sleep(0)
        # Everything ends with the second PONG.
        data = bytearray()
        while data.count(b"PONG\r\n") < 2:
            data += await client.read_until(b"PONG\r\n", timeout=10)
        return bytes(data)
    finally:
        await client.close()


def random_chunks(data: bytes, rng: random.Random, largest: int) -> list[bytes]:
    chunks, index = [], 0
    while index < len(data):
        size = rng.randint(1, largest)
        chunks.append(data[index:index + size])
        index += size
    return chunks


async def test_pipeline_sent_whole(server):
    assert await run_pipeline(server.port, [PIPELINE]) == EXPECTED


async def test_pipeline_sent_one_byte_at_a_time(server):
    chunks = [PIPELINE[i:i + 1] for i in range(len(PIPELINE))]
    assert await run_pipeline(server.port, chunks) == EXPECTED


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
async def test_pipeline_sent_in_random_chunks(server, seed):
    rng = random.Random(seed)
    assert await run_pipeline(server.port, random_chunks(PIPELINE, rng, 17)) == EXPECTED


async def test_every_single_split_point(server):
    """The pipeline cut in two at every byte offset, each cut on its own connection."""
    step = 1 if len(PIPELINE) < 400 else 3
    for cut in range(1, len(PIPELINE), step):
        data = pipeline(b"q%03d" % cut)
        output = await run_pipeline(server.port, [data[:cut], data[cut:]])
        assert output == EXPECTED, f"split at {cut}"


def garbage(rng: random.Random) -> bytes:
    """Random bytes, sometimes behind a plausible verb so the parser gets past the first state."""
    prefixes = [b"", b"PUB ", b"SUB ", b"HPUB ", b"UNSUB ", b"CONNECT ", b"CONNECT {", b"PING",
                b"PUB foo 10\r\n", b"HPUB foo 5 10\r\n", b"MSG ", b"INFO ", b"+OK", b"-ERR "]
    noise_alphabet = b" \t\r\n.*>0123456789abcfooPUBSUB{}\"\xff\x00"
    body = bytes(rng.choice(noise_alphabet) if rng.random() < 0.6 else rng.randrange(256)
                 for _ in range(rng.randint(1, 3000)))
    return rng.choice(prefixes) + body


async def test_random_garbage_does_not_kill_server(server, client):
    rng = random.Random(20240611)

    async def one_connection(index: int) -> None:
        try:
            reader, writer = await asyncio.open_connection(server.host, server.port)
        except OSError:
            return
        try:
            if index % 3 == 0:
                writer.write(b'CONNECT {"verbose":false,"headers":true}\r\n')
            for _ in range(rng.randint(1, 4)):
                writer.write(garbage(rng))
                await writer.drain()
            await asyncio.wait_for(reader.read(65536), 0.2)
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            writer.close()

    for batch in range(4):
        await asyncio.gather(*(one_connection(batch * 50 + i) for i in range(50)))

    assert server.alive(), server.log
    nc = await client()
    got = asyncio.get_running_loop().create_future()

    async def handler(msg):
        if not got.done():
            got.set_result(msg.data)

    await nc.subscribe("after.garbage", cb=handler)
    await flushed(nc)
    await nc.publish("after.garbage", b"still alive")
    assert await asyncio.wait_for(got, 5) == b"still alive"
