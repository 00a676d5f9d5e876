"""Every core -ERR of the client protocol, the silent closes, and errors that keep the connection."""

import asyncio

import pytest

QUIET = b'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n'
UNKNOWN = b"-ERR 'Unknown Protocol Operation'\r\n"


async def quiet_connection(raw):
    return await raw(connect={"headers": True})


MAX_CONTROL_LINE = b"-ERR 'maximum control line exceeded'\r\n"
MAX_PAYLOAD = b"-ERR 'Maximum Payload Violation'\r\n"


@pytest.mark.parametrize(
    "operation, error",
    [
        pytest.param(b"FOO\r\n", UNKNOWN, id="unknown-verb"),
        pytest.param(b"MSG foo 1 2\r\nhi\r\n", UNKNOWN, id="MSG-from-client"),
        pytest.param(b"RS+ $G foo\r\n", UNKNOWN, id="RS+-from-client"),
        pytest.param(b"RMSG $G foo 2\r\nhi\r\n", UNKNOWN, id="RMSG-from-client"),
        pytest.param(b"UNSUB\r\n", UNKNOWN, id="UNSUB-without-args"),
        pytest.param(b"PUB foo 2\r\nhiXX\r\n", UNKNOWN, id="payload-without-crlf"),
        pytest.param(b"HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhiXX\r\n", UNKNOWN, id="hpayload-without-crlf"),
        pytest.param(b"SUB " + b"a" * 5000 + b" 1\r\n", MAX_CONTROL_LINE, id="control-line-too-long"),
        pytest.param(b"PUB foo 1048577\r\n", MAX_PAYLOAD, id="PUB-payload-too-big"),
        pytest.param(b"HPUB foo 10 1048577\r\n", MAX_PAYLOAD, id="HPUB-payload-too-big"),
    ],
)
async def test_error_after_connect_closes(raw, operation, error):
    client = await quiet_connection(raw)
    await client.send(operation)
    await client.expect_then_closed(error)


@pytest.mark.parametrize(
    "operation, error",
    [
        pytest.param(b"HELLO WORLD\r\n", UNKNOWN, id="unknown-operation"),
        pytest.param(b'CONNECT {"verbose":false,"protocol":2}\r\n', b"-ERR 'invalid client protocol'\r\n",
                     id="invalid-client-protocol"),
        pytest.param(b'CONNECT {"verbose":false,"account":"A"}\r\n', b"-ERR 'Authorization Violation'\r\n",
                     id="account-in-CONNECT"),
    ],
)
async def test_error_before_connect_closes(raw, operation, error):
    client = await raw()
    await client.send(operation)
    await client.expect_then_closed(error)


async def test_long_control_line_within_limit_is_fine(raw):
    client = await quiet_connection(raw)
    subject = b"a" * 4000
    await client.send(b"SUB " + subject + b" 1\r\nPUB " + subject + b" 1\r\nx\r\n")
    await client.expect(b"MSG " + subject + b" 1 1\r\nx\r\n")


@pytest.mark.parametrize(
    "prefix, operation",
    [
        pytest.param(b"", b"CONNECT {bad\r\n", id="bad-CONNECT-json"),
        pytest.param(QUIET, b"PUB foo\r\n", id="PUB-missing-size"),
        pytest.param(QUIET, b"PUB foo abc\r\n", id="PUB-non-numeric-size"),
        pytest.param(QUIET, b"SUB foo\r\n", id="SUB-missing-sid"),
        pytest.param(QUIET, b"SUB a b c d\r\n", id="SUB-too-many-args"),
        pytest.param(QUIET, b"HPUB h 22 5\r\n", id="HPUB-header-larger-than-total"),
        pytest.param(QUIET, b"-ERR 'oops'\r\n", id="ERR-from-client"),
        pytest.param(b'CONNECT {"verbose":false,"headers":false}\r\n', b"HPUB h 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
                     id="HPUB-when-headers-false"),
        pytest.param(b'CONNECT {"verbose":false}\r\n', b"HPUB h 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
                     id="HPUB-without-headers-in-CONNECT"),
    ],
)
async def test_protocol_violation_closes_silently(raw, prefix, operation):
    client = await raw()
    if prefix:
        await client.send(prefix + b"PING\r\n")
        await client.expect(b"PONG\r\n")
    await client.send(operation)
    await client.expect_closed()


