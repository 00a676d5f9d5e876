"""Users with permissions (issue 8, point 1): publish/subscribe allow and deny lists with wildcards, queue
permissions, allow_responses, default_permissions, bcrypt passwords; nats-server's -ERR texts, the connection
staying open, and wildcard subscriptions never receiving a denied subject."""

from __future__ import annotations

import asyncio
import re
import json

import bcrypt
import nats
import pytest

from raw_client import RawClient

BCRYPT_PW = bcrypt.hashpw(b"bc-pw", bcrypt.gensalt(rounds=6, prefix=b"2a")).decode()

USERS_CONFIG = f"""
authorization {{
  default_permissions = {{ publish: "default.>", subscribe: ["default.>", "_INBOX.>"] }}
  users = [
    {{user: admin, password: pw, permissions: {{publish: ">", subscribe: ">"}}}}
    {{user: pub, password: pw, permissions: {{publish: {{allow: ["foo.*", "bar.>"], deny: ["foo.secret", "bar.*.secret"]}}}}}}
    {{user: sub, password: pw, permissions: {{subscribe: {{allow: ["data.>"], deny: ["data.secret", "data.private.>"]}}}}}}
    {{user: queue, password: pw, permissions: {{subscribe: ["work.> workers", "work.open", "jobs.* v1.*"]}}}}
    {{user: qdeny, password: pw, permissions: {{subscribe: {{deny: ["work.* bad"]}}}}}}
    {{user: svc, password: pw, permissions: {{subscribe: "requests", allow_responses: true}}}}
    {{user: svc2, password: pw, permissions: {{subscribe: "requests", allow_responses: {{max: 2, expires: "1s"}}}}}}
    {{user: plain, password: pw}}
    {{user: narrow, password: pw, permissions: {{subscribe: "foo.*"}}}}
    {{user: hashed, password: {BCRYPT_PW}, permissions: {{publish: "ok.>", subscribe: "ok.>"}}}}
  ]
}}
"""


def pub_violation(subject: str) -> bytes:
    return f"-ERR 'Permissions Violation for Publish to \"{subject}\"'\r\n".encode()


def sub_violation(subject: str, queue: str | None = None) -> bytes:
    if queue is None:
        return f"-ERR 'Permissions Violation for Subscription to \"{subject}\"'\r\n".encode()
    return f"-ERR 'Permissions Violation for Subscription to \"{subject}\" using queue \"{queue}\"'\r\n".encode()


@pytest.fixture
def users_server(start):
    return start(config=USERS_CONFIG)


@pytest.fixture
async def login(users_server):
    """Factory: `await login(user, password="pw", **connect)`, a connected raw client; closed at teardown."""
    clients: list[RawClient] = []

    async def factory(user: str, password: str = "pw", **connect) -> RawClient:
        client = await RawClient.connected(users_server.port, {"user": user, "pass": password, **connect})
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()


async def subjects_received(client: RawClient) -> list[str]:
    return [message.subject for message in await client.read_messages_until_pong()]


# ---- publish -------------------------------------------------------------------------------------

async def test_publish_allow_and_deny_lists(login):
    watcher = await login("admin")
    await watcher.send(b"SUB > 1\r\nPING\r\n")
    await watcher.expect(b"PONG\r\n")
    publisher = await login("pub")
    for subject in ["foo.a", "foo.secret", "foo.a.b", "bar.x.y", "bar.x.secret", "bar", "baz"]:
        await publisher.send(f"PUB {subject} 2\r\nhi\r\n".encode())
    await publisher.send(b"PING\r\n")
    # Each refused subject gets its -ERR, in order; the connection stays open.
    for subject in ["foo.secret", "foo.a.b", "bar.x.secret", "bar", "baz"]:
        await publisher.expect(pub_violation(subject))
    await publisher.expect(b"PONG\r\n")
    await publisher.expect_open()
    assert await subjects_received(watcher) == ["foo.a", "bar.x.y"]


