"""HTTP monitoring port (`-m`): hostile requests, the request deadline, /connz sorting and paging.

Requests are written on raw sockets so malformed ones reach the server byte for byte. Well-formed
requests carry `Host` (Go's net/http requires it on HTTP/1.1) and `Connection: close`, so both servers
end the response with a close and the reader stops at EOF.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import socket
import time
from dataclasses import dataclass

import pytest

from raw_client import RawClient
from server_process import free_port
from socket_helpers import read_until_closed

HTTP_TIMEOUT = 5.0
# nats-server's monitoring server closes a connection whose request headers did not arrive within
# 5 s (ReadHeaderTimeout); natsd uses the same deadline.
REQUEST_DEADLINE = 5.0


@dataclass
class HTTPResponse:
    status: int
    head: str
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Monitored:
    """A server with its monitoring port."""

    server: object
    http_port: int

    def pid(self) -> int:
        return self.server.proc.pid


def exchange(port: int, raw: bytes, timeout: float = HTTP_TIMEOUT, send_errors: list | None = None) -> bytes:
    """Sends `raw` and returns everything the server sends until it closes. A reset after the
    answer (the server closed with request bytes still unread) ends the read like EOF; an error
    while sending is appended to `send_errors` when given."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(raw)
        except (BrokenPipeError, ConnectionResetError) as error:
            if send_errors is not None:
                send_errors.append(error)  # the server answered and closed before taking every byte
        data, closed = read_until_closed(sock, max(started + timeout - time.monotonic(), 0.01))
        if not closed:
            raise TimeoutError(f"no close within {timeout}s after {raw[:80]!r}; got {data[:200]!r}")
        return data


def parse_response(data: bytes) -> HTTPResponse:
    head, _, body = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode()
    assert status_line.startswith("HTTP/1."), f"not an HTTP response: {data[:200]!r}"
    return HTTPResponse(status=int(status_line.split(" ")[1]), head=head.decode(), body=body)


def get(port: int, target: str, method: str = "GET", version: str = "HTTP/1.1") -> HTTPResponse:
    request = f"{method} {target} {version}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    return parse_response(exchange(port, request.encode()))


def connz(monitored: Monitored, query: str = "") -> dict:
    response = get(monitored.http_port, "/connz" + query)
    assert response.status == 200, response
    return response.json()


def wait_monitor(port: int, timeout: float = 5.0) -> None:
    """The monitoring listener may open a moment after the client port."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.fixture
def monitored(start) -> Monitored:
    http_port = free_port()
    server = start("-m", str(http_port))
    wait_monitor(http_port)
    return Monitored(server, http_port)


def assert_still_serving(monitored: Monitored) -> None:
    assert monitored.server.alive(), monitored.server.log
    varz = get(monitored.http_port, "/varz")
    assert varz.status == 200
    assert varz.json()["server_id"]


# ---- hostile requests ---------------------------------------------------------------------------

# Targets with empty or broken query pairs: issue 6 saw the first three end natsd with a segfault.
# nats-server ignores pairs it cannot use and serves the endpoint.
QUERY_TARGETS = [
    "/connz?=", "/varz?=", "/routez?a=1&=&b", "/connz?%zz", "/connz?&&&", "/subsz?=&=", "/healthz?=",
    "/connz?sort=&offset=&limit=&cid=&subs=", "/connz?=x&x=&==", "/connz?%", "/routez?subs&",
]


@pytest.mark.parametrize("target", QUERY_TARGETS)
def test_odd_query_strings_are_served(monitored, target):
    response = get(monitored.http_port, target)
    assert response.status == 200, response
    assert isinstance(response.json(), dict)
    assert_still_serving(monitored)


def test_invalid_path_escape_is_a_bad_request(monitored):
    response = get(monitored.http_port, "/conn%zz")
    assert response.status == 400
    assert_still_serving(monitored)


@pytest.mark.parametrize("raw", [
    b"GARBAGE\r\n\r\n",
    b"\x00\x01\x02\x03\r\n\r\n",
    b"GET /varz HTTP/1.1\r\nHost x\r\n\r\n",
    b"GET /varz\r\n\r\n",
], ids=["word", "binary", "header-without-colon", "no-version"])
def test_garbage_requests_get_400(monitored, raw):
    response = parse_response(exchange(monitored.http_port, raw))
    assert response.status == 400
    assert_still_serving(monitored)


@pytest.mark.parametrize("version", ["HTTP/2.0", "HTTP/9.9"])
def test_other_http_versions_get_505(monitored, version):
    response = get(monitored.http_port, "/varz", version=version)
    assert response.status == 505
    assert response.body.startswith(b"505 HTTP Version Not Supported")
    assert_still_serving(monitored)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_any_method_is_served(monitored, method):
    request = f"{method} /varz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    response = parse_response(exchange(monitored.http_port, request.encode()))
    assert response.status == 200
    assert response.json()["server_id"]


def test_head_has_no_body(monitored):
    response = get(monitored.http_port, "/varz", method="HEAD")
    assert response.status == 200
    assert response.body == b""
    assert_still_serving(monitored)


def test_http_1_0_is_served(monitored):
    response = get(monitored.http_port, "/connz?limit=1", version="HTTP/1.0")
    assert response.status == 200
    assert response.json()["limit"] == 1


def test_oversized_request_headers_are_refused(monitored):
    """Headers past the servers' limit (1 MiB + 4 KiB, Go's net/http with MaxHeaderBytes 1 MiB) get a 431;
    never a crash. nats-server may reset the connection while the request is still arriving (Go
    stops reading, waits 500 ms and closes over the unread bytes). natsd sends the 431 and a FIN and
    reads on until the client's end, so the client always gets the answer."""
    raw = b"GET /varz HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * (8 << 20) + b"\r\n\r\n"
    send_errors: list = []
    data = exchange(monitored.http_port, raw, send_errors=send_errors)
    if monitored.server.impl == "natsd":
        assert send_errors == []  # the whole request was taken: nothing was reset
        assert parse_response(data).status == 431
    elif data:
        assert parse_response(data).status == 431
    assert_still_serving(monitored)


