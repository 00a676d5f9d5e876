"""Route TLS (issue 9, point 2): `cluster { tls {...} }`, TLS from the first byte on the cluster port with the
peer's certificate always verified, in clusters of natsd, nats-server and both. Certificates come from
test_tls.py's `certs` fixture (made at test time with `openssl`)."""
from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path

import nats
import pytest

from server_process import free_port, selected_impls, start_server, wait_for
from test_tls import _make_leaf, certs  # noqa: F401  (the module-scoped certificate fixture)

PAIRS = [("natsd", "natsd"), ("nats-server", "natsd"), ("natsd", "nats-server"), ("nats-server", "nats-server")]


def route_config(certs: Path, cluster_port: int, routes: list[int] = ()) -> str:
    lines = ["cluster {", "  name: tls", f"  port: {cluster_port}",
             f'  tls {{ cert_file: "{certs / "server.pem"}", key_file: "{certs / "server.key"}", '
             f'ca_file: "{certs / "ca.pem"}" }}']
    if routes:
        lines.append("  routes: [" + ", ".join(f'"nats-route://127.0.0.1:{port}"' for port in routes) + "]")
    return "\n".join(lines + ["}", ""])


def wanted(*impls: str) -> None:
    missing = [impl for impl in impls if impl not in selected_impls()]
    if missing:
        pytest.skip(f"{missing} not selected (BLACKBOX_IMPLS)")


async def routed(publisher_port: int, subscriber_port: int) -> bool:
    """Whether a message published on one server reaches a subscriber on the other, retried while the route
    forms (at most 10 s)."""
    subscriber = await nats.connect(f"nats://127.0.0.1:{subscriber_port}", allow_reconnect=False)
    publisher = await nats.connect(f"nats://127.0.0.1:{publisher_port}", allow_reconnect=False)
    try:
        subscription = await subscriber.subscribe("tls.route")
        await subscriber.flush()
        for _ in range(50):
            await publisher.publish("tls.route", b"across")
            try:
                message = await subscription.next_msg(timeout=0.2)
            except nats.errors.TimeoutError:
                continue
            assert message.data == b"across"
            break
        else:
            return False
        # Then a burst spanning many TLS records, in order.
        await subscription.unsubscribe()
        burst = await subscriber.subscribe("tls.burst")
        await subscriber.flush()
        await asyncio.sleep(0)
        payloads = [bytes([index % 251]) * 1024 for index in range(2000)]
        for attempt in range(50):
            await publisher.publish("tls.burst", b"probe")
            try:
                if (await burst.next_msg(timeout=0.2)).data == b"probe":
                    break
            except nats.errors.TimeoutError:
                continue
        for payload in payloads:
            await publisher.publish("tls.burst", payload)
        await publisher.flush()
        received = [(await burst.next_msg(timeout=10)).data for _ in payloads]
        return received == payloads
    finally:
        await publisher.close()
        await subscriber.close()


async def routed_within(publisher_port: int, subscriber_port: int, seconds: float) -> bool:
    """Whether any message published on one server reaches a subscriber on the other within `seconds`."""
    subscriber = await nats.connect(f"nats://127.0.0.1:{subscriber_port}", allow_reconnect=False)
    publisher = await nats.connect(f"nats://127.0.0.1:{publisher_port}", allow_reconnect=False)
    try:
        subscription = await subscriber.subscribe("tls.route")
        await subscriber.flush()
        for _ in range(max(1, int(seconds / 0.1))):
            await publisher.publish("tls.route", b"across")
            try:
                await subscription.next_msg(timeout=0.1)
                return True
            except nats.errors.TimeoutError:
                continue
        return False
    finally:
        await publisher.close()
        await subscriber.close()


@pytest.mark.parametrize("first, second", PAIRS)
async def test_routes_form_over_tls(tmp_path, certs, first, second):  # noqa: F811
    wanted(first, second)
    cluster_port = free_port()
    one = start_server(first, config=route_config(certs, cluster_port), workdir=tmp_path / "one", port=free_port())
    two = start_server(second, config=route_config(certs, free_port(), [cluster_port]), workdir=tmp_path / "two",
                       port=free_port())
    try:
        assert await routed(one.port, two.port), (one.log, two.log)
        assert await routed(two.port, one.port), (one.log, two.log)
    finally:
        one.kill()
        two.kill()