async def test_publish_violation_is_cached_consistently(login):
    # The second and later checks of a subject come from the per-connection cache: same answers.
    publisher = await login("pub")
    for _ in range(3):
        await publisher.send(b"PUB foo.secret 0\r\n\r\nPUB foo.ok 0\r\n\r\n")
    await publisher.send(b"PING\r\n")
    for _ in range(3):
        await publisher.expect(pub_violation("foo.secret"))
    await publisher.expect(b"PONG\r\n")


async def test_verbose_violation_gets_err_and_no_ok(users_server):
    publisher = await RawClient.open(users_server.port)
    await publisher.send(b'CONNECT {"verbose":true,"user":"pub","pass":"pw"}\r\n')
    await publisher.expect(b"+OK\r\n")
    await publisher.send(b"PUB foo.a 0\r\n\r\nPUB baz 0\r\n\r\nSUB foo.a 1\r\nPING\r\n")
    await publisher.expect(b"+OK\r\n")
    await publisher.expect(pub_violation("baz"))
    await publisher.expect(b"+OK\r\n")
    await publisher.expect(b"PONG\r\n")
    await publisher.close()


async def test_hpub_is_checked_like_pub(login):
    publisher = await login("pub", headers=True)
    await publisher.send(b"HPUB baz 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n")
    await publisher.expect(pub_violation("baz"))
    await publisher.expect(b"PONG\r\n")


# ---- subscribe -----------------------------------------------------------------------------------

async def test_subscribe_allow_and_deny_lists(login):
    subscriber = await login("sub")
    await subscriber.send(b"SUB data.a 1\r\nSUB other 2\r\nSUB data.secret 3\r\nSUB data.private.x 4\r\n"
                          b"SUB data.> 5\r\nSUB > 6\r\nPING\r\n")
    await subscriber.expect(sub_violation("other"))
    await subscriber.expect(sub_violation("data.secret"))
    await subscriber.expect(sub_violation("data.private.x"))
    await subscriber.expect(sub_violation(">"))
    await subscriber.expect(b"PONG\r\n")
    await subscriber.expect_open()


async def test_subscription_wildcards_match_permission_wildcards_token_by_token(login):
    # nats-server matches the subscribed subject against the permissions token by token: a wildcard of the
    # subscription is matched only by a wildcard of the entry (so `foo.*` admits `foo.>`, not `*.*`).
    subscriber = await login("narrow")
    await subscriber.send(b"SUB foo.bar 1\r\nSUB foo.* 2\r\nSUB foo.> 3\r\nSUB *.* 4\r\nSUB foo.bar.baz 5\r\n"
                          b"SUB > 6\r\nPING\r\n")
    await subscriber.expect(sub_violation("*.*"))
    await subscriber.expect(sub_violation("foo.bar.baz"))
    await subscriber.expect(sub_violation(">"))
    await subscriber.expect(b"PONG\r\n")


async def test_wildcard_subscription_never_receives_denied_subjects(login):
    subscriber = await login("sub")
    await subscriber.send(b"SUB data.> 1\r\nSUB data.* 2\r\nPING\r\n")
    await subscriber.expect(b"PONG\r\n")
    publisher = await login("admin")
    for subject in ["data.ok", "data.secret", "data.private.x", "data.private.y.z", "data.ok.deep"]:
        await publisher.send(f"PUB {subject} 0\r\n\r\n".encode())
    await publisher.expect_open()
    messages = await subscriber.read_messages_until_pong()
    assert sorted((m.subject, m.sid) for m in messages) == [
        ("data.ok", "1"), ("data.ok", "2"), ("data.ok.deep", "1")]


async def test_queue_permissions(login):
    worker = await login("queue")
    await worker.send(b"SUB work.a 1\r\nSUB work.a workers 2\r\nSUB work.a others 3\r\nSUB work.open 4\r\n"
                      b"SUB work.open anyq 5\r\nSUB jobs.x v1.blue 6\r\nSUB jobs.x v2 7\r\nSUB jobs.x 8\r\nPING\r\n")
    # "work.> workers" alone admits only queue "workers" on work.>, no plain subscription.
    await worker.expect(sub_violation("work.a"))
    await worker.expect(sub_violation("work.a", "others"))
    # work.open has a plain entry, but a queue subscription there must still name an allowed queue.
    await worker.expect(sub_violation("work.open", "anyq"))
    # A wildcard queue entry admits the queues it matches.
    await worker.expect(sub_violation("jobs.x", "v2"))
    await worker.expect(sub_violation("jobs.x"))
    await worker.expect(b"PONG\r\n")


