"""Command line flags shared with nats-server."""

import re
import subprocess

from monitor_http import wait_monitor_json
from raw_client import RawClient
from server_process import binary_for


def test_version_flag_prints_version_and_exits(impl):
    result = subprocess.run([binary_for(impl), "-v"], capture_output=True, timeout=10, text=True)
    assert result.returncode == 0, result
    assert re.search(r"\d+\.\d+\.\d+", result.stdout + result.stderr), result


async def test_port_and_address_flags(server):
    client = await RawClient.open(server.port, host="127.0.0.1")
    assert client.info["port"] == server.port
    assert client.info["host"] == "127.0.0.1"
    await client.close()


async def test_name_flag_sets_server_name(start):
    for flag, name in (("-n", "bb-short"), ("--name", "bb-long")):
        server = start(flag, name)
        client = await RawClient.open(server.port)
        assert client.info["server_name"] == name
        assert client.info["server_id"] != name
        await client.close()


async def test_debug_trace_flag_is_accepted(start):
    server = start("-DV")
    client = await RawClient.connected(server.port)
    await client.send(b"SUB a 1\r\nPUB a 1\r\nx\r\n")
    await client.expect(b"MSG a 1 1\r\nx\r\n")
    await client.close()
    assert server.alive()


def test_monitoring_port_serves_healthz(start):
    server = start("-m", "-1")  # the server picks the port and reports it in its ports file
    http_port = server.monitoring_port
    assert http_port, "no monitoring URL in the ports file"
    assert wait_monitor_json(http_port, "/healthz") == {"status": "ok"}
    assert server.alive()


async def test_sigterm_and_sigint_exit_cleanly_with_pid_and_log_files(start, tmp_path):
    import signal

    for number in (signal.SIGTERM, signal.SIGINT):
        pid_file = tmp_path / f"server-{int(number)}.pid"
        log_file = tmp_path / f"server-{int(number)}.log"
        server = start("-P", str(pid_file), "-l", str(log_file))
        assert int(pid_file.read_text().strip()) == server.proc.pid
        client = await RawClient.connected(server.port)
        await client.send(b"SUB a 1\r\nPING\r\n")
        await client.expect(b"PONG\r\n")
        server.proc.send_signal(number)
        assert server.proc.wait(timeout=10) == 0
        await client.expect_closed(timeout=5)
        await client.close()
        # -l sends the log to the file, in nats-server's line shape.
        assert re.search(r"^\[\d+\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} \[INF\] ", log_file.read_text(), re.M)


def test_unknown_flag_is_an_error(impl):
    # nats-server prints the error and its usage (and exits 0); natsd does the same but exits 1.
    result = subprocess.run([binary_for(impl), "--no-such-flag"], capture_output=True, timeout=10, text=True)
    assert "flag provided but not defined: -no-such-flag" in result.stderr
    assert "Usage:" in result.stdout + result.stderr
