"""Starting and stopping a NATS server binary (natsd or nats-server) for black-box tests.

Both implementations take nats-server's command line flags, so a server is described only by
its binary and its extra arguments; nothing here knows which implementation it runs.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from port_allocator import claim_port, release_port  # noqa: F401 (release_port is re-exported)

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 10.0
# How long a server on a fixed port is restarted while that port is still held (a restart right
# after a kill, a lingering socket): bounded, then the start fails with the log.
BIND_RETRY_SECONDS = 5.0


def free_port() -> int:
    """A loopback port claimed for this test session (see port_allocator.py): no other test, pytest
    process or bench holds it until `release_port(port)` or the session ends. Use it only when a
    port must be known before its server starts (a route URL to a later node, a restart on the same
    port); `start_server` without `port` lets the server pick one instead."""
    return claim_port()


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


def natsd_loop_args(impl: str) -> list[str]:
    """`--loops N` for natsd when env NATSD_LOOPS is set (the suite runs with 1 and with 4 loops); a test's
    own `--loops` comes later in argv and wins."""
    loops = os.environ.get("NATSD_LOOPS", "")
    return ["--loops", loops] if impl == "natsd" and loops else []


def binary_for(impl: str) -> str:
    """Resolves an implementation name to an executable path, failing loudly when it is missing."""
    path = natsd_binary() if impl == "natsd" else nats_server_binary()
    if not path or not (os.path.isfile(path) and os.access(path, os.X_OK)):
        hint = "build it (swift build) or set NATSD_BIN" if impl == "natsd" else "run scripts/bootstrap.sh"
        raise FileNotFoundError(f"{impl} binary not found at {path!r}: {hint}, or restrict BLACKBOX_IMPLS")
    return path


@dataclass
class ServerHandle:
    """A running server process listening on a loopback port.

    `port` is the client port; `cluster_port` and `monitoring_port` are the bound cluster and
    monitoring ports (None when not enabled). All three are read from the server's ports file once
    it is ready, so they are right even when the server picked them itself (`-1`)."""

    impl: str
    host: str
    port: int
    args: list[str]
    proc: subprocess.Popen
    log_path: Path
    workdir: Path | None = None
    cluster_port: int | None = None
    monitoring_port: int | None = None
    # True when every port was given (a restart): a bind failure is then retried for a while.
    fixed_ports: bool = False
    # Where in log_path the current process's output starts (a restart appends).
    log_offset: int = 0
    spawned_at: float = field(default_factory=time.monotonic)

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

    def current_log(self) -> str:
        """What the current process (not an earlier one on this log) wrote."""
        try:
            with open(self.log_path, "rb") as file:
                file.seek(self.log_offset)
                return file.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def ports_file(self) -> Path | None:
        """The ports file of the current process (`<executable>_<pid>.ports` in the work directory)."""
        directory = _option_value(self.args, "--ports_file_dir")
        if directory is None:
            return None
        return Path(directory) / f"{Path(self.args[0]).name}_{self.proc.pid}.ports"

    def respawn(self) -> None:
        """Starts the same command line again, appending to the same log."""
        self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.proc = _spawn(self.args, self.log_path, self.workdir)
        self.spawned_at = time.monotonic()

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


def _spawn(argv: list[str], log_path: Path, workdir: Path | None) -> subprocess.Popen:
    with open(log_path, "ab") as log_file:
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, cwd=workdir
        )


def read_ports_file(path: Path) -> dict[str, list[str]] | None:
    """The URL lists of a ports file (`nats`, `cluster`, `monitoring`), or None while it is absent
    or still being written (nats-server does not write it atomically)."""
    try:
        ports = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return ports if isinstance(ports, dict) and ports.get("nats") else None


def port_of(url: str) -> int:
    """The port a URL ends with, as written (`nats://127.0.0.1:4222/` gives 4222; a server that
    wrongly advertises `:-1` gives -1). Raises ValueError when the URL ends with no port."""
    return int(url.rstrip("/").rsplit(":", 1)[1])


def _first_port(urls: list[str] | None) -> int | None:
    for url in urls or []:
        try:
            port = port_of(url)
        except ValueError:
            continue
        if 0 < port < 65536:
            return port
    return None


def wait_for(check, timeout: float = 5.0, what: str = "condition"):
    """Polls `check` every 20 ms until it returns something truthy, and returns that; fails with an
    AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def wait_for_ports_file(handle: ServerHandle, timeout: float = 5.0) -> dict[str, list[str]]:
    """The URL lists of the handle's ports file (`<executable>_<pid>.ports` in the `--ports_file_dir`
    of its command line) once written; fails with the log if the server exits first or `timeout`
    seconds pass."""
    path = handle.ports_file()
    assert path is not None, f"no --ports_file_dir in {handle.args}"

    def load():
        if not handle.alive():
            raise AssertionError(f"{handle.impl} exited with {handle.proc.returncode}\n{handle.log}")
        return read_ports_file(path)
    return wait_for(load, timeout, f"the ports file {path}")