async def test_queue_deny_entries(login):
    member = await login("qdeny")
    await member.send(b"SUB work.a bad 1\r\nSUB work.a good 2\r\nSUB work.a 3\r\nSUB work.> bad 4\r\nPING\r\n")
    await member.expect(sub_violation("work.a", "bad"))
    await member.expect(sub_violation("work.>", "bad"))
    await member.expect(b"PONG\r\n")


async def test_queue_deny_filters_deliveries_to_a_wider_queue_subscription(login):
    # `> bad` collides with the deny entry `work.* bad` without matching it: allowed, but a message on
    # work.a must not reach it (checked on delivery); the same subscription in queue `good` gets everything.
    member = await login("qdeny")
    await member.send(b"SUB > bad 1\r\nSUB > good 2\r\nSUB work.* 3\r\nPING\r\n")
    await member.expect(b"PONG\r\n")
    publisher = await login("admin")
    await publisher.send(b"PUB work.a 0\r\n\r\nPUB other.x 0\r\n\r\n")
    await publisher.expect_open()
    messages = await member.read_messages_until_pong()
    assert sorted((m.subject, m.sid) for m in messages) == [
        ("other.x", "1"), ("other.x", "2"), ("work.a", "2"), ("work.a", "3")]


@pytest.mark.parametrize("loops", [None, 4], ids=["loops-default", "loops4"])
async def test_a_queue_member_that_may_not_receive_the_subject_is_passed_over(impl, start, loops):
    # Both members are in queue `bad`; qdeny's deny entry `work.* bad` refuses work.a to it. nats-server
    # tries the next member of the group, so every message reaches admin's member: none is lost. With
    # four natsd loops the two members sit on different loops (picked on one, refused on the other).
    server = start(*(["--loops", str(loops)] if loops and impl == "natsd" else []), config=USERS_CONFIG)
    clients = [await RawClient.connected(server.port, {"user": user, "pass": "pw"}) for user in ("qdeny", "admin", "admin")]
    try:
        refusing, member, publisher = clients
        for client in (refusing, member):
            await client.send(b"SUB > bad 1\r\nPING\r\n")
            await client.expect(b"PONG\r\n")
        count = 200
        await publisher.send(b"PUB work.a 1\r\nx\r\n" * count + b"PING\r\n")
        await publisher.expect(b"PONG\r\n")
        # A message passed over crosses loops twice: read until all arrived (bounded), then check none more.
        received = []
        deadline = asyncio.get_running_loop().time() + 5
        while len(received) < count and asyncio.get_running_loop().time() < deadline:
            received += await member.read_messages_until_pong()
        refused = await refusing.read_messages_until_pong()
        assert refused == []
        assert len(received) == count, f"{count - len(received)} messages lost to the refusing member"
    finally:
        for client in clients:
            await client.close()


async def test_reserved_system_queue_is_refused(login):
    member = await login("admin")
    await member.send(b"SUB foo _sys_ 1\r\nPING\r\n")
    await member.expect(sub_violation("foo", "_sys_"))
    await member.expect(b"PONG\r\n")


# ---- allow_responses ------------------------------------------------------------------------------

async def request_and_reply(requester: RawClient, service: RawClient, reply: str, answers: int) -> None:
    await requester.send(f"PUB requests {reply} 3\r\nreq\r\n".encode())
    await service.expect(f"MSG requests 1 {reply} 3\r\nreq\r\n".encode())
    for _ in range(answers):
        await service.send(f"PUB {reply} 3\r\nrep\r\n".encode())


