#!/usr/bin/env python3
"""Instructions (callgrind) or heap allocations (memcheck) natsd spends per message on one path.

Runs natsd (a stripped copy of the release binary) under callgrind twice, once for a small and once for a
large message count, with the same setup; the difference in total instructions (every thread) divided by
the difference in messages is the per-message cost, free of start-up and shutdown. Paths:

  local    one loop: publisher and subscriber on the same loop (`--loops 1`)
  crossloop two loops: the publisher's connection on loop 0, the subscriber's on loop 1 (`--loops 2`;
           accepts go round robin, so the first connection lands on loop 0, the second on loop 1)
  route    the publishing node of a 2-node cluster: messages forwarded to a route (the subscriber is on
           the other node, which runs normally)
  routed   the receiving node: messages arriving over a route, delivered to a local subscriber
  permissions  `local` with both clients logged in as a user whose permissions allow the subject (issue 8):
           publish allow list, subscribe deny list, and a wildcard subscription, so every PUB is checked
           (cached) and every delivery goes through the subscribe deny filter
  account-route, account-routed  `route` and `routed` with both clients in account T1 of an accounts
           config on both nodes (issue 8): the account named on the route, looked up per routed message

With --allocations the same runs go through valgrind's memcheck instead, and the figure is heap
allocations per message (memcheck's "total heap usage: N allocs"); --max-allocations makes the script
exit 1 when a path allocates more than that per message (the hot path's rule: no allocation per message).

Usage: scripts/callgrind-path.py [--binary PATH] [--small N] [--large N] [--size BYTES]
                                 [--allocations [--max-allocations X]] PATH...
Prints one line per path.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def read_ports(directory: Path, pid: int, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in directory.glob(f"*_{pid}.ports"):
            text = path.read_text()
            if text.strip().endswith("}"):
                import json
                return json.loads(text)
        time.sleep(0.05)
    raise RuntimeError(f"no ports file from pid {pid} in {directory}")


def port_of(urls: list[str]) -> int:
    return int(urls[0].rsplit(":", 1)[1])


TOOL = "callgrind"


def start(binary: str, args: list[str], workdir: Path, valgrind_out: Path | None):
    argv = [binary, "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", str(workdir)] + args
    if valgrind_out and TOOL == "memcheck":
        argv = ["valgrind", "--tool=memcheck", "--leak-check=no", f"--log-file={valgrind_out}"] + argv
    elif valgrind_out:
        argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={valgrind_out}"] + argv
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, read_ports(workdir, proc.pid)


PERMISSIONS_CONFIG = """authorization {
  users = [ {user: bench, password: bench,
             permissions: {publish: {allow: ["bench", "_INBOX.>"], deny: ["bench.secret"]},
                           subscribe: {allow: ">", deny: ["secret.>"]}}} ]
}
"""
CREDENTIALS = b',"user":"bench","pass":"bench"'
# Two accounts besides $G: the account paths run in T1, whose name the routes carry on every RS+ and RMSG.
ACCOUNTS_CONFIG = """accounts {
  T0 { users = [ {user: t0, password: bench} ] }
  T1 { users = [ {user: bench, password: bench} ] }
}
"""


def connect(port: int, credentials: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.recv(4096)  # INFO
    sock.sendall(b'CONNECT {"verbose":false,"pedantic":false' + credentials + b'}\r\nPING\r\n')
    expect(sock, b"PONG\r\n")
    return sock


def expect(sock: socket.socket, marker: bytes, already: bytes = b"") -> bytes:
    data = already
    while marker not in data:
        chunk = sock.recv(1 << 16)
        if not chunk:
            raise RuntimeError("connection closed")
        data += chunk
    return data


def drive(pub_port: int, sub_port: int, count: int, size: int, settle, credentials: bytes = b"",
          sub_subject: bytes = b"bench") -> None:
    """One subscriber (to `sub_subject`) on `sub_port`, one publisher on `pub_port` (connected in that
    order), `count` messages on `bench`; returns once the subscriber has them all."""
    sub = connect(sub_port, credentials)
    sub.sendall(b"SUB " + sub_subject + b" 1\r\nPING\r\n")
    expect(sub, b"PONG\r\n")
    settle()
    pub = connect(pub_port, credentials)
    frame = b"PUB bench %d\r\n" % size + b"x" * size + b"\r\n"
    per_message = len(b"MSG bench 1 %d\r\n" % size) + size + 2
    batch = frame * 1000
    sent = 0
    while sent < count:
        n = min(1000, count - sent)
        pub.sendall(batch if n == 1000 else frame * n)
        sent += n
    pub.sendall(b"PING\r\n")
    expect(pub, b"PONG\r\n")
    wanted = per_message * count
    got = 0
    while got < wanted:
        chunk = sub.recv(1 << 20)
        if not chunk:
            raise RuntimeError("subscriber closed")
        got += len(chunk)
    pub.close()
    sub.close()


def total_instructions(path: Path) -> int:
    if TOOL == "memcheck":
        match = re.search(r"total heap usage: ([0-9,]+) allocs", path.read_text(errors="replace"))
        if not match:
            raise RuntimeError(f"no heap summary in {path}")
        return int(match.group(1).replace(",", ""))
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def measure(binary: str, path: str, count: int, size: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        out = workdir / "callgrind.out"
        others = []
        try:
            if path in ("local", "crossloop"):
                loops = "1" if path == "local" else "2"
                proc, ports = start(binary, ["--loops", loops], workdir, out)
                port = port_of(ports["nats"])
                # The subscriber connects first (loop 0), the publisher second (loop 1 with two loops).
                drive(port, port, count, size, settle=lambda: None)
            elif path == "permissions":
                config = workdir / "permissions.conf"
                config.write_text(PERMISSIONS_CONFIG)
                proc, ports = start(binary, ["--loops", "1", "-c", str(config)], workdir, out)
                port = port_of(ports["nats"])
                drive(port, port, count, size, settle=lambda: None, credentials=CREDENTIALS, sub_subject=b"*")
            else:
                # Node A publishes (route path) or receives (routed path); node B is the other end.
                measured_dir = workdir / "a"
                other_dir = workdir / "b"
                measured_dir.mkdir()
                other_dir.mkdir()
                extra, credentials = [], b""
                if path.startswith("account-"):
                    config = workdir / "accounts.conf"
                    config.write_text(ACCOUNTS_CONFIG)
                    extra, credentials = ["-c", str(config)], CREDENTIALS
                other, other_ports = start(binary, ["--loops", "1", "--cluster", "nats://127.0.0.1:-1"] + extra, other_dir,
                                           None)
                others.append(other)
                route_url = other_ports["cluster"][0].replace("nats://", "nats-route://")
                proc, ports = start(binary, ["--loops", "1", "--cluster", "nats://127.0.0.1:-1", "--routes", route_url]
                                    + extra, measured_dir, out)
                measured_port = port_of(ports["nats"])
                other_port = port_of(other_ports["nats"])
                settle = lambda: time.sleep(3)  # RS+ reaches the publishing node
                time.sleep(3)  # the route is up
                if path.endswith("routed"):
                    drive(other_port, measured_port, count, size, settle, credentials)
                else:
                    drive(measured_port, other_port, count, size, settle, credentials)
            proc.terminate()
            proc.wait(120)
        finally:
            for other in others:
                other.kill()
                other.wait()
        return total_instructions(out)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(REPO / ".build" / "release" / "natsd"))
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=300_000)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--allocations", action="store_true", help="count heap allocations (memcheck)")
    parser.add_argument("--max-allocations", type=float, default=None,
                        help="with --allocations: exit 1 when a path allocates more per message")
    parser.add_argument("paths", nargs="+", choices=["local", "crossloop", "route", "routed", "permissions", "account-route", "account-routed"])
    options = parser.parse_args()
    global TOOL
    TOOL = "memcheck" if options.allocations else "callgrind"
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        stripped = Path(tmp) / "natsd"
        shutil.copy(options.binary, stripped)
        subprocess.run(["strip", str(stripped)], check=True)
        for path in options.paths:
            small = measure(str(stripped), path, options.small, options.size)
            large = measure(str(stripped), path, options.large, options.size)
            per_message = (large - small) / (options.large - options.small)
            if options.allocations:
                print(f"{path}: {per_message:.4f} heap allocations per message ({options.size} B)", flush=True)
                if options.max_allocations is not None and per_message > options.max_allocations:
                    print(f"{path}: more than {options.max_allocations} allocations per message", file=sys.stderr)
                    failed = True
            else:
                print(f"{path}: {per_message:.1f} instructions per message ({options.size} B)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