async def test_invalid_subject_keeps_connection(raw):
    client = await quiet_connection(raw)
    for subject in (b"foo..bar", b"foo.>.bar", b".foo", b"foo."):
        await client.send(b"SUB " + subject + b" 1\r\n")
        await client.expect(b"-ERR 'Invalid Subject'\r\n")
    await client.expect_open()
    # The connection still works and the bad subscriptions do not exist.
    await client.send(b"SUB ok 2\r\nPUB ok 1\r\nx\r\n")
    await client.expect(b"MSG ok 2 1\r\nx\r\n")


async def test_invalid_subject_with_verbose(raw):
    client = await raw()
    await client.send(b"CONNECT {}\r\nSUB foo..bar 1\r\nPING\r\n")
    await client.expect(b"+OK\r\n-ERR 'Invalid Subject'\r\nPONG\r\n")


async def test_verbose_acknowledges_every_operation(raw):
    client = await raw()
    await client.send(b'CONNECT {"verbose":true,"pedantic":false,"headers":true}\r\n')
    await client.expect(b"+OK\r\n")
    await client.send(b"SUB a 1\r\nPUB b 1\r\nx\r\nHPUB b 12 12\r\nNATS/1.0\r\n\r\n\r\nUNSUB 1\r\nPING\r\n")
    await client.expect(b"+OK\r\n+OK\r\n+OK\r\n+OK\r\nPONG\r\n")


async def test_pedantic_invalid_publish_subject_is_still_delivered(raw):
    client = await raw()
    await client.send(b'CONNECT {"verbose":false,"pedantic":true}\r\nSUB foo.* 1\r\nSUB > 2\r\n')
    await client.send(b"PUB foo.* 2\r\nhi\r\nPING\r\n")
    await client.expect(b"-ERR 'Invalid Publish Subject'\r\n")
    rest = await client.read_until(b"PONG\r\n")
    assert sorted(rest[:-6].split(b"MSG ")[1:]) == [b"foo.* 1 2\r\nhi\r\n", b"foo.* 2 2\r\nhi\r\n"]
    await client.expect_open()


async def test_pedantic_verbose_reports_error_then_ok(raw):
    client = await raw()
    await client.send(b'CONNECT {"verbose":true,"pedantic":true}\r\nPUB foo.> 0\r\n\r\nPUB foo.bar 0\r\n\r\nPING\r\n')
    await client.expect(b"+OK\r\n-ERR 'Invalid Publish Subject'\r\n+OK\r\n+OK\r\nPONG\r\n")


async def test_client_info_and_ok_are_ignored(raw):
    client = await quiet_connection(raw)
    await client.send(b"INFO {}\r\n+OK\r\nPING\r\n")
    await client.expect(b"PONG\r\n")


async def test_connect_options_json_may_follow_without_space_and_lf_only(raw):
    client = await raw()
    await client.send(b'CONNECT {"verbose":false}\nSUB foo 1\nPUB foo 1\nx\r\nPING\n')
    await client.expect(b"MSG foo 1 1\r\nx\r\nPONG\r\n")


async def test_second_client_unaffected_by_protocol_error(raw):
    good = await quiet_connection(raw)
    bad = await quiet_connection(raw)
    await good.send(b"SUB s 1\r\n")
    await good.expect_open()
    await bad.send(b"BOGUS\r\n")
    await bad.expect_then_closed(UNKNOWN)
    await asyncio.sleep(0.05)
    publisher = await quiet_connection(raw)
    await publisher.send(b"PUB s 2\r\nok\r\n")
    await publisher.expect_open()
    await good.expect(b"MSG s 1 2\r\nok\r\n")
