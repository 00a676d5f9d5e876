"""Authentication: user/password, token, bcrypt password, timeouts and violations."""

import asyncio

import bcrypt
import nats
import pytest

from nats_helpers import flushed
from raw_client import RawClient

VIOLATION = b"-ERR 'Authorization Violation'\r\n"


@pytest.fixture
def user_server(start):
    return start("--user", "alice", "--pass", "s3cret")


@pytest.fixture
def token_server(start):
    return start("--auth", "t0ken")


@pytest.fixture
def bcrypt_server(start):
    hashed = bcrypt.hashpw(b"hashed-pw", bcrypt.gensalt(rounds=6, prefix=b"2a")).decode()
    assert hashed.startswith("$2a$06$")
    return start("--user", "bob", "--pass", hashed)


async def connect_raw(server, options: bytes) -> RawClient:
    client = await RawClient.open(server.port)
    await client.send(b"CONNECT " + options + b"\r\nPING\r\n")
    return client


async def test_info_announces_auth_required(user_server):
    client = await RawClient.open(user_server.port)
    assert client.info["auth_required"] is True
    await client.close()


@pytest.mark.parametrize(
    "options, accepted",
    [
        (b'{"verbose":false,"user":"alice","pass":"s3cret"}', True),
        (b'{"verbose":false,"user":"alice","pass":"wrong"}', False),
        (b'{"verbose":false,"user":"mallory","pass":"s3cret"}', False),
        (b'{"verbose":false}', False),
        (b'{"verbose":false,"auth_token":"s3cret"}', False),
    ],
)
async def test_user_password_raw(user_server, options, accepted):
    client = await connect_raw(user_server, options)
    if accepted:
        await client.expect(b"PONG\r\n")
    else:
        await client.expect(VIOLATION)
        await client.expect_closed()
    await client.close()


@pytest.mark.parametrize(
    "options, accepted",
    [
        (b'{"verbose":false,"auth_token":"t0ken"}', True),
        (b'{"verbose":false,"auth_token":"nope"}', False),
        (b'{"verbose":false}', False),
    ],
)
async def test_token_raw(token_server, options, accepted):
    client = await connect_raw(token_server, options)
    if accepted:
        await client.expect(b"PONG\r\n")
    else:
        await client.expect(VIOLATION)
        await client.expect_closed()
    await client.close()


@pytest.mark.parametrize(
    "options, accepted",
    [
        (b'{"verbose":false,"user":"bob","pass":"hashed-pw"}', True),
        (b'{"verbose":false,"user":"bob","pass":"hashed-pwx"}', False),
    ],
)
async def test_bcrypt_password_raw(bcrypt_server, options, accepted):
    client = await connect_raw(bcrypt_server, options)
    if accepted:
        await client.expect(b"PONG\r\n")
    else:
        await client.expect(VIOLATION)
        await client.expect_closed()
    await client.close()


@pytest.mark.parametrize("first", [b"PING\r\n", b"SUB foo 1\r\n", b"PUB foo 0\r\n\r\n"])
async def test_operation_before_connect_is_violation(user_server, first):
    client = await RawClient.open(user_server.port)
    await client.send(first)
    await client.expect(VIOLATION)
    await client.expect_closed()
    await client.close()


@pytest.mark.slow
async def test_authentication_timeout(user_server):
    client = await RawClient.open(user_server.port)
    await client.expect_nothing(1.0)
    await client.expect(b"-ERR 'Authentication Timeout'\r\n", timeout=5)
    await client.expect_closed()
    await client.close()


async def test_no_auth_timeout_without_auth(server):
    client = await RawClient.open(server.port)
    await asyncio.sleep(2.6)
    await client.expect_open()
    await client.close()


async def pubsub_roundtrip(nc) -> None:
    got = asyncio.get_running_loop().create_future()

    async def handler(msg):
        if not got.done():
            got.set_result(msg.data)

    await nc.subscribe("auth.ok", cb=handler)
    await flushed(nc)
    await nc.publish("auth.ok", b"yes")
    assert await asyncio.wait_for(got, 3) == b"yes"


async def test_nats_py_user_password(user_server, client):
    await pubsub_roundtrip(await client(user_server, user="alice", password="s3cret"))


async def test_nats_py_credentials_in_url(user_server):
    nc = await nats.connect(servers=[f"nats://alice:s3cret@127.0.0.1:{user_server.port}"],
                            allow_reconnect=False, connect_timeout=2)
    try:
        await pubsub_roundtrip(nc)
    finally:
        await nc.close()


async def test_nats_py_token_and_bcrypt(token_server, bcrypt_server, client):
    await pubsub_roundtrip(await client(token_server, token="t0ken"))
    await pubsub_roundtrip(await client(bcrypt_server, user="bob", password="hashed-pw"))


@pytest.mark.parametrize("which", ["user", "token", "bcrypt"])
async def test_nats_py_refused_with_wrong_credentials(user_server, token_server, bcrypt_server, client, which):
    target, kwargs = {
        "user": (user_server, {"user": "alice", "password": "bad"}),
        "token": (token_server, {"token": "bad"}),
        "bcrypt": (bcrypt_server, {"user": "bob", "password": "bad"}),
    }[which]
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await client(target, **kwargs)
