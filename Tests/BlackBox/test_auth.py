"""Authentication: user/password, users lists, token, bcrypt password, timeouts and violations."""

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


BOB_HASH = bcrypt.hashpw(b"bob-pw", bcrypt.gensalt(rounds=6, prefix=b"2a")).decode()


@pytest.fixture
def users_server(start):
    # A plain users list (issue 6, point 10): one plain and one bcrypt password; the hash unquoted, as
    # nats-server's docs write it.
    return start(config=(
        "authorization {\n"
        "  users = [\n"
        "    {user: alice, password: \"alice-pw\"}\n"
        f"    {{user: bob, password: {BOB_HASH}}}\n"
        "  ]\n"
        "}\n"
    ))


async def test_info_announces_auth_required(user_server):
    client = await RawClient.open(user_server.port)
    assert client.info["auth_required"] is True
    await client.close()


@pytest.mark.parametrize(
    "server_fixture, options, accepted",
    [
        ("user_server", b'{"verbose":false,"user":"alice","pass":"s3cret"}', True),
        ("user_server", b'{"verbose":false,"user":"alice","pass":"wrong"}', False),
        ("user_server", b'{"verbose":false,"user":"mallory","pass":"s3cret"}', False),
        ("user_server", b'{"verbose":false}', False),
        ("user_server", b'{"verbose":false,"auth_token":"s3cret"}', False),
        ("token_server", b'{"verbose":false,"auth_token":"t0ken"}', True),
        ("token_server", b'{"verbose":false,"auth_token":"nope"}', False),
        ("token_server", b'{"verbose":false}', False),
        ("bcrypt_server", b'{"verbose":false,"user":"bob","pass":"hashed-pw"}', True),
        ("bcrypt_server", b'{"verbose":false,"user":"bob","pass":"hashed-pwx"}', False),
        # A NUL never ends the password early (issue 6, point 9): C's crypt_r would stop reading at it.
        ("bcrypt_server", b'{"verbose":false,"user":"bob","pass":"hashed-pw\\u0000anything"}', False),
        ("bcrypt_server", b'{"verbose":false,"user":"bob","pass":"hashed-pw\\u0000"}', False),
        ("user_server", b'{"verbose":false,"user":"alice","pass":"s3cret\\u0000"}', False),
        ("token_server", b'{"verbose":false,"auth_token":"t0ken\\u0000x"}', False),
        ("users_server", b'{"verbose":false,"user":"alice","pass":"alice-pw"}', True),
        ("users_server", b'{"verbose":false,"user":"bob","pass":"bob-pw"}', True),
        ("users_server", b'{"verbose":false,"user":"alice","pass":"bob-pw"}', False),
        ("users_server", b'{"verbose":false,"user":"bob","pass":"alice-pw"}', False),
        ("users_server", b'{"verbose":false,"user":"bob","pass":"bob-pw\\u0000x"}', False),
        ("users_server", b'{"verbose":false,"user":"carol","pass":"alice-pw"}', False),
        ("users_server", b'{"verbose":false}', False),
        ("users_server", b'{"verbose":false,"auth_token":"alice-pw"}', False),
    ],
)
async def test_credentials_raw(request, impl, server_fixture, options, accepted):
    # `impl` is named so the test runs per implementation; the server fixture is looked up by name.
    client = await RawClient.open(request.getfixturevalue(server_fixture).port)
    await client.send(b"CONNECT " + options + b"\r\nPING\r\n")
    if accepted:
        await client.expect(b"PONG\r\n")
    else:
        await client.expect_then_closed(VIOLATION)
    await client.close()


@pytest.mark.parametrize("first", [b"PING\r\n", b"SUB foo 1\r\n", b"PUB foo 0\r\n\r\n"])
async def test_operation_before_connect_is_violation(user_server, first):
    client = await RawClient.open(user_server.port)
    await client.send(first)
    await client.expect_then_closed(VIOLATION)
    await client.close()


@pytest.mark.slow
async def test_authentication_timeout(user_server):
    client = await RawClient.open(user_server.port)
    await client.expect_nothing(1.0)
    await client.expect_then_closed(b"-ERR 'Authentication Timeout'\r\n", timeout=5)
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


async def test_nats_py_users_list(users_server, client):
    await pubsub_roundtrip(await client(users_server, user="alice", password="alice-pw"))
    await pubsub_roundtrip(await client(users_server, user="bob", password="bob-pw"))


@pytest.mark.parametrize(
    "server_fixture, credentials",
    [
        ("users_server", {"user": "alice", "password": "bob-pw"}),
        ("users_server", {"user": "bob", "password": "bad"}),
        ("user_server", {"user": "alice", "password": "bad"}),
        ("token_server", {"token": "bad"}),
        ("bcrypt_server", {"user": "bob", "password": "bad"}),
    ],
)
async def test_nats_py_refused_with_wrong_credentials(request, client, server_fixture, credentials):
    # Only the server under test is started.
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await client(request.getfixturevalue(server_fixture), **credentials)
