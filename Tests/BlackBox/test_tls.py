"""TLS for clients (issue 9): the `tls` block and the `--tls*` flags, against natsd and nats-server.

A throwaway CA, a server certificate (localhost, 127.0.0.1), a client certificate and a foreign CA's client
certificate are made at test time with the `openssl` tool; nothing is committed."""
from __future__ import annotations

import asyncio
import json
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from monitor_http import wait_monitor_json
from raw_client import RawClient
from server_process import free_port, start_server, wait_for


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _make_ca(directory: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}", cwd=directory)


def _make_leaf(directory: Path, name: str, ca: str, subject: str, extensions: str | None = None) -> None:
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=directory)
    extra = []
    if extensions:
        (directory / f"{name}.ext").write_text(extensions)
        extra = ["-extfile", f"{name}.ext"]
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
             "-out", f"{name}.pem", "-days", "2", *extra, cwd=directory)


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("certs")
    _make_ca(directory, "ca")
    _make_ca(directory, "foreign-ca")
    _make_leaf(directory, "server", "ca", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _make_leaf(directory, "client", "ca", "/CN=client")
    _make_leaf(directory, "foreign-client", "foreign-ca", "/CN=intruder")
    return directory


def tls_block(certs: Path, **extra: str) -> str:
    lines = [f'cert_file: "{certs / "server.pem"}"', f'key_file: "{certs / "server.key"}"']
    lines += [f"{key}: {value}" for key, value in extra.items()]
    return "tls {\n  " + "\n  ".join(lines) + "\n}\n"


def client_context(certs: Path, cert: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    if cert:
        context.load_cert_chain(str(certs / f"{cert}.pem"), str(certs / f"{cert}.key"))
    return context


async def _nats(port: int, context: ssl.SSLContext, opened: list | None = None, **kwargs):
    import nats

    errors: list[Exception] = []

    async def record(error: Exception) -> None:
        errors.append(error)

    options = {"allow_reconnect": False, "connect_timeout": 3, "max_reconnect_attempts": 0, "error_cb": record}
    options.update(kwargs)
    nc = await nats.connect(servers=[f"tls://127.0.0.1:{port}"], tls=context, **options)
    if opened is not None:
        opened.append(nc)
    return nc


@pytest.fixture
async def tls_clients():
    """Opened nats-py connections, closed at teardown."""
    opened: list = []
    yield opened
    for nc in opened:
        try:
            await nc.close()
        except Exception:
            pass


async def exercise(nc) -> None:
    """Publish, subscribe and request through `nc`, with a payload spanning several TLS records."""
    subscription = await nc.subscribe("tls.data")

    async def answer(message) -> None:
        await message.respond(b"pong:" + message.data)

    await nc.subscribe("tls.service", cb=answer)
    big = bytes(range(256)) * 400
    await nc.publish("tls.data", big)
    assert (await subscription.next_msg(timeout=5)).data == big
    for index in range(200):
        await nc.publish("tls.data", b"%d" % index)
    for index in range(200):
        assert (await subscription.next_msg(timeout=5)).data == b"%d" % index
    reply = await nc.request("tls.service", b"ping", timeout=5)
    assert reply.data == b"pong:ping"


async def test_pub_sub_request_over_tls(start, certs, tls_clients):
    server = start(config=tls_block(certs))
    nc = await _nats(server.port, client_context(certs), tls_clients)
    await exercise(nc)


async def test_flags_configure_tls(start, certs, tls_clients):
    server = start("--tls", "--tlscert", str(certs / "server.pem"), "--tlskey", str(certs / "server.key"))
    nc = await _nats(server.port, client_context(certs), tls_clients)
    await exercise(nc)


async def test_info_requires_tls_before_the_handshake(start, certs):
    server = start(config=tls_block(certs))
    client = await RawClient.open(server.port)
    assert client.info.get("tls_required") is True
    assert "tls_verify" not in client.info
    await client.close()
    verifying = start(config=tls_block(certs, ca_file=f'"{certs / "ca.pem"}"', verify="true"))
    client = await RawClient.open(verifying.port)
    assert client.info.get("tls_required") is True and client.info.get("tls_verify") is True
    await client.close()


PLAINTEXT_LOGGED = "TLS handshake error: tls: first record does not look like a TLS handshake"


def _assert_logged_as_a_probe(server, line: str) -> None:
    """`line` is in the log at debug level only: nats-server logs a peer that never spoke TLS (a plaintext
    client, a load balancer's probe) so, and refused certificates as errors."""
    wait_for(lambda: line in server.log, timeout=5, what=f"{line!r} logged")
    assert all("[DBG]" in entry for entry in server.log.splitlines() if line in entry), server.log


@pytest.mark.parametrize("hello", [b'CONNECT {"verbose":false}\r\nPING\r\n', b"PING\r\n", b"GET / HTTP/1.1\r\n\r\n"])
async def test_plaintext_client_is_refused(start, certs, hello):
    # The server starts its handshake after INFO; plaintext is not a TLS record: the connection is closed with
    # nothing more sent (no PONG, no -ERR in the clear), and the log says it as Go's TLS does.
    server = start("-D", config=tls_block(certs))
    client = await RawClient.open(server.port)
    await client.send(hello)
    await client.expect_closed(timeout=5)
    _assert_logged_as_a_probe(server, PLAINTEXT_LOGGED)


def _plaintext_reply(port: int, hello: bytes) -> bytes:
    """What a plaintext client that sends `hello` at once (without waiting for INFO) gets until the close;
    retried while the server starts (a TLS-first port cannot be probed in the clear), for at most 10 s."""
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(hello)
                received = b""
                while chunk := sock.recv(4096):
                    received += chunk
                return received
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


async def test_plaintext_client_is_refused_with_handshake_first(impl, tmp_path, certs):
    # TLS comes first: no INFO, nothing in the clear, the same log line.
    port = free_port()
    server = start_server(impl, ["-D"], config=tls_block(certs, handshake_first="true"), workdir=tmp_path, port=port,
                          wait=False)
    try:
        assert await asyncio.to_thread(_plaintext_reply, port, b'CONNECT {"verbose":false}\r\nPING\r\n') == b""
        _assert_logged_as_a_probe(server, PLAINTEXT_LOGGED)
    finally:
        server.kill()


async def test_handshake_timeout_closes_the_connection(start, certs):
    server = start("-D", config=tls_block(certs, timeout="0.3"))
    client = await RawClient.open(server.port)
    # Nothing sent after INFO: closed once `timeout` passed (bounded here by 5 s), with nothing readable.
    await client.expect_closed(timeout=5)
    # A probe's silence, logged at debug level only. nats-server's timer and its read deadline race: it logs
    # "TLS handshake timeout", its read's "i/o timeout", or both; natsd the first.
    timeouts = ("TLS handshake timeout", "i/o timeout")
    wait_for(lambda: any(text in server.log for text in timeouts), timeout=5, what="the timeout logged")
    assert all("[DBG]" in entry for entry in server.log.splitlines() if any(text in entry for text in timeouts))


async def test_a_client_leaving_during_the_handshake_is_an_eof_error(start, certs):
    # Go reads the end of the connection as "EOF", and nats-server logs it as an error.
    server = start(config=tls_block(certs))
    client = await RawClient.open(server.port)
    await client.close()
    wait_for(lambda: "TLS handshake error: EOF" in server.log, timeout=5, what="the EOF logged")
    assert all("[ERR]" in line for line in server.log.splitlines() if "TLS handshake error: EOF" in line)


async def test_verify_requires_a_client_certificate_from_the_ca(start, certs, tls_clients):
    server = start(config=tls_block(certs, ca_file=f'"{certs / "ca.pem"}"', verify="true"))
    nc = await _nats(server.port, client_context(certs, "client"), tls_clients)
    await exercise(nc)
    for cert in (None, "foreign-client"):
        with pytest.raises(Exception):
            await _nats(server.port, client_context(certs, cert), tls_clients)
    # Each refusal is an error in the log without -D, as nats-server logs it (found by a fresh user:
    # natsd logged them at debug level only, so an operator saw nothing).
    wait_for(lambda: server.log.count("TLS handshake error") >= 2, timeout=5, what="two handshake errors logged")
    assert all("[ERR]" in line for line in server.log.splitlines() if "TLS handshake error" in line)
    # The client without a certificate is named in Go's words by both servers.
    assert "TLS handshake error: tls: client didn't provide a certificate" in server.log


def _read_info_in_the_clear(raw: socket.socket) -> bytes:
    """Reads the INFO line byte by byte, so nothing of the TLS handshake after it is read with it."""
    info = b""
    while not info.endswith(b"\r\n"):
        chunk = raw.recv(1)
        assert chunk, "closed before INFO"
        info += chunk
    return info


def _refusal_reason(port: int, context: ssl.SSLContext) -> str:
    """The reason (`SSLError.reason`, named after the alert the server sent) a client refused in the handshake
    meets: INFO read in the clear, the handshake, then reads until the server ends the connection. The client
    sends nothing after its handshake: nats-server closes at once after its alert, so a client still sending
    may meet a TCP reset instead. "<accepted>" when nothing refused it; the OS error's name when the connection
    broke without an alert."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        _read_info_in_the_clear(raw)
        try:
            with context.wrap_socket(raw, server_hostname="localhost") as sock:
                while sock.recv(4096):
                    pass
        except ssl.SSLError as error:
            return error.reason or repr(error)
        except OSError as error:
            return type(error).__name__
    return "<accepted>"


@pytest.mark.parametrize("version, cert, reason", [
    (ssl.TLSVersion.TLSv1_3, None, "TLSV13_ALERT_CERTIFICATE_REQUIRED"),
    (ssl.TLSVersion.TLSv1_3, "foreign-client", "TLSV1_ALERT_UNKNOWN_CA"),
    # TLS 1.2 has no alert for a missing certificate: both servers send handshake_failure.
    (ssl.TLSVersion.TLSv1_2, None, "SSLV3_ALERT_HANDSHAKE_FAILURE"),
    (ssl.TLSVersion.TLSv1_2, "foreign-client", "TLSV1_ALERT_UNKNOWN_CA"),
])
async def test_a_refused_client_certificate_gets_the_alert(start, certs, version, cert, reason):
    # The server's alert reaches the client before the close, so its TLS library says why it was refused
    # (not a connection reset or a bare EOF), as from Go's TLS in nats-server.
    server = start(config=tls_block(certs, ca_file=f'"{certs / "ca.pem"}"', verify="true"))
    context = client_context(certs, cert)
    context.maximum_version = version
    for _ in range(5):
        assert await asyncio.to_thread(_refusal_reason, server.port, context) == reason


async def test_client_refuses_a_server_certificate_from_another_ca(start, certs, tls_clients):
    server = start(config=tls_block(certs))
    context = ssl.create_default_context(cafile=str(certs / "foreign-ca.pem"))
    with pytest.raises(Exception):
        await _nats(server.port, context, tls_clients)


def _negotiated_cipher(port: int, context: ssl.SSLContext) -> str:
    """The suite the server picks for a client offering `context`'s suites (INFO read in the clear first)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        _read_info_in_the_clear(raw)
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.cipher()[0]


@pytest.mark.parametrize("version, offered, picked", [
    # The client's AES-256 first is overruled: the server's order starts with AES-128-GCM (Go's, nats-server's).
    (ssl.TLSVersion.TLSv1_3, None, "TLS_AES_128_GCM_SHA256"),
    (ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256",
     "ECDHE-ECDSA-AES128-GCM-SHA256"),
    # ChaCha20 first from the client (one without AES hardware) is honoured.
    (ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256",
     "ECDHE-ECDSA-CHACHA20-POLY1305"),
])
async def test_server_picks_the_cipher_suite(start, certs, version, offered, picked):
    server = start(config=tls_block(certs))
    context = client_context(certs)
    context.maximum_version = version
    if offered:
        context.set_ciphers(offered)
    assert await asyncio.to_thread(_negotiated_cipher, server.port, context) == picked


def _read_tls_first_info(port: int, context: ssl.SSLContext) -> dict:
    """Dials with a TLS hello before reading anything and returns the INFO read through TLS; retries while the
    server starts (its readiness cannot be probed in the clear), for at most 10 s."""
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
                with context.wrap_socket(raw, server_hostname="localhost") as sock:
                    line = b""
                    while not line.endswith(b"\r\n") and len(line) < 65536:
                        chunk = sock.recv(4096)
                        if not chunk:
                            break
                        line += chunk
                    assert line.startswith(b"INFO "), line
                    return json.loads(line[5:].strip())
        except (ConnectionError, ssl.SSLError, socket.timeout):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


async def test_handshake_first(impl, tmp_path, certs, tls_clients):
    port = free_port()
    handle = start_server(impl, config=tls_block(certs, handshake_first="true"), workdir=tmp_path, port=port,
                          wait=False)
    try:
        info = await asyncio.to_thread(_read_tls_first_info, port, client_context(certs))
        assert info.get("tls_required") is True
        nc = await _nats(port, client_context(certs), tls_clients, tls_handshake_first=True)
        await exercise(nc)
    finally:
        handle.kill()


@pytest.mark.parametrize("key", ["cert_file", "key_file"])
def test_missing_certificate_file_refuses_to_start(impl, tmp_path, certs, key):
    missing = tmp_path / "missing.pem"
    config = tls_block(certs).replace(str(certs / ("server.pem" if key == "cert_file" else "server.key")),
                                      str(missing))
    path = tmp_path / "tls.conf"
    path.write_text(config)
    from server_process import binary_for

    result = subprocess.run([binary_for(impl), "-p", "-1", "-c", str(path)], capture_output=True, text=True,
                            timeout=10, stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert result.returncode != 0
    assert f"error parsing X509 certificate/key pair: open {missing}: no such file or directory" in result.stderr, \
        result.stderr


@pytest.mark.parametrize("extra, auth_timeout", [
    ("", 3),  # nats-server's default with TLS: the handshake's timeout (2 s) plus one second
    ("authorization { timeout: 1 }\n", 1),  # a timeout of its own stays
])
def test_tls_gives_logins_the_handshake_timeout_plus_one_second(start, certs, extra, auth_timeout):
    server = start("-m", "-1", config=tls_block(certs) + extra)
    varz = wait_monitor_json(server.monitoring_port, "/varz")
    assert (varz["auth_timeout"], varz["tls_timeout"]) == (auth_timeout, 2)
