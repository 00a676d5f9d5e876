"""`tls { verify_and_map: true }` (issue 9): a client is the user its verified certificate names, against natsd
and nats-server.

nats-server (auth.go `checkClientTLSCertSubject`) looks for a user named as an email SAN, then a DNS SAN, then a
URI SAN, then one whose name is the subject's DN (RFC 4514, same order, then any order), then the subject as Go
prints it. Certificates are made at test time with the `openssl` tool; nothing is committed."""
from __future__ import annotations

import socket
import ssl
import time
from pathlib import Path

import pytest

from monitor_http import closed_reason, wait_monitor_json
from test_reload import reload
from test_tls import _make_ca, _make_leaf, client_context, tls_block

# Client certificates: name -> (subject, extensions).
CLIENTS = {
    "by-email": ("/CN=alice", "subjectAltName=email:alice@example.com\n"),
    "by-dns": ("/CN=not-a-user", "subjectAltName=DNS:svc.example.com\n"),
    "by-dn": ("/C=US/O=Synadia/OU=NATS/CN=dnuser", None),
    # The user's name lists the same RDNs in another order.
    "by-reordered-dn": ("/O=Synadia/OU=Ops/CN=reorder", None),
    "unmapped": ("/CN=stranger", "subjectAltName=email:stranger@example.com,DNS:stranger.example.com\n"),
}

USERS = """
accounts {
  A {
    users = [
      {user: "alice@example.com", permissions: {publish: {allow: ["allowed.>"]}, subscribe: {allow: [">"]}}}
      {user: "CN=dnuser,OU=NATS,O=Synadia,C=US"}
      {user: "OU=Ops, O=Synadia, CN=reorder"}
    ]
  }
  B {
    users = [ {user: "svc.example.com"} ]
  }
}
"""


