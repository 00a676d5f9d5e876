"""GETs of the HTTP monitoring endpoints (`/varz`, `/connz`, `/routez`, `/healthz`…) that answer JSON, and
of their error answers.

Hostile or malformed requests are written on raw sockets instead (test_monitoring.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from server_process import wait_for


def monitor_json(port: int, target: str, host: str = "127.0.0.1", timeout: float = 5.0) -> dict:
    """GETs `target` (path and query, e.g. `/connz?sort=idle`) from the monitoring port `host:port` and
    returns the JSON document; fails unless the status is 200 (urllib raises HTTPError for others)."""
    netloc = f"[{host}]" if ":" in host else host
    with urllib.request.urlopen(f"http://{netloc}:{port}{target}", timeout=timeout) as response:
        assert response.status == 200, response.status
        return json.loads(response.read())


def monitor_error(port: int, target: str, host: str = "127.0.0.1", timeout: float = 5.0) -> tuple[int, str]:
    """GETs `target`, which must be refused, and returns the status and the body text; fails on a 2xx."""
    netloc = f"[{host}]" if ":" in host else host
    try:
        with urllib.request.urlopen(f"http://{netloc}:{port}{target}", timeout=timeout) as response:
            raise AssertionError(f"{target} answered {response.status}: {response.read()[:200]!r}")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_monitor_json(port: int, target: str, host: str = "127.0.0.1", timeout: float = 5.0) -> dict:
    """`monitor_json` once the monitoring listener accepts: it may open a moment after the client port.
    Only a refused connection is retried; fails after `timeout` seconds."""
    def attempt() -> dict | None:
        try:
            return monitor_json(port, target, host)
        except urllib.error.URLError as error:
            if isinstance(error.reason, ConnectionRefusedError):
                return None
            raise
        except ConnectionRefusedError:
            return None
    return wait_for(attempt, timeout, f"the monitoring port {host}:{port}")


def closed_reason(port: int, cid: int, timeout: float = 5.0) -> str:
    """The `reason` /connz?state=closed gives for client `cid`, once it is listed there (at most `timeout` s)."""
    def attempt() -> str | None:
        for conn in monitor_json(port, f"/connz?state=closed&cid={cid}")["connections"]:
            if conn["cid"] == cid and conn.get("reason"):
                return conn["reason"]
        return None
    return wait_for(attempt, timeout, f"cid {cid} in /connz?state=closed")
