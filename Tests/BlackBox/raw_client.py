"""A raw-socket NATS client for byte-exact wire checks.

It speaks no protocol by itself: tests send bytes and state exactly what must come back.
The only convenience is optional auto-answering of server PINGs that arrive while waiting for
something else (servers ping idle clients after a couple of seconds).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from dataclasses import dataclass

DEFAULT_TIMEOUT = 3.0

Pattern = bytes | re.Pattern


@dataclass
class Msg:
    """One MSG or HMSG frame as parsed from the wire."""

    subject: str
    sid: str
    reply: str | None
    headers: bytes | None
    payload: bytes


MSG_LINE = re.compile(rb"MSG ([^ \r\n]+) ([^ \r\n]+)(?: ([^ \r\n]+))? (\d+)\r\n")
HMSG_LINE = re.compile(rb"HMSG ([^ \r\n]+) ([^ \r\n]+)(?: ([^ \r\n]+))? (\d+) (\d+)\r\n")


class RawClient:
    """One TCP connection to a server, read through an explicit buffer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buffer = bytearray()
        self.eof = False
        self.info: dict = {}
        self.info_line: bytes = b""
        self.auto_pong = True

    # ---- connecting -----------------------------------------------------------------------------

    @classmethod
    async def open(cls, port: int, host: str = "127.0.0.1", read_info: bool = True,
                   rcvbuf: int | None = None) -> "RawClient":
        """Connects; unless `read_info` is false, reads and parses the server's INFO line.

        `rcvbuf` sets SO_RCVBUF before connecting (a small value makes a slow reader stall early).
        """
        sock = None
        if rcvbuf is not None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, (host, port))
            reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 20)
        else:
            reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        client = cls(reader, writer)
        if read_info:
            await client.read_info()
        return client

    async def read_info(self, timeout: float = DEFAULT_TIMEOUT) -> dict:
        """Reads `INFO <json> \\r\\n` (servers put a space before CRLF) and parses the JSON."""
        line = await self.read_until(b"\r\n", timeout)
        assert line.startswith(b"INFO "), f"expected INFO, got {line!r}"
        self.info_line = line
        self.info = json.loads(line[5:].strip())
        return self.info

    @classmethod
    async def connected(cls, port: int, connect: dict | None = None, **kwargs) -> "RawClient":
        """Opens a connection and completes a quiet handshake (non-verbose CONNECT, PING/PONG)."""
        options = {"verbose": False, "pedantic": False}
        options.update(connect or {})
        client = await cls.open(port, **kwargs)
        await client.send(b"CONNECT " + json.dumps(options).encode() + b"\r\nPING\r\n")
        await client.expect(b"PONG\r\n")
        return client

    # ---- writing --------------------------------------------------------------------------------

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send_connect(self, **options) -> None:
        await self.send(b"CONNECT " + json.dumps(options).encode() + b"\r\n")

    # ---- reading --------------------------------------------------------------------------------

    async def _fill(self, deadline: float) -> bool:
        """Reads more bytes into the buffer; False on EOF. Raises TimeoutError at `deadline`."""
        if self.eof:
            return False
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise TimeoutError
        try:
            chunk = await asyncio.wait_for(self.reader.read(65536), remaining)
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buffer += chunk
        return True

    def _deadline(self, timeout: float) -> float:
        return asyncio.get_running_loop().time() + timeout

    async def _answer_leading_pings(self, wanted: Pattern) -> bool:
        """Drops server PINGs at the head of the buffer (answering PONG) unless they are wanted.
        Returns True when the head might be the start of a PING, so more bytes are needed."""
        if not self.auto_pong:
            return False
        wants_ping = (wanted.startswith(b"PING") if isinstance(wanted, bytes)
                      else wanted.pattern.startswith(b"PING"))
        if wants_ping:
            return False
        while self.buffer.startswith(b"PING\r\n"):
            del self.buffer[:6]
            await self.send(b"PONG\r\n")
        return 0 < len(self.buffer) < 6 and b"PING\r\n".startswith(bytes(self.buffer))

    async def expect(self, wanted: Pattern, timeout: float = DEFAULT_TIMEOUT):
        """Consumes `wanted` from the head of the stream: exact bytes, or a compiled bytes regex
        matched at the head (returns the match). Fails on anything else, on EOF and on timeout."""
        deadline = self._deadline(timeout)
        while True:
            if await self._answer_leading_pings(wanted):
                pass
            elif isinstance(wanted, bytes):
                if len(self.buffer) >= len(wanted) or not wanted.startswith(bytes(self.buffer)):
                    got = bytes(self.buffer[: len(wanted)])
                    assert got == wanted, f"expected {wanted!r}, got {bytes(self.buffer)!r}"
                    del self.buffer[: len(wanted)]
                    return got
            else:
                match = wanted.match(bytes(self.buffer))
                if match and (match.end() < len(self.buffer) or self.eof or match.group(0).endswith(b"\n")):
                    del self.buffer[: match.end()]
                    return match
            try:
                more = await self._fill(deadline)
            except TimeoutError:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {wanted!r}; buffer={bytes(self.buffer)!r}"
                ) from None
            if not more:
                raise AssertionError(f"connection closed while waiting for {wanted!r}; "
                                     f"buffer={bytes(self.buffer)!r}")

    async def read_until(self, delimiter: bytes, timeout: float = DEFAULT_TIMEOUT) -> bytes:
        """Consumes and returns everything up to and including `delimiter`."""
        deadline = self._deadline(timeout)
        while True:
            index = self.buffer.find(delimiter)
            if index >= 0:
                data = bytes(self.buffer[: index + len(delimiter)])
                del self.buffer[: index + len(delimiter)]
                return data
            try:
                more = await self._fill(deadline)
            except TimeoutError:
                raise AssertionError(f"timed out waiting for {delimiter!r}; "
                                     f"buffer={bytes(self.buffer)!r}") from None
            if not more:
                raise AssertionError(f"connection closed before {delimiter!r}; buffer={bytes(self.buffer)!r}")

    async def read_for(self, duration: float) -> bytes:
        """Consumes whatever arrives within `duration` seconds (or until EOF)."""
        deadline = self._deadline(duration)
        try:
            while await self._fill(deadline):
                pass
        except TimeoutError:
            pass
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    async def expect_closed(self, timeout: float = DEFAULT_TIMEOUT, allow_data: bool = False) -> bytes:
        """Waits for the server to close the connection. Unless `allow_data`, any unread byte
        (already buffered or arriving before EOF) fails the check. Returns the unread bytes."""
        deadline = self._deadline(timeout)
        try:
            while await self._fill(deadline):
                pass
        except TimeoutError:
            raise AssertionError(f"connection still open after {timeout}s; "
                                 f"buffer={bytes(self.buffer)!r}") from None
        data = bytes(self.buffer)
        self.buffer.clear()
        if not allow_data:
            assert data == b"", f"expected a silent close, got {data!r}"
        return data

    async def expect_then_closed(self, wanted: Pattern, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Expects `wanted` (typically a final `-ERR`), then a close with nothing more sent."""
        await self.expect(wanted, timeout=timeout)
        await self.expect_closed()

    async def expect_nothing(self, duration: float = 0.3) -> None:
        """Asserts that no bytes arrive within `duration` and the connection stays open."""
        data = await self.read_for(duration)
        assert data == b"", f"expected silence, got {data!r}"
        assert not self.eof, "connection was closed"

    async def expect_open(self) -> None:
        """Round-trips a PING to prove the connection is open and everything before it was read."""
        await self.send(b"PING\r\n")
        await self.expect(b"PONG\r\n")

    async def read_messages_until_pong(self, timeout: float = DEFAULT_TIMEOUT) -> list[Msg]:
        """Sends PING and parses every MSG/HMSG that arrives before the PONG."""
        await self.send(b"PING\r\n")
        messages: list[Msg] = []
        frame = re.compile(rb"PONG\r\n|MSG [^\r\n]*\r\n|HMSG [^\r\n]*\r\n")
        while True:
            match = await self.expect(frame, timeout)
            line = match.group(0)
            if line == b"PONG\r\n":
                return messages
            if line.startswith(b"HMSG"):
                head = HMSG_LINE.fullmatch(line)
                assert head, f"malformed HMSG line {line!r}"
                hdr_len, total = int(head.group(4)), int(head.group(5))
                body = await self._read_exact(total + 2, timeout)
                messages.append(Msg(head.group(1).decode(), head.group(2).decode(),
                                    head.group(3).decode() if head.group(3) else None,
                                    body[:hdr_len], body[hdr_len:total]))
            else:
                head = MSG_LINE.fullmatch(line)
                assert head, f"malformed MSG line {line!r}"
                body = await self._read_exact(int(head.group(4)) + 2, timeout)
                messages.append(Msg(head.group(1).decode(), head.group(2).decode(),
                                    head.group(3).decode() if head.group(3) else None,
                                    None, body[:-2]))
            assert body.endswith(b"\r\n"), f"payload not followed by CRLF: {body!r}"

    async def _read_exact(self, count: int, timeout: float) -> bytes:
        deadline = self._deadline(timeout)
        while len(self.buffer) < count:
            if not await self._fill(deadline):
                raise AssertionError(f"connection closed inside a payload; buffer={bytes(self.buffer)!r}")
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    async def close(self) -> None:
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)
        except (OSError, asyncio.TimeoutError):
            pass
