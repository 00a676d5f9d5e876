#!/usr/bin/env python3
"""Captures real traffic for the fuzz seed corpora under Fuzz/Corpus.

Every seed is bytes a real peer sent, recorded by a TCP proxy placed between the two ends:
  client/        what nats-py sends to a server (the client parser's input)
  route/         what one server sends another over a route, both directions, for nats-server and natsd
  connect-info/  the CONNECT and INFO JSON found in those streams (client and route, from both servers)
  monitoring/    HTTP requests as curl sends them to the monitoring endpoints
  tls/           what a client sends a TLS server (Python's ssl, i.e. OpenSSL, as nats-py uses it): the
                 ClientHello alone and whole client streams (hello, certificate, Finished, an encrypted
                 CONNECT), TLS 1.2 and 1.3, with and without a client certificate, recorded from
                 handshakes run in memory against a throwaway certificate
  monitor-response/  nats-server's and natsd's monitoring answers to /topologyz's fetches (MonitorFetch's request)
Hand-written seeds sit beside them and are left alone: the config files (Fuzz/Corpus/config), frames
from the protocol reference (reference-*, hand-*) and inputs of bugs found by fuzzing (regression-*).

Run from the repository root after scripts/bootstrap.sh and swift build:
    .venv/bin/python Fuzz/capture_seeds.py [--natsd .build/debug/natsd] [--only monitor-response]
Servers listen on 127.0.0.1 only; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "BlackBox"))
from server_process import free_port, nats_server_binary  # noqa: E402

import nats  # noqa: E402

CORPUS = ROOT / "Fuzz" / "Corpus"


class RecordingProxy:
    """Forwards 127.0.0.1:port to a target port, keeping every connection's bytes per direction."""

    def __init__(self, target: int):
        self.target = target
        self.port = free_port()
        self.streams: list[tuple[bytearray, bytearray]] = []  # (towards target, back from target)
        self.server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target)
        sent, received = bytearray(), bytearray()
        self.streams.append((sent, received))

        async def pump(source, sink, record: bytearray) -> None:
            try:
                while data := await source.read(65536):
                    record += data
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pump(reader, upstream_writer, sent), pump(upstream_reader, writer, received))

    async def stop(self) -> None:
        if self.server:
            self.server.close()


