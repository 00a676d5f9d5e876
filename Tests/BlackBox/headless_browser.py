"""A headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`), for tests of
pages natsd serves (the topology page at the monitoring port's `/`).

The pipe needs no websocket client and no debugging port (nothing to race for): Chromium reads commands
from fd 3 and writes answers and events to fd 4, each a JSON message ended by a NUL byte. Every call is
bounded in time; `close()` kills the browser's whole process group.

Chromium comes from Debian's `chromium` package (scripts/bootstrap.sh installs it); `find_chromium()`
returns None when it is missing so a test can skip with a clear message.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time


def find_chromium() -> str | None:
    """Path of a Chromium binary (env CHROMIUM_BIN, else chromium / chromium-browser on PATH), or None."""
    explicit = os.environ.get("CHROMIUM_BIN")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(AssertionError):
    pass


class HeadlessChromium:
    """One headless browser with one page (`open`), evaluated and photographed through DevTools."""

    def __init__(self, binary: str, width: int = 1280, height: int = 900, timeout: float = 20.0) -> None:
        self.width, self.height = width, height
        self.profile = tempfile.mkdtemp(prefix="natsd-chromium-")
        commands_read, self._commands = os.pipe()
        self._answers, answers_write = os.pipe()
        # Above 9, so the shell's `3<&N 4>&M` below never reads an fd it has just replaced.
        commands_read, answers_write = (self._above_nine(fd) for fd in (commands_read, answers_write))
        args = [binary, "--headless", "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
                "--disable-gpu", "--disable-dev-shm-usage", "--disable-extensions", "--disable-background-networking",
                "--disable-sync", "--mute-audio", "--hide-scrollbars", f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        # The shell puts the pipe ends on the fds Chromium expects, whatever numbers they have here.
        script = f'exec "$@" 3<&{commands_read} 4>&{answers_write} {commands_read}<&- {answers_write}>&-'
        self.log = open(os.path.join(self.profile, "chromium.log"), "w+b")
        # bash, not sh: dash takes single-digit fds only in redirections.
        self.process = subprocess.Popen(["bash", "-c", script, "bash", *args], pass_fds=(commands_read, answers_write),
                                        stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                        start_new_session=True)
        os.close(commands_read)
        os.close(answers_write)
        self._buffer = b""
        self._next_id = 0
        self.session: str | None = None
        try:
            self.call("Browser.getVersion", timeout=timeout)  # the browser is up and speaking the protocol
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _above_nine(fd: int) -> int:
        moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
        os.close(fd)
        return moved

    # ---- protocol ------------------------------------------------------------------------------------

    def call(self, method: str, params: dict | None = None, timeout: float = 10.0, session: bool = False) -> dict:
        """Sends one command and returns its result; fails on a protocol error or after `timeout` seconds."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        try:
            os.write(self._commands, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise BrowserError(f"the browser is gone ({method}); log:\n{self.browser_log()}") from None
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read_message(deadline, method)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def _read_message(self, deadline: float, waiting_for: str) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"no answer to {waiting_for} in time; browser log:\n{self.browser_log()}")
            ready, _, _ = select.select([self._answers], [], [], left)
            if ready:
                chunk = os.read(self._answers, 1 << 20)
                if not chunk:
                    raise BrowserError(f"the browser closed the pipe; log:\n{self.browser_log()}")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    # ---- page ------------------------------------------------------------------------------------------

    def open(self, url: str) -> None:
        """Opens `url` in a new page of the window's size and attaches to it."""
        target = self.call("Target.createTarget", {"url": "about:blank"})
        attached = self.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        self.session = attached["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False}, session=True)
        self.call("Page.navigate", {"url": url}, session=True)

    def evaluate(self, expression: str, timeout: float = 10.0):
        """The value of a JavaScript expression in the page (JSON-serialisable values only)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, timeout, session=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float, what: str, interval: float = 0.25):
        """Polls `expression` until it is truthy and returns its value; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.evaluate(expression)
            except BrowserError as error:  # the page may still be loading
                last = error
            if last and not isinstance(last, BrowserError):
                return last
            time.sleep(interval)
        raise BrowserError(f"{what} not reached within {timeout}s; last: {last!r}")

    def screenshot(self, path: str) -> None:
        """Saves the whole page (beyond the window when it is longer) as a PNG."""
        height = self.evaluate("Math.ceil(document.documentElement.scrollHeight)") or self.height
        data = self.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1}}, timeout=20, session=True)
        with open(path, "wb") as file:
            file.write(base64.b64decode(data["data"]))

    # ---- end -------------------------------------------------------------------------------------------

    def browser_log(self) -> str:
        self.log.seek(0)
        return self.log.read()[-4000:].decode(errors="replace")

    def close(self) -> None:
        """Kills the browser and its helper processes, and removes its profile."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self._commands, self._answers):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