async def test_allow_responses_grants_one_reply(login):
    requester = await login("admin")
    await requester.send(b"SUB _INBOX.> 9\r\nPING\r\n")
    await requester.expect(b"PONG\r\n")
    service = await login("svc")
    await service.send(b"SUB requests 1\r\nPING\r\n")
    await service.expect(b"PONG\r\n")
    await request_and_reply(requester, service, "_INBOX.r1", answers=2)
    await service.send(b"PUB _INBOX.never 0\r\n\r\nPUB requests 0\r\n\r\nPING\r\n")
    # One reply per request by default; nothing else may be published.
    await service.expect(pub_violation("_INBOX.r1"))
    await service.expect(pub_violation("_INBOX.never"))
    await service.expect(pub_violation("requests"))
    await service.expect(b"PONG\r\n")
    assert [(m.subject, m.payload) for m in await requester.read_messages_until_pong()] == [("_INBOX.r1", b"rep")]


async def test_allow_responses_max_and_expires(login):
    requester = await login("admin")
    await requester.send(b"SUB _INBOX.> 9\r\nPING\r\n")
    await requester.expect(b"PONG\r\n")
    service = await login("svc2")
    await service.send(b"SUB requests 1\r\nPING\r\n")
    await service.expect(b"PONG\r\n")
    await request_and_reply(requester, service, "_INBOX.a", answers=3)
    await service.send(b"PING\r\n")
    await service.expect(pub_violation("_INBOX.a"))
    await service.expect(b"PONG\r\n")
    # A grant older than `expires` (1 s) is gone.
    await requester.send(b"PUB requests _INBOX.b 3\r\nreq\r\n")
    await service.expect(b"MSG requests 1 _INBOX.b 3\r\nreq\r\n")
    await asyncio.sleep(1.5)
    await service.send(b"PUB _INBOX.b 0\r\n\r\nPING\r\n")
    await service.expect(pub_violation("_INBOX.b"))
    await service.expect(b"PONG\r\n")
    replies = [m.subject for m in await requester.read_messages_until_pong()]
    assert replies == ["_INBOX.a", "_INBOX.a"]


# ---- default_permissions, bcrypt, nats-py ------------------------------------------------------------

async def test_default_permissions_apply_to_users_without_their_own(login):
    user = await login("plain")
    await user.send(b"PUB default.x 0\r\n\r\nPUB other 0\r\n\r\nSUB default.> 1\r\nSUB other 2\r\nPING\r\n")
    await user.expect(pub_violation("other"))
    await user.expect(sub_violation("other"))
    await user.expect(b"PONG\r\n")


async def test_bcrypt_user_with_permissions(login, users_server):
    user = await login("hashed", "bc-pw")
    await user.send(b"PUB ok.1 0\r\n\r\nPUB no 0\r\n\r\nPING\r\n")
    await user.expect(pub_violation("no"))
    await user.expect(b"PONG\r\n")
    wrong = await RawClient.open(users_server.port)
    await wrong.send(b'CONNECT {"verbose":false,"user":"hashed","pass":"pw"}\r\nPING\r\n')
    await wrong.expect_then_closed(b"-ERR 'Authorization Violation'\r\n")
    await wrong.close()


async def test_nats_py_sees_violation_and_keeps_the_connection(users_server):
    errors: list[Exception] = []

    async def on_error(error: Exception) -> None:
        errors.append(error)

    nc = await nats.connect(users_server.url, user="pub", password="pw", allow_reconnect=False,
                            connect_timeout=2, error_cb=on_error)
    try:
        await nc.publish("baz", b"x")
        await nc.flush(timeout=2)
        for _ in range(50):
            if errors:
                break
            await asyncio.sleep(0.05)
        assert any('permissions violation for publish to "baz"' in str(e).lower() for e in errors), errors
        assert nc.is_connected
        await nc.publish("foo.a", b"x")
        await nc.flush(timeout=2)
    finally:
        await nc.close()


# ---- natsd-only: the block's permissions without a users list ------------------------------------------