@pytest.fixture(scope="module")
def map_certs(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("map-certs")
    _make_ca(directory, "ca")
    _make_leaf(directory, "server", "ca", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name, (subject, extensions) in CLIENTS.items():
        _make_leaf(directory, name, "ca", subject, extensions)
    return directory


def _config(certs: Path) -> str:
    return tls_block(certs, ca_file=f'"{certs / "ca.pem"}"', verify_and_map="true") + USERS


def open_tls(port: int, context: ssl.SSLContext) -> ssl.SSLSocket:
    """Dials, reads INFO in the clear (byte by byte: nothing of the handshake may be read with it), starts TLS."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    info = b""
    while not info.endswith(b"\r\n"):
        chunk = raw.recv(1)
        assert chunk, "closed before INFO"
        info += chunk
    return context.wrap_socket(raw, server_hostname="localhost")


def send_and_read(tls: ssl.SSLSocket, send: bytes, until: bytes = b"PONG\r\n") -> bytes:
    """Sends `send` and returns what the server answered, until `until` arrives or it closes (at most 5 s)."""
    tls.sendall(send)
    answer = b""
    deadline = time.monotonic() + 5
    while until not in answer and time.monotonic() < deadline:
        try:
            chunk = tls.recv(4096)
        except OSError:  # a TLS alert, a reset, the 5 s socket timeout
            break
        if not chunk:
            break
        answer += chunk
    return answer


def exchange(port: int, context: ssl.SSLContext, send: bytes, until: bytes = b"PONG\r\n") -> bytes:
    """One connection: `send` and the answer (see `send_and_read`)."""
    with open_tls(port, context) as tls:
        return send_and_read(tls, send, until)


def connect_line(**fields: str) -> bytes:
    body = ",".join(['"verbose":false', '"pedantic":false'] + [f'"{key}":"{value}"' for key, value in fields.items()])
    return b"CONNECT {" + body.encode() + b"}\r\nPING\r\n"


@pytest.mark.parametrize("cert", ["by-email", "by-dns", "by-dn", "by-reordered-dn"])
def test_mapped_certificate_logs_in(start, map_certs, cert):
    server = start(config=_config(map_certs))
    assert exchange(server.port, client_context(map_certs, cert), connect_line()) == b"PONG\r\n"
    # A user name in CONNECT does not choose the user: the certificate does (nats-server only warns).
    answer = exchange(server.port, client_context(map_certs, cert), connect_line(user="someone-else"))
    assert answer == b"PONG\r\n"


def test_unmapped_certificate_is_refused(start, map_certs):
    server = start(config=_config(map_certs))
    answer = exchange(server.port, client_context(map_certs, "unmapped"), connect_line())
    assert answer == b"-ERR 'Authorization Violation'\r\n"
    # Nor can a mapped user be named in CONNECT by a client whose certificate does not map.
    answer = exchange(server.port, client_context(map_certs, "unmapped"), connect_line(user="svc.example.com"))
    assert answer == b"-ERR 'Authorization Violation'\r\n"


def test_mapped_user_must_not_offer_a_password_it_does_not_have(start, map_certs):
    server = start(config=_config(map_certs))
    answer = exchange(server.port, client_context(map_certs, "by-email"), connect_line(**{"pass": "guess"}))
    assert answer == b"-ERR 'Authorization Violation'\r\n"


def test_mapped_user_permissions_apply(start, map_certs):
    server = start(config=_config(map_certs))
    answer = exchange(server.port, client_context(map_certs, "by-email"),
                      connect_line() + b"PUB allowed.x 1\r\na\r\nPUB denied 1\r\nb\r\nPING\r\n",
                      until=b"'\r\nPONG\r\n")
    assert answer == b"PONG\r\n-ERR 'Permissions Violation for Publish to \"denied\"'\r\nPONG\r\n"


def test_mapped_user_account_applies(start, map_certs):
    # by-email is in account A, by-dns in B: a message published in B never reaches A's subscriber.
    server = start(config=_config(map_certs))
    with open_tls(server.port, client_context(map_certs, "by-email")) as subscriber:
        assert send_and_read(subscriber, connect_line() + b"SUB x 1\r\nPING\r\n", until=b"PONG\r\nPONG\r\n") \
            == b"PONG\r\nPONG\r\n"
        assert exchange(server.port, client_context(map_certs, "by-dns"), connect_line() + b"PUB x 1\r\nb\r\nPING\r\n",
                        until=b"PONG\r\nPONG\r\n") == b"PONG\r\nPONG\r\n"
        assert exchange(server.port, client_context(map_certs, "by-dn"), connect_line() + b"PUB x 1\r\na\r\nPING\r\n",
                        until=b"PONG\r\nPONG\r\n") == b"PONG\r\nPONG\r\n"
        assert send_and_read(subscriber, b"PING\r\n", until=b"PONG\r\n") == b"MSG x 1 1\r\na\r\nPONG\r\n"


def test_certificate_without_ca_verification_is_refused(start, map_certs):
    # verify_and_map turns verify on: a client without a certificate fails the handshake.
    server = start(config=_config(map_certs))
    with pytest.raises((ssl.SSLError, ConnectionError, AssertionError)):
        answer = exchange(server.port, client_context(map_certs), connect_line())
        assert answer == b"PONG\r\n"


def test_reload_renaming_the_mapped_user_closes_the_client_silently(start, map_certs):
    # nats-server records the user a certificate maps to as the client's user name: a reload that renames
    # that user closes the client as one whose named user is gone (`Client Closed`, no -ERR, no
    # authentication error in the log).
    server = start("-m", "-1", config=_config(map_certs))
    with open_tls(server.port, client_context(map_certs, "by-email")) as tls:
        assert send_and_read(tls, connect_line()) == b"PONG\r\n"
        [conn] = wait_monitor_json(server.monitoring_port, "/connz")["connections"]
        log = reload(server, _config(map_certs).replace('"alice@example.com"', '"alice2@example.com"'))
        assert "Reloaded: authorization users" in log
        assert send_and_read(tls, b"", until=b"never") == b""
    assert closed_reason(server.monitoring_port, conn["cid"]) == "Client Closed"
    assert "Authorization Violation" not in server.log and "authentication error" not in server.log