# The longest request head both servers read (bytes): Go's net/http reads up to MaxHeaderBytes (1 MiB in
# nats-server's monitor) plus 4096 bytes of buffer slack, and answers 431 past that.
HEAD_LIMIT = (1 << 20) + 4096


def request_with_query(query_bytes: int) -> bytes:
    return f"GET /varz?x={'a' * query_bytes} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()


@pytest.mark.parametrize("query_bytes", [100_000, 1_000_000])
def test_long_query_string_is_served(monitored, query_bytes):
    """A 100 KB or 1000 KB query string is within the head limit: served (an unknown parameter is ignored)."""
    response = parse_response(exchange(monitored.http_port, request_with_query(query_bytes)))
    assert response.status == 200
    assert response.json()["server_id"]


@pytest.mark.parametrize("others, limit", [(9_999, 1), (10_000, 1024)])
def test_query_of_more_than_ten_thousand_parameters_is_ignored(monitored, others, limit):
    """Go's url.ParseQuery keeps at most 10 000 parameters and ignores a longer query whole: `limit=1`
    then counts only while the query stays within that (1024 is /connz's default)."""
    query = "limit=1&" + "&".join(["x=1"] * others)
    request = f"GET /connz?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    assert parse_response(exchange(monitored.http_port, request)).json()["limit"] == limit


def test_query_of_a_million_separators_is_served_with_defaults(monitored):
    # Near the head limit and far over the parameter limit: served as if there were no query.
    request = b"GET /connz?limit=1" + b"&" * 1_040_000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    assert parse_response(exchange(monitored.http_port, request)).json()["limit"] == 1024
    assert_still_serving(monitored)


def test_pair_with_a_semicolon_is_dropped(monitored):
    # Go's url.ParseQuery no longer splits on `;`: the pair is dropped, the others count.
    assert connz(monitored, "?limit=1;x=1")["limit"] == 1024
    assert connz(monitored, "?limit=1;x=1&offset=0&limit=2")["limit"] == 2


def test_request_head_limit(monitored):
    """A head of exactly the limit is served, one byte more gets a 431 (nats-server may reset the
    connection before the answer arrives: it stops reading past the limit), and both keep serving."""
    fixed = len(request_with_query(0))
    at_limit = exchange(monitored.http_port, request_with_query(HEAD_LIMIT - fixed))
    assert parse_response(at_limit).status == 200
    over = exchange(monitored.http_port, request_with_query(HEAD_LIMIT - fixed + 1))
    if over or monitored.server.impl == "natsd":
        assert parse_response(over).status == 431
    assert_still_serving(monitored)