def start(binary: str, *args: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen([binary, "-a", "127.0.0.1", "-p", str(port), *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            import socket
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{binary} did not start")


async def respond_done(message) -> None:
    await message.respond(b"done")


async def client_session(url: str) -> None:
    """A short, varied nats-py session: subscriptions, queue groups, publish with reply and headers."""
    nc = await nats.connect(url, name="seed-capture", connect_timeout=5, allow_reconnect=False)
    orders = await nc.subscribe("orders.>")
    workers = await nc.subscribe("work", queue="workers", cb=respond_done)
    await nc.publish("orders.new", b"hello")
    await nc.publish("orders.eu.paid", b"", headers={"Nats-Msg-Id": "42", "Trace": "a b"})
    await nc.request("work", b"job-1", timeout=2)
    await nc.flush(timeout=2)
    await orders.unsubscribe(limit=5)
    await workers.unsubscribe()
    await nc.drain()


async def route_traffic(server_a: int, server_b: int) -> None:
    """Interest and messages that must cross the route between A and B, in both directions."""
    a = await nats.connect(f"nats://127.0.0.1:{server_a}", connect_timeout=5, allow_reconnect=False)
    b = await nats.connect(f"nats://127.0.0.1:{server_b}", connect_timeout=5, allow_reconnect=False)
    plain = await a.subscribe("orders.>")
    queue = await a.subscribe("work", queue="workers", cb=respond_done)
    await b.subscribe("events.*")
    await a.flush(timeout=2)
    await b.flush(timeout=2)
    await asyncio.sleep(0.5)  # interest propagation
    await b.publish("orders.new", b"hello")
    await b.publish("orders.eu", b"payload", headers={"Nats-Msg-Id": "7"})
    await b.request("work", b"job", timeout=2)
    await a.publish("events.created", b"x", reply="replies.1")
    await a.flush(timeout=2)
    await b.flush(timeout=2)
    await plain.unsubscribe()
    await queue.unsubscribe()
    await a.flush(timeout=2)
    await asyncio.sleep(0.5)
    await a.close()
    await b.close()


def write(directory: str, name: str, data: bytes) -> None:
    path = CORPUS / directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(data))
    print(f"{path.relative_to(ROOT)}: {len(data)} bytes")


def first_lines(stream: bytes, limit: int) -> bytes:
    """At most `limit` bytes of `stream`, cut after a CRLF: a long stream's start is as good a seed."""
    if len(stream) <= limit:
        return stream
    return stream[:stream.rindex(b"\r\n", 0, limit) + 2]


def arguments_of(stream: bytes, verb: bytes) -> list[bytes]:
    """The arguments of every `verb` line (CONNECT/INFO) in a protocol stream."""
    return [match.group(1) for match in re.finditer(rb"(?:^|\n)" + verb + rb" (\{[^\r\n]*\}) ?\r\n", stream)]


async def capture_client(nats_server: str) -> None:
    process, port = start(nats_server)
    try:
        proxy = RecordingProxy(port)
        await proxy.start()
        await client_session(f"nats://127.0.0.1:{proxy.port}")
        await asyncio.sleep(0.2)
        await proxy.stop()
        sent, received = proxy.streams[0]
        write("client", "nats-py-session", sent)
        write("connect-info", "client-connect-nats-py", arguments_of(bytes(sent), b"CONNECT")[0])
        write("connect-info", "client-info-nats-server", arguments_of(bytes(received), b"INFO")[0])
    finally:
        process.kill()


async def capture_route(name: str, binary_a: str, binary_b: str) -> None:
    """B dials A's cluster port through the proxy; both directions of every route connection are kept."""
    cluster_a = free_port()
    process_a, port_a = start(binary_a, "--cluster_name", "seeds", "--cluster", f"nats://127.0.0.1:{cluster_a}",
                              "--no_advertise")
    proxy = RecordingProxy(cluster_a)
    await proxy.start()
    process_b, port_b = start(binary_b, "--cluster_name", "seeds", "--cluster", f"nats://127.0.0.1:{free_port()}",
                              "--routes", f"nats://127.0.0.1:{proxy.port}", "--no_advertise")
    try:
        await asyncio.sleep(1.5)  # route handshake
        await route_traffic(port_a, port_b)
        await proxy.stop()
        # nats-server pools routes (one connection per pool index, plus one pinned to $SYS without
        # account tokens); every connection that carried more than the handshake is kept.
        seen: set[bytes] = set()
        for index, (sent, received) in enumerate(proxy.streams):
            for direction, stream in (("dialer-to-acceptor", sent), ("acceptor-to-dialer", received)):
                stream = first_lines(bytes(stream), 3000)
                if stream in seen or not re.search(rb"\n(RS\+|RS-|RMSG|HMSG|LS\+|LMSG) ", stream):
                    continue
                seen.add(stream)
                write("route", f"{name}-{index}-{direction}", stream)
        sent, received = proxy.streams[0]
        connects = arguments_of(bytes(sent), b"CONNECT")
        if connects:
            write("connect-info", f"route-connect-{name}", connects[0])
        for index, info in enumerate(arguments_of(bytes(sent), b"INFO")[:1] + arguments_of(bytes(received), b"INFO")[:2]):
            write("connect-info", f"route-info-{name}-{index}", info)
    finally:
        process_a.kill()
        process_b.kill()


async def capture_http() -> None:
    """Raw HTTP requests from curl, as a monitoring listener would receive them."""
    requests: list[bytes] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = bytearray()
        while b"\r\n\r\n" not in data:
            chunk = await asyncio.wait_for(reader.read(4096), timeout=5)
            if not chunk:
                break
            data += chunk
        requests.append(bytes(data))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        await writer.drain()
        writer.close()

    port = free_port()
    server = await asyncio.start_server(accept, "127.0.0.1", port)
    cases = {
        "curl-varz": ["/varz"],
        "curl-connz-query": ["/connz?subs=1&offset=0&limit=10&sort=bytes_to&state=open"],
        "curl-routez-subs": ["/routez?subs=detail"],
        "curl-subsz-test": ["/subsz?subs=1&test=orders.%2A"],
        "curl-healthz-head": ["-I", "/healthz"],
        "curl-index-http10": ["--http1.0", "/"],
        "curl-unknown-post": ["-X", "POST", "-d", "a=1", "/nothing"],
    }
    for name, args in cases.items():
        *options, path = args
        await asyncio.to_thread(subprocess.run, ["curl", "-s", "-o", "/dev/null", "--max-time", "5", *options,
                                                 f"http://127.0.0.1:{port}{path}"], check=False)
        write("monitoring", name, requests[-1])
    server.close()


def tls_client_stream(directory: Path, version: ssl.TLSVersion, client_cert: bool, whole: bool) -> bytes:
    """Runs a handshake between a Python TLS client and server over memory BIOs and returns every byte the
    client sent: its first flight only, or (`whole`) the handshake and an encrypted CONNECT and PING."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(directory / "server.pem", directory / "server.key")
    client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_context.load_verify_locations(directory / "server.pem")
    client_context.maximum_version = version
    if client_cert:
        server_context.verify_mode = ssl.CERT_REQUIRED
        server_context.load_verify_locations(directory / "server.pem")
        client_context.load_cert_chain(directory / "server.pem", directory / "server.key")
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    from_server, from_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context.wrap_bio(to_client, from_client, server_hostname="localhost")
    server = server_context.wrap_bio(to_server, from_server, server_side=True)
    sent = b""
    for _ in range(10):
        for side in (client, server):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
        chunk = from_client.read()
        sent += chunk
        if not whole:
            return sent
        to_server.write(chunk)
        to_client.write(from_server.read())
    client.write(b'CONNECT {"verbose":false,"pedantic":false,"tls_required":true}\r\nPING\r\n')
    return sent + from_client.read()


def capture_tls() -> None:
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", "server.key", "-out", "server.pem", "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost"], cwd=directory, check=True, capture_output=True,
                       timeout=60)
        for version, label in ((ssl.TLSVersion.TLSv1_3, "tls13"), (ssl.TLSVersion.TLSv1_2, "tls12")):
            write("tls", f"{label}-client-hello", tls_client_stream(directory, version, False, whole=False))
            write("tls", f"{label}-handshake-connect", tls_client_stream(directory, version, False, whole=True))
            write("tls", f"{label}-client-certificate-connect", tls_client_stream(directory, version, True, whole=True))
def fetch_raw(port: int, path: str) -> bytes:
    """Everything a monitoring port sends back to MonitorFetch's request for `path`, until it closes."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        answer = bytearray()
        while chunk := connection.recv(65536):
            answer += chunk
    return bytes(answer)


async def capture_monitor_responses(name: str, binary: str) -> None:
    """A server's monitoring answers as /topologyz's fetches read them: /varz, /routez, an unknown path."""
    monitor = free_port()
    process, _ = start(binary, "-m", str(monitor), "--cluster_name", "seeds",
                       "--cluster", f"nats://127.0.0.1:{free_port()}")
    try:
        for path, file in (("/varz", "varz"), ("/routez", "routez"), ("/nothing", "not-found")):
            write("monitor-response", f"{name}-{file}", await asyncio.to_thread(fetch_raw, monitor, path))
    finally:
        process.kill()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--natsd", default=str(ROOT / ".build" / "debug" / "natsd"))
    parser.add_argument("--only", choices=["client", "route", "monitoring", "tls", "monitor-response"],
                        help="capture one corpus and leave the others as they are")
    options = parser.parse_args()
    nats_server = nats_server_binary()
    if not nats_server:
        sys.exit("nats-server not found: run scripts/bootstrap.sh")
    wanted = {options.only} if options.only else {"client", "route", "monitoring", "tls", "monitor-response"}
    if "client" in wanted:
        await capture_client(nats_server)
    if "route" in wanted:
        await capture_route("nats-server", nats_server, nats_server)
        await capture_route("natsd", options.natsd, options.natsd)
        await capture_route("natsd-nats-server", options.natsd, nats_server)
    if "monitoring" in wanted:
        await capture_http()
    if "tls" in wanted:
        capture_tls()
    if "monitor-response" in wanted:
        await capture_monitor_responses("nats-server", nats_server)
        await capture_monitor_responses("natsd", options.natsd)


if __name__ == "__main__":
    asyncio.run(main())