def _read_until_closed(sock) -> bytes:
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def _cluster_port_reply(port: int, context: ssl.SSLContext | None, hello: bytes) -> bytes:
    """What the cluster port sends to a peer that speaks `hello` (in the clear, or through TLS with
    `context`), until it closes; b"<tls refused>" when the TLS handshake or first read is refused."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.settimeout(5)
        if context is None:
            raw.sendall(hello)
            return _read_until_closed(raw)
        try:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
                sock.sendall(hello)
                return _read_until_closed(sock)
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return b"<tls refused>"


@pytest.mark.parametrize("impl_name", ["natsd", "nats-server"])
async def test_a_route_without_tls_or_with_a_foreign_certificate_cannot_join(tmp_path, certs, impl_name):  # noqa: F811
    wanted(impl_name)
    cluster_port = free_port()
    server = start_server(impl_name, config=route_config(certs, cluster_port), workdir=tmp_path, port=free_port())
    try:
        hello = b'CONNECT {"verbose":false,"name":"intruder"}\r\nPING\r\n'
        # Plaintext: nothing comes back in the clear (no INFO: TLS comes first), and the connection is closed.
        assert await asyncio.to_thread(_cluster_port_reply, cluster_port, None, hello) == b""
        # Logged as an error in Go's words (the cluster port is not for probes, unlike the client port).
        plaintext = "TLS route handshake error: tls: first record does not look like a TLS handshake"
        wait_for(lambda: plaintext in server.log, timeout=5, what="the plaintext route logged")
        assert all("[ERR]" in line for line in server.log.splitlines() if plaintext in line)
        # TLS with a certificate from another CA: refused in the handshake.
        foreign = ssl.create_default_context(cafile=str(certs / "ca.pem"))
        foreign.load_cert_chain(str(certs / "foreign-client.pem"), str(certs / "foreign-client.key"))
        assert await asyncio.to_thread(_cluster_port_reply, cluster_port, foreign, hello) == b"<tls refused>"
        # TLS without a certificate at all: refused too (route peers are always verified).
        anonymous = ssl.create_default_context(cafile=str(certs / "ca.pem"))
        assert await asyncio.to_thread(_cluster_port_reply, cluster_port, anonymous, hello) == b"<tls refused>"
    finally:
        server.kill()


# `cluster { tls { verify_and_map: true } }`: a route is authorized by its certificate naming the cluster's
# `authorization` user (nats-server's isRouterAuthorized: an email, DNS or URI SAN, or the subject as Go prints
# it); the credentials of its CONNECT do not count.

@pytest.fixture(scope="module")
def node_certs(certs):  # noqa: F811
    """`certs` plus a second node certificate from the same CA, valid for 127.0.0.1, whose subject is
    CN=other-node."""
    _make_leaf(certs, "other-node", "ca", "/CN=other-node", "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    return certs


def mapped_route_config(certs: Path, cluster_port: int, user: str, routes: list[int] = (),
                        cert: str = "server") -> str:
    lines = ["cluster {", "  name: tls", f"  port: {cluster_port}",
             f'  tls {{ cert_file: "{certs / f"{cert}.pem"}", key_file: "{certs / f"{cert}.key"}", '
             f'ca_file: "{certs / "ca.pem"}", verify_and_map: true }}',
             f'  authorization {{ user: "{user}" }}']
    if routes:
        lines.append("  routes: [" + ", ".join(f'"nats-route://127.0.0.1:{port}"' for port in routes) + "]")
    return "\n".join(lines + ["}", ""])


# The server certificate's subject (CN=localhost) and its DNS SAN (localhost) each name the user.
@pytest.mark.parametrize("user", ["CN=localhost", "localhost"])
@pytest.mark.parametrize("first, second", PAIRS)
async def test_verify_and_map_routes_form_when_the_certificate_names_the_cluster_user(
        tmp_path, node_certs, first, second, user):
    wanted(first, second)
    cluster_port = free_port()
    one = start_server(first, config=mapped_route_config(node_certs, cluster_port, user), workdir=tmp_path / "one",
                       port=free_port())
    two = start_server(second, config=mapped_route_config(node_certs, free_port(), user, [cluster_port]),
                       workdir=tmp_path / "two", port=free_port())
    try:
        assert await routed(one.port, two.port), (one.log, two.log)
        assert "authentication error" not in one.log + two.log
    finally:
        one.kill()
        two.kill()


@pytest.mark.parametrize("first, second", PAIRS)
async def test_verify_and_map_refuses_routes_whose_certificate_names_another_user(tmp_path, node_certs, first, second):
    # Each node's user is its own certificate's subject, and each dials the other: neither accepts the other's
    # route, and each logs nats-server's "authentication error".
    wanted(first, second)
    cluster_port, other_cluster_port = free_port(), free_port()
    one = start_server(first, config=mapped_route_config(node_certs, cluster_port, "CN=localhost", [other_cluster_port]),
                       workdir=tmp_path / "one", port=free_port())
    two = start_server(second, config=mapped_route_config(node_certs, other_cluster_port, "CN=other-node",
                                                          [cluster_port], cert="other-node"),
                       workdir=tmp_path / "two", port=free_port())
    try:
        wait_for(lambda: "authentication error" in one.log, timeout=10, what=f"{first} refusing the route")
        wait_for(lambda: "authentication error" in two.log, timeout=10, what=f"{second} refusing the route")
        assert not await routed_within(one.port, two.port, seconds=1), (one.log, two.log)
    finally:
        one.kill()
        two.kill()


@pytest.mark.parametrize("impl_name", ["natsd", "nats-server"])
async def test_verify_and_map_refusal_is_an_authorization_violation(tmp_path, node_certs, impl_name):
    # A route peer whose verified certificate does not name the user gets INFO, then nats-server's -ERR after
    # its CONNECT, even when the CONNECT names the user; the server logs "authentication error".
    wanted(impl_name)
    cluster_port = free_port()
    server = start_server(impl_name, config=mapped_route_config(node_certs, cluster_port, "CN=localhost"),
                          workdir=tmp_path, port=free_port())
    try:
        other = ssl.create_default_context(cafile=str(node_certs / "ca.pem"))
        other.load_cert_chain(str(node_certs / "other-node.pem"), str(node_certs / "other-node.key"))
        hello = b'CONNECT {"verbose":false,"name":"intruder","cluster":"tls","user":"CN=localhost"}\r\n'
        reply = await asyncio.to_thread(_cluster_port_reply, cluster_port, other, hello)
        assert reply.startswith(b"INFO ") and reply.endswith(b"\r\n-ERR 'Authorization Violation'\r\n"), reply
        wait_for(lambda: "authentication error" in server.log, timeout=5, what="the refusal logged")
        assert all("[ERR]" in line for line in server.log.splitlines() if "authentication error" in line)
    finally:
        server.kill()