@pytest.mark.parametrize("credentials, connect", [
    ("user: alice\n  password: pw\n", {"user": "alice", "pass": "pw"}),
    ("token: t0ken\n", {"auth_token": "t0ken"}),
    ("", {}),
])
async def test_block_permissions_bind_clients_outside_a_users_list(impl, start, credentials, connect):
    if impl != "natsd":
        pytest.skip("natsd-only: nats-server reads these permissions and applies them to no one (fail-open)")
    server = start(config=f"authorization {{\n  {credentials}  permissions: {{publish: \"ok\"}}\n}}\n")
    client = await RawClient.connected(server.port, connect)
    await client.send(b"PUB ok 0\r\n\r\nPUB other 0\r\n\r\nPING\r\n")
    await client.expect(pub_violation("other"))
    await client.expect(b"PONG\r\n")
    await client.close()


def test_config_permissions_shapes_parse(impl, start):
    # Every permission shape of nats-server's docs is accepted by both servers.
    server = start(config=(
        "authorization {\n"
        "  users = [\n"
        "    {user: a, password: b, permissions: {pub: \"x\", sub: [\"y\", \"z q\"]}}\n"
        "    {user: c, password: d, permissions: {publish: {}, subscribe: {deny: \"w\"}, allow_responses: false}}\n"
        "    {user: e, password: f, permission: {publish: {allow: \"x\", deny: [\"x.y\"]}, "
        "allow_responses: {max: 0, expires: \"0s\"}}}\n"
        "  ]\n"
        "}\n"))
    assert server.port > 0


@pytest.mark.parametrize("permissions", [
    'publish: "foo bar"',
    'subscribe: "foo bar baz"',
    'publish: {allow: ["a"], nope: ["b"]}',
    'bogus: "x"',
    'allow_responses: "yes"',
    'publish: 5',
])
def test_invalid_permissions_are_refused(impl, tmp_path, permissions):
    from test_config import run_to_exit

    result = run_to_exit(impl, tmp_path, f"authorization {{ users = [ {{user: a, password: b, permissions: {{{permissions}}}}} ] }}\n")
    assert result.returncode != 0, result.stderr


async def test_info_has_no_nonce_without_nkey_users(users_server):
    client = await RawClient.open(users_server.port)
    assert "nonce" not in client.info, json.dumps(client.info)
    await client.close()


def test_unknown_permission_key_names_key_and_position(impl, tmp_path):
    # A misspelt key inside a permissions block fails closed: both servers refuse to start and name it.
    from test_config import run_to_exit

    result = run_to_exit(impl, tmp_path, "authorization {\n  users = [\n"
                                         "    {user: a, password: b, permissions: {publsh: \"x\"}}\n  ]\n}\n")
    assert result.returncode != 0
    assert re.search(r"\.conf:3:\d+: Unknown field \"publsh\" parsing permissions", result.stderr), result.stderr


@pytest.mark.parametrize("reply, reserved", [
    ("_R_.abc.def", True), ("_R_.", True), ("_GR_.x", True), ("$JS.ACK.x", True), ("_GR_.", False), ("_R_", False), ("_INBOX.x", False), ("$G.x", False),
])
async def test_reserved_reply_subjects_are_refused(impl, start, reply, reserved):
    # Replies the server hands out for service imports and gateways: no client may publish with one
    # (nats-server's replySubjectViolation); the connection stays open and nothing is delivered.
    server = start()
    client = await RawClient.connected(server.port)
    try:
        await client.send(f"SUB q 1\r\nPUB q {reply} 2\r\nhi\r\nPING\r\n".encode())
        if reserved:
            await client.expect(f"-ERR 'Permissions Violation for Publish with Reply of \"{reply}\"'\r\n".encode())
            await client.expect(b"PONG\r\n")
            await client.send(b"PUB q 2\r\nok\r\nPING\r\n")
            await client.expect(b"MSG q 1 2\r\nok\r\n")
        else:
            await client.expect(f"MSG q 1 {reply} 2\r\nhi\r\n".encode())
    finally:
        await client.close()