def _apply_ports(handle: ServerHandle, ports: dict[str, list[str]]) -> None:
    handle.port = _first_port(ports.get("nats")) or handle.port
    handle.cluster_port = _first_port(ports.get("cluster"))
    handle.monitoring_port = _first_port(ports.get("monitoring"))


def _failed_to_bind(handle: ServerHandle) -> bool:
    """The current process exited because a fixed port was still taken, and may be restarted."""
    return (handle.fixed_ports and not handle.alive()
            and "address already in use" in handle.current_log().lower())


def wait_until_accepting(handle: ServerHandle, timeout: float = READY_TIMEOUT) -> None:
    """Waits until the server has written its ports file (when it was asked to) and accepts a TCP
    connection that sends a first line (INFO); updates the handle's ports from the file.

    A server on fixed ports that exits with "address already in use" is started again, for at most
    BIND_RETRY_SECONDS. Fails with the server's log on exit or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    first_spawn = handle.spawned_at
    last_error: Exception | None = None
    ports_read = "--ports_file_dir" not in handle.args
    while time.monotonic() < deadline:
        if not handle.alive():
            if _failed_to_bind(handle) and time.monotonic() - first_spawn < BIND_RETRY_SECONDS:
                time.sleep(0.1)
                handle.respawn()
                ports_read = "--ports_file_dir" not in handle.args
                continue
            raise RuntimeError(
                f"{handle.impl} exited with {handle.proc.returncode} before accepting; "
                f"argv={handle.args}\n--- log ---\n{handle.log}"
            )
        if not ports_read:
            path = handle.ports_file()
            ports = read_ports_file(path) if path else None
            if ports is None:
                last_error = FileNotFoundError(f"no ports file {path} yet")
                time.sleep(0.02)
                continue
            _apply_ports(handle, ports)
            ports_read = True
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


_log_numbers = itertools.count(1)


def _option_value(argv: list[str], name: str) -> str | None:
    """The value of the last `name VALUE` (or `name=VALUE`) in `argv`, as Go's flag package reads it."""
    value = None
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith(name + "="):
            value = arg[len(name) + 1:]
    return value


def start_server(
    impl: str,
    extra_args: list[str] | None = None,
    config: str | None = None,
    workdir: Path | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    wait: bool = True,
    fixed_ports: bool | None = None,
    harness_ports_file: bool = True,
) -> ServerHandle:
    """Starts `impl` with `-a host -p <port, or -1: the server picks one>` plus `extra_args`, and
    `--ports_file_dir <workdir>` so the bound ports are read back; waits until it accepts unless
    `wait` is false (then call `wait_until_accepting` yourself, which also reads the ports).

    `config`, when given, is written to a file passed with `-c` (the same file for every
    implementation). Env BLACKBOX_TRACE=1 adds `-DV` so the captured log shows the protocol.
    `fixed_ports` (default: a `port` was given) says every port of the command line is fixed, so
    a start that fails with "address already in use" is retried for BIND_RETRY_SECONDS.
    A restart on the same port appends to the same log file.
    `harness_ports_file=False` leaves `--ports_file_dir` out (a test of the config's `ports_file_dir`, which
    the flag would override): give a `port` then.
    """
    workdir = Path(workdir or tempfile.mkdtemp(prefix="blackbox-"))
    workdir.mkdir(parents=True, exist_ok=True)
    tag = str(port) if port else f"auto{next(_log_numbers)}"
    extra = list(extra_args or [])
    # A test that names its own client port or ports directory keeps them (it checks what the server
    # does with them); the harness then reads the ports file from the test's directory.
    argv = [binary_for(impl), "-a", host] + natsd_loop_args(impl)
    if not ({"-p", "--port"} & set(extra) or any(a.startswith(("-p=", "--port=")) for a in extra)):
        argv += ["-p", str(port) if port else "-1"]
    if harness_ports_file and _option_value(extra, "--ports_file_dir") is None:
        argv += ["--ports_file_dir", str(workdir)]
    if config is not None:
        config_path = workdir / f"{impl}-{tag}.conf"
        config_path.write_text(config)
        argv += ["-c", str(config_path)]
    if os.environ.get("BLACKBOX_TRACE") == "1":
        argv.append("-DV")
    argv += extra
    log_path = workdir / f"{impl}-{tag}.log"
    offset = log_path.stat().st_size if log_path.exists() else 0
    proc = _spawn(argv, log_path, workdir)
    handle = ServerHandle(impl=impl, host=host, port=port or 0, args=argv, proc=proc, log_path=log_path,
                          workdir=workdir, fixed_ports=bool(port) if fixed_ports is None else fixed_ports,
                          log_offset=offset)
    if not wait:
        return handle
    try:
        wait_until_accepting(handle)
    except BaseException:
        handle.kill()
        raise
    return handle
