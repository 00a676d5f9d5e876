"""Starting and stopping a NATS server binary (natsd or nats-server) for black-box tests.

Both implementations take nats-server's command line flags, so a server is described only by
its binary and its extra arguments; nothing here knows which implementation it runs.
"""

from __future__ import annotations

import os
import shutil
import random
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 10.0


# Ports are drawn below the kernel's ephemeral range (32768-60999 on Linux): a port from that range
# can be taken by any outgoing connection — a route being dialled — before the server that was
# promised it binds it. Each port is handed out once per session.
_PORT_RANGE = (20000, 32000)
_handed_out: set[int] = set()
_port_random = random.Random(os.getpid())


def free_port() -> int:
    """Returns a loopback TCP port that is free now and was not returned before in this session."""
    for _ in range(1000):
        port = _port_random.randrange(*_PORT_RANGE)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free loopback port found")


def natsd_binary() -> str:
    """Path of the natsd binary: env NATSD_BIN, else the debug build in the repository."""
    return os.environ.get("NATSD_BIN") or str(REPO_ROOT / ".build" / "debug" / "natsd")


def nats_server_binary() -> str | None:
    """Path of the reference nats-server: the one pip installed into .venv, else PATH."""
    candidate = REPO_ROOT / ".venv" / "bin" / "nats-server"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which("nats-server")


ALL_IMPLS = ("natsd", "nats-server")


def selected_impls() -> list[str]:
    """Implementations to test: env BLACKBOX_IMPLS (comma list), default both."""
    raw = os.environ.get("BLACKBOX_IMPLS", "")
    names = [name.strip() for name in raw.split(",") if name.strip()] or list(ALL_IMPLS)
    unknown = [name for name in names if name not in ALL_IMPLS]
    if unknown:
        raise ValueError(f"BLACKBOX_IMPLS: unknown implementation(s) {unknown}; known: {ALL_IMPLS}")
    return names


def binary_for(impl: str) -> str:
    """Resolves an implementation name to an executable path, failing loudly when it is missing."""
    path = natsd_binary() if impl == "natsd" else nats_server_binary()
    if not path or not (os.path.isfile(path) and os.access(path, os.X_OK)):
        hint = "build it (swift build) or set NATSD_BIN" if impl == "natsd" else "run scripts/bootstrap.sh"
        raise FileNotFoundError(f"{impl} binary not found at {path!r}: {hint}, or restrict BLACKBOX_IMPLS")
    return path


@dataclass
class ServerHandle:
    """A running server process listening on a loopback port."""

    impl: str
    host: str
    port: int
    args: list[str]
    proc: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def log(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> int | None:
        """Asks the server to exit (SIGTERM), then kills it if it does not within `timeout`."""
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def kill(self) -> None:
        """Kills the server at once (SIGKILL) and reaps it."""
        if self.alive():
            self.proc.kill()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass


def wait_until_accepting(handle: ServerHandle, timeout: float = READY_TIMEOUT) -> None:
    """Waits until the server accepts a TCP connection and sends its first line (INFO)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if not handle.alive():
            raise RuntimeError(
                f"{handle.impl} exited with {handle.proc.returncode} before accepting; "
                f"argv={handle.args}\n--- log ---\n{handle.log}"
            )
        try:
            with socket.create_connection((handle.host, handle.port), timeout=1.0) as sock:
                sock.settimeout(1.0)
                if sock.recv(1):
                    return
        except OSError as error:
            last_error = error
        time.sleep(0.05)
    handle.kill()
    raise TimeoutError(
        f"{handle.impl} did not accept on {handle.host}:{handle.port} within {timeout}s "
        f"({last_error}); argv={handle.args}\n--- log ---\n{handle.log}"
    )


def start_server(
    impl: str,
    extra_args: list[str] | None = None,
    config: str | None = None,
    workdir: Path | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    wait: bool = True,
) -> ServerHandle:
    """Starts `impl` with `-a host -p <port or a free one>` plus `extra_args`; waits until it
    accepts unless `wait` is false (then call `wait_until_accepting` yourself).

    `config`, when given, is written to a file passed with `-c` (the same file for every
    implementation). Env BLACKBOX_TRACE=1 adds `-DV` so the captured log shows the protocol.
    A restart on the same port appends to the same log file.
    """
    workdir = Path(workdir or tempfile.mkdtemp(prefix="blackbox-"))
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    argv = [binary_for(impl), "-a", host, "-p", str(port)]
    if config is not None:
        config_path = workdir / f"{impl}-{port}.conf"
        config_path.write_text(config)
        argv += ["-c", str(config_path)]
    if os.environ.get("BLACKBOX_TRACE") == "1":
        argv.append("-DV")
    argv += list(extra_args or [])
    log_path = workdir / f"{impl}-{port}.log"
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, cwd=workdir
        )
    handle = ServerHandle(impl=impl, host=host, port=port, args=argv, proc=proc, log_path=log_path)
    if not wait:
        return handle
    try:
        wait_until_accepting(handle)
    except BaseException:
        handle.kill()
        raise
    return handle
