"""INFO sent on accept and the defaults of CONNECT."""

import re


async def test_info_on_accept_has_core_fields(server, raw):
    client = await raw()
    assert re.fullmatch(rb"INFO \{.*\} \r\n", client.info_line), client.info_line
    info = client.info
    assert isinstance(info["server_id"], str) and info["server_id"]
    assert isinstance(info["server_name"], str) and info["server_name"]
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", info["version"]), info["version"]
    assert info["proto"] == 1
    assert info["host"] == "127.0.0.1"
    assert info["port"] == server.port
    assert info["headers"] is True
    assert info["max_payload"] == 1048576
    assert isinstance(info["client_id"], int) and info["client_id"] > 0
    assert info["client_ip"] == "127.0.0.1"
    assert "auth_required" not in info


async def test_client_ids_differ_per_connection(raw):
    first, second = await raw(), await raw()
    assert first.info["client_id"] != second.info["client_id"]
    assert first.info["server_id"] == second.info["server_id"]


async def test_connect_defaults_to_verbose_and_pedantic(raw):
    client = await raw()
    await client.send(b"CONNECT {}\r\n")
    await client.expect(b"+OK\r\n")
    await client.send(b"SUB foo 1\r\n")
    await client.expect(b"+OK\r\n")
    await client.send(b"PUB foo 2\r\nhi\r\n")
    await client.expect(b"+OK\r\nMSG foo 1 2\r\nhi\r\n")
    await client.send(b"UNSUB 1\r\n")
    await client.expect(b"+OK\r\n")
    # No +OK for PING.
    await client.send(b"PING\r\n")
    await client.expect(b"PONG\r\n")
    await client.expect_nothing(0.2)
    # Pedantic by default: a wildcard publish subject is reported but still accepted.
    await client.send(b"PUB foo.* 0\r\n\r\n")
    await client.expect(b"-ERR 'Invalid Publish Subject'\r\n+OK\r\n")
    await client.expect_open()


async def test_ping_before_connect_is_answered_without_auth(raw):
    client = await raw()
    await client.send(b"PING\r\n")
    await client.expect(b"PONG\r\n")


async def test_protocol_tolerates_lowercase_and_tabs(raw):
    client = await raw(connect={})
    await client.send(b"sub\tfoo\t1\r\npub foo  2\r\nhi\r\n")
    messages = await client.read_messages_until_pong()
    assert [(m.subject, m.sid, m.payload) for m in messages] == [("foo", "1", b"hi")]


async def test_verbose_false_sends_no_ok(raw):
    client = await raw()
    await client.send(b'CONNECT {"verbose":false}\r\nSUB foo 1\r\nPUB foo 1\r\nx\r\nUNSUB 1\r\nPING\r\n')
    await client.expect(b"MSG foo 1 1\r\nx\r\nPONG\r\n")


async def test_multiple_clients_see_same_server(raw):
    a, b = await raw(connect={}), await raw(connect={})
    await b.send(b"SUB x 9\r\n")
    await b.expect_open()
    await a.send(b"PUB x 3\r\nabc\r\n")
    await a.expect_open()
    await b.expect(b"MSG x 9 3\r\nabc\r\n")
