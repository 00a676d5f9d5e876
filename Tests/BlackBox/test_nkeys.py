"""Nkey users (issue 8, point 1): INFO carries a nonce only with nkey users, the client signs it (ed25519,
base64url) and sends `nkey` and `sig` in CONNECT; nats-py with `nkeys_seed_str`; bad signatures, unknown keys
and malformed keys in the config are refused."""

from __future__ import annotations

import base64
import json

import nats
import nkeys
import pytest

from raw_client import RawClient
from test_config import run_to_exit

VIOLATION = b"-ERR 'Authorization Violation'\r\n"

# Fixed seeds, so a failure is reproducible.
SEED = nkeys.encode_seed(bytes(range(32)), nkeys.PREFIX_BYTE_USER).decode()
OTHER_SEED = nkeys.encode_seed(bytes([0xAB] * 32), nkeys.PREFIX_BYTE_USER).decode()
PUBLIC = nkeys.from_seed(SEED.encode()).public_key.decode()
OTHER_PUBLIC = nkeys.from_seed(OTHER_SEED.encode()).public_key.decode()

NKEY_CONFIG = f"""
authorization {{
  users = [
    {{nkey: {PUBLIC}, permissions: {{publish: "nk.>", subscribe: ["nk.>", "_INBOX.>"]}}}}
    {{user: alice, password: pw}}
  ]
}}
"""


def sign(seed: str, nonce: str) -> str:
    signature = nkeys.from_seed(seed.encode()).sign(nonce.encode())
    return base64.urlsafe_b64encode(signature).decode().rstrip("=")


@pytest.fixture
def nkey_server(start):
    return start(config=NKEY_CONFIG)


async def connect_raw(server, **fields) -> RawClient:
    client = await RawClient.open(server.port)
    options = {"verbose": False, "pedantic": False, **fields}
    await client.send(b"CONNECT " + json.dumps(options).encode() + b"\r\nPING\r\n")
    return client


async def test_info_carries_a_nonce_with_nkey_users(nkey_server):
    first = await RawClient.open(nkey_server.port)
    second = await RawClient.open(nkey_server.port)
    try:
        for client in (first, second):
            nonce = client.info.get("nonce")
            assert isinstance(nonce, str) and len(nonce) >= 11, client.info
            base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
            assert client.info["auth_required"] is True
        assert first.info["nonce"] != second.info["nonce"]
    finally:
        await first.close()
        await second.close()


async def test_signed_nonce_logs_in_with_the_users_permissions(nkey_server):
    client = await RawClient.open(nkey_server.port)
    nonce = client.info["nonce"]
    await client.send_connect(verbose=False, pedantic=False, nkey=PUBLIC, sig=sign(SEED, nonce))
    await client.send(b"SUB nk.> 1\r\nSUB other 2\r\nPUB nk.a 2\r\nhi\r\nPUB other 0\r\n\r\nPING\r\n")
    await client.expect(b"-ERR 'Permissions Violation for Subscription to \"other\"'\r\n")
    await client.expect(b"MSG nk.a 1 2\r\nhi\r\n")
    await client.expect(b"-ERR 'Permissions Violation for Publish to \"other\"'\r\n")
    await client.expect(b"PONG\r\n")
    await client.close()


async def test_standard_base64_signature_is_accepted(nkey_server):
    # nats-server falls back to standard (padded) base64 for `sig`.
    client = await RawClient.open(nkey_server.port)
    signature = nkeys.from_seed(SEED.encode()).sign(client.info["nonce"].encode())
    await client.send_connect(verbose=False, nkey=PUBLIC, sig=base64.b64encode(signature).decode())
    await client.send(b"PING\r\n")
    await client.expect(b"PONG\r\n")
    await client.close()


@pytest.mark.parametrize("case", ["wrong-seed", "other-nonce", "no-sig", "garbage-sig", "unknown-nkey",
                                  "nkey-with-user", "empty-sig"])