def test_header_that_never_ends_is_bounded(monitored):
    """An endless header line, sent until the server stops taking it: refused with 431 or closed,
    and the server keeps serving."""
    sock = socket.create_connection(("127.0.0.1", monitored.http_port), timeout=HTTP_TIMEOUT)
    try:
        sock.sendall(b"GET /varz HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        chunk = b"b" * 65536
        sent = 0
        deadline = time.monotonic() + HTTP_TIMEOUT
        while sent < (4 << 20) and time.monotonic() < deadline:
            try:
                sock.sendall(chunk)
                sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                break
        data, ended = read_until_closed(sock, max(deadline - time.monotonic(), 0.5))
        assert ended, f"still open after {sent} bytes of header; got {data[:200]!r}"
        if data:
            assert parse_response(data).status == 431
    finally:
        sock.close()
    assert_still_serving(monitored)


# ---- request deadline ---------------------------------------------------------------------------

@pytest.mark.slow
def test_idle_and_slow_sockets_are_closed_after_the_request_deadline(monitored):
    """200 sockets: half send nothing, half the start of a request. The server closes each one
    after the request deadline (5 s, nats-server's ReadHeaderTimeout) without an answer, and its
    descriptor count returns to where it was."""
    pid = monitored.pid()
    baseline = open_descriptors(pid)
    sockets = []
    try:
        for index in range(200):
            sock = socket.create_connection(("127.0.0.1", monitored.http_port), timeout=2)
            if index % 2:
                sock.sendall(b"GET /varz HTTP/1.1\r\nHost: x\r\n")
            sock.setblocking(False)
            sockets.append(sock)
        opened = time.monotonic()
        # The server accepts from its backlog a moment after the connects returned. A few descriptors
        # of the baseline may be transient (the readiness probe's socket), hence the slack of 5.
        accept_deadline = opened + 3
        while open_descriptors(pid) < baseline + 195 and time.monotonic() < accept_deadline:
            time.sleep(0.05)
        assert open_descriptors(pid) >= baseline + 195, "the server should hold the 200 sockets open"
        pending = {sock.fileno(): sock for sock in sockets}
        closed_at: list[float] = []
        received = b""
        while pending and time.monotonic() - opened < REQUEST_DEADLINE + 4:
            readable, _, _ = select.select(list(pending.values()), [], [], 0.5)
            for sock in readable:
                try:
                    chunk = sock.recv(4096)
                except ConnectionResetError:
                    chunk = b""
                received += chunk
                if not chunk:
                    closed_at.append(time.monotonic() - opened)
                    del pending[sock.fileno()]
        assert not pending, f"{len(pending)} of 200 sockets still open after {REQUEST_DEADLINE + 4}s"
        assert received == b"", "an unfinished request gets no answer"
        assert min(closed_at) >= REQUEST_DEADLINE - 1.5, f"closed too early: {min(closed_at):.2f}s"
    finally:
        for sock in sockets:
            sock.close()
    deadline = time.monotonic() + 3
    while open_descriptors(pid) > baseline + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert open_descriptors(pid) <= baseline + 2, "monitoring sockets leaked"
    assert_still_serving(monitored)


# ---- /connz sorting and paging --------------------------------------------------------------------

# Three clients that differ in every sortable value. Client i subscribes to its own subject (plus
# extra subjects up to SUBS[i]), publishes MSGS[i] messages of PAYLOAD[i] bytes to it and receives
# them back (echo), so in/out messages and bytes follow MSGS and MSGS * PAYLOAD.
SUBS = [2, 3, 1]
MSGS = [3, 1, 2]
PAYLOAD = [1, 50, 10]
# Last activity: a final publish by each client in this order, 0.2 s apart.
ACTIVITY_ORDER = [1, 2, 0]

# Expected order of the three clients (by index) for each key: cid/start ascending, uptime
# ascending (youngest first), every other key descending.
EXPECTED_ORDER = {
    "cid": [0, 1, 2],
    "start": [0, 1, 2],
    "subs": [1, 0, 2],
    "msgs_from": [0, 2, 1],
    "msgs_to": [0, 2, 1],
    "bytes_from": [1, 2, 0],
    "bytes_to": [1, 2, 0],
    "last": [0, 2, 1],
    "idle": [1, 2, 0],
    "uptime": [2, 1, 0],
}


async def make_clients(port: int) -> list[RawClient]:
    clients = []
    for index in range(3):
        client = await RawClient.connected(port)
        subject = f"own.{index}"
        subs = [f"SUB {subject} 1\r\n"] + [f"SUB extra.{index}.{n} {n + 2}\r\n" for n in range(SUBS[index] - 1)]
        payload = b"p" * PAYLOAD[index]
        pubs = b"".join(f"PUB {subject} {len(payload)}\r\n".encode() + payload + b"\r\n"
                        for _ in range(MSGS[index]))
        await client.send("".join(subs).encode() + pubs)
        messages = await client.read_messages_until_pong()
        assert len(messages) == MSGS[index]
        clients.append(client)
        await asyncio.sleep(0.05)  # distinct start times
    for index in ACTIVITY_ORDER:
        await asyncio.sleep(0.2)
        # A message counts as activity for both servers (nats-server ignores a lone PING).
        await clients[index].send(b"PUB nobody.listens 0\r\n\r\nPING\r\n")
        await clients[index].expect(b"PONG\r\n")
    return clients


async def close_all(clients: list[RawClient]) -> None:
    for client in clients:
        await client.close()


def client_order(document: dict, cids: list[int]) -> list[int]:
    """Indexes (into `cids`) of the listed connections, in listed order."""
    return [cids.index(conn["cid"]) for conn in document["connections"] if conn["cid"] in cids]


async def test_connz_sort_orders(monitored):
    clients = await make_clients(monitored.server.port)
    try:
        by_cid = connz(monitored)
        assert by_cid["total"] == 3
        cids = [conn["cid"] for conn in by_cid["connections"]]
        assert cids == sorted(cids)
        # Sanity: the values the expected orders rest on.
        for index, cid in enumerate(cids):
            conn = next(c for c in by_cid["connections"] if c["cid"] == cid)
            assert conn["subscriptions"] == SUBS[index]
            assert conn["in_msgs"] == MSGS[index] + 1  # plus the final empty publish
            assert conn["out_msgs"] == MSGS[index]
        for key, expected in EXPECTED_ORDER.items():
            document = connz(monitored, f"?sort={key}")
            assert client_order(document, cids) == expected, key
            assert document["num_connections"] == 3, key
        # Keys without a usable spread here must still be accepted and list everyone.
        for key in ("pending", "rtt"):
            document = connz(monitored, f"?sort={key}")
            assert sorted(client_order(document, cids)) == [0, 1, 2], key
    finally:
        await close_all(clients)


async def test_connz_offset_and_limit_page_the_sorted_list(monitored):
    clients = await make_clients(monitored.server.port)
    try:
        cids = [conn["cid"] for conn in connz(monitored)["connections"]]
        expected = EXPECTED_ORDER["subs"]
        pages = []
        for offset in range(3):
            page = connz(monitored, f"?sort=subs&offset={offset}&limit=1")
            assert (page["offset"], page["limit"], page["total"], page["num_connections"]) == (offset, 1, 3, 1)
            pages += client_order(page, cids)
        assert pages == expected
        page = connz(monitored, "?sort=subs&offset=1&limit=5")
        assert (page["offset"], page["limit"], page["total"], page["num_connections"]) == (1, 5, 3, 2)
        assert client_order(page, cids) == expected[1:]
        past = connz(monitored, "?offset=7&limit=2")
        assert (past["offset"], past["limit"], past["total"], past["num_connections"]) == (7, 2, 3, 0)
        assert past["connections"] == []
        # Out-of-range values fall back to nats-server's defaults: offset 0, limit 1024.
        defaults = connz(monitored, "?offset=-4&limit=0")
        assert (defaults["offset"], defaults["limit"], defaults["num_connections"]) == (0, 1024, 3)
        negative = connz(monitored, "?limit=-1")
        assert negative["limit"] == 1024
        # A cid filter lists that connection only, with limit 1; total still counts every connection.
        single = connz(monitored, f"?cid={cids[1]}")
        assert (single["limit"], single["total"], single["num_connections"]) == (1, 3, 1)
        assert single["connections"][0]["cid"] == cids[1]
    finally:
        await close_all(clients)


@pytest.mark.parametrize("query, message", [
    ("?sort=bogus", "invalid sorting option: bogus"),
    ("?sort=stop", "sort by stop only valid on closed connections"),
    ("?sort=reason", "sort by reason only valid on closed connections"),
    ("?offset=abc", "Error decoding int for 'offset': strconv.Atoi: parsing \"abc\": invalid syntax"),
    ("?limit=1.5", "Error decoding int for 'limit': strconv.Atoi: parsing \"1.5\": invalid syntax"),
    ("?offset=99999999999999999999",
     "Error decoding int for 'offset': strconv.Atoi: parsing \"99999999999999999999\": value out of range"),
    ("?cid=-1", "Error decoding uint64 for 'cid': strconv.ParseUint: parsing \"-1\": invalid syntax"),
    ("?subs=maybe", "Error decoding boolean for 'subs': strconv.ParseBool: parsing \"maybe\": invalid syntax"),
    # A request target has no fragment: the `#` stays in the value.
    ("?limit=1#x", "Error decoding int for 'limit': strconv.Atoi: parsing \"1#x\": invalid syntax"),
])
def test_connz_bad_options_are_400_with_nats_server_text(monitored, query, message):
    response = get(monitored.http_port, "/connz" + query)
    assert response.status == 400
    assert response.body.decode() == message
    assert_still_serving(monitored)