async def test_bad_nkey_logins_are_refused(nkey_server, case):
    client = await RawClient.open(nkey_server.port)
    nonce = client.info["nonce"]
    fields = {
        "wrong-seed": {"nkey": PUBLIC, "sig": sign(OTHER_SEED, nonce)},
        "other-nonce": {"nkey": PUBLIC, "sig": sign(SEED, nonce + "x")},
        "no-sig": {"nkey": PUBLIC},
        "garbage-sig": {"nkey": PUBLIC, "sig": "!!not base64!!"},
        "unknown-nkey": {"nkey": OTHER_PUBLIC, "sig": sign(OTHER_SEED, nonce)},
        # An nkey that is not configured is refused even with good user credentials beside it.
        "nkey-with-user": {"nkey": OTHER_PUBLIC, "sig": sign(OTHER_SEED, nonce), "user": "alice", "pass": "pw"},
        "empty-sig": {"nkey": PUBLIC, "sig": ""},
    }[case]
    await client.send_connect(verbose=False, **fields)
    await client.send(b"PING\r\n")
    await client.expect_then_closed(VIOLATION)
    await client.close()


async def test_password_users_beside_nkey_users(nkey_server):
    client = await connect_raw(nkey_server, **{"user": "alice", "pass": "x"})
    await client.expect_then_closed(VIOLATION)
    await client.close()
    client = await RawClient.connected(nkey_server.port, {"user": "alice", "pass": "pw"})
    await client.send(b"PUB anything 0\r\n\r\n")
    await client.expect_open()
    await client.close()


async def test_nats_py_nkey_login(nkey_server):
    nc = await nats.connect(nkey_server.url, nkeys_seed_str=SEED, allow_reconnect=False, connect_timeout=2)
    try:
        sub = await nc.subscribe("nk.echo")
        await nc.publish("nk.echo", b"signed")
        message = await sub.next_msg(timeout=2)
        assert message.data == b"signed"
    finally:
        await nc.close()


async def test_nats_py_wrong_seed_is_refused(nkey_server):
    with pytest.raises(Exception) as raised:
        await nats.connect(nkey_server.url, nkeys_seed_str=OTHER_SEED, allow_reconnect=False,
                           connect_timeout=2, max_reconnect_attempts=0)
    assert "authorization violation" in str(raised.value).lower()


async def test_nkey_no_auth_user(start):
    # no_auth_user may name an nkey user: a client without credentials logs in as it, with its permissions.
    server = start(config=NKEY_CONFIG + f"no_auth_user: {PUBLIC}\n")
    client = await RawClient.open(server.port)
    assert client.info.get("auth_required") is None
    await client.send(b'CONNECT {"verbose":false}\r\nPUB nk.x 0\r\n\r\nPUB other 0\r\n\r\nPING\r\n')
    await client.expect(b"-ERR 'Permissions Violation for Publish to \"other\"'\r\n")
    await client.expect(b"PONG\r\n")
    await client.close()


@pytest.mark.parametrize("users, message", [
    ("{nkey: UABC}", "Not a valid public nkey for a user"),
    # An account key (prefix A) is not a user key.
    ("{nkey: " + nkeys.from_seed(nkeys.encode_seed(bytes(range(32)), nkeys.PREFIX_BYTE_ACCOUNT)).public_key.decode()
     + "}", "Not a valid public nkey for a user"),
    # The last character changed: the checksum no longer matches.
    ("{nkey: " + PUBLIC[:-1] + ("A" if PUBLIC[-1] != "A" else "B") + "}", "Not a valid public nkey for a user"),
    (f"{{nkey: {PUBLIC}, user: bob}}", "Nkey users do not take usernames or passwords"),
    (f"{{nkey: {PUBLIC}}}, {{nkey: {PUBLIC}}}", "Duplicate nkey"),
])
@pytest.mark.parametrize("check_only", [False, True])
def test_malformed_nkey_users_are_refused(impl, tmp_path, users, message, check_only):
    result = run_to_exit(impl, tmp_path, f"authorization {{\n  users = [ {users} ]\n}}\n",
                         *(["-t"] if check_only else []))
    assert result.returncode != 0
    assert message in result.stderr + result.stdout, result.stderr
