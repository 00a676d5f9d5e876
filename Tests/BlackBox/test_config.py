"""Config files and start-up checks: syntax errors, refused security settings, harmless JetStream keys."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from raw_client import RawClient
from server_process import ServerHandle, binary_for, free_port, start_server, wait_until_accepting

VIOLATION = b"-ERR 'Authorization Violation'\r\n"


def run_to_exit(impl: str, tmp_path: Path, config: str | None, *args: str) -> subprocess.CompletedProcess:
    """Runs `impl` with `config` (written to a file given with -c) and `args`, expecting it to exit on its own
    within 10 s; a server that keeps running fails the test."""
    argv = [binary_for(impl), "-a", "127.0.0.1", "-p", str(free_port())]
    if config is not None:
        path = tmp_path / f"{impl}.conf"
        path.write_text(config)
        argv += ["-c", str(path)]
    try:
        return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=10,
                              stdin=subprocess.DEVNULL, cwd=tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{impl} started instead of refusing: {argv + list(args)}")


def started_or_refused(impl: str, tmp_path: Path, config: str) -> ServerHandle | None:
    """Starts `impl` with `config`; returns the running server, or None when it refused to start (exited non-zero).
    The caller kills a returned server."""
    handle = start_server(impl, config=config, workdir=tmp_path, wait=False)
    try:
        wait_until_accepting(handle)
    except RuntimeError:
        assert handle.proc.returncode not in (None, 0), handle.log
        return None
    return handle


# ---- syntax errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("check_only", [False, True])
def test_parse_error_starts_like_nats_server(impl, tmp_path, check_only):
    # Tools grep for nats-server's "Parse error on line N:"; natsd keeps that start.
    config = "port: 4222\nmax_payload: 1024\nlisten: [\n"
    result = run_to_exit(impl, tmp_path, config, *(["-t"] if check_only else []))
    assert result.returncode != 0
    assert re.search(r"^\S+: Parse error on line 4: '", result.stderr, re.M), result.stderr


def test_unknown_top_level_key_names_key_and_position(impl, tmp_path):
    result = run_to_exit(impl, tmp_path, "port: 4222\nno_such_key: 1\n")
    assert result.returncode != 0
    assert re.search(r"\.conf:2:1: unknown field \"no_such_key\"", result.stderr), result.stderr


@pytest.mark.parametrize("opening,closing", [("[", "]"), ("{a: ", "}")])
def test_deep_nesting_is_an_error_not_a_crash(impl, tmp_path, opening, closing):
    # 3000 levels of arrays or maps once overflowed natsd's recursive parser (SIGSEGV; found by fuzzing).
    # Both servers refuse the file (with different messages): an exit status (a signal would make it
    # negative) and an error message.
    config = "x: " + opening * 3000 + "1" + closing * 3000 + "\n"
    result = run_to_exit(impl, tmp_path, config, "-t")
    assert result.returncode > 0, (result.returncode, result.stderr[-300:])
    assert "error" in result.stderr.lower()


def test_config_including_itself_is_an_error(impl, tmp_path):
    if impl == "nats-server":
        pytest.skip("natsd-only: nats-server recurses until Go's 1 GB stack limit and dies")
    result = run_to_exit(impl, tmp_path, f"port: 4222\ninclude {impl}.conf\n", "-t")
    assert result.returncode > 0, (result.returncode, result.stderr[-300:])
    assert "nesting too deep" in result.stderr


def test_max_payload_above_max_pending_is_refused(impl, tmp_path):
    result = run_to_exit(impl, tmp_path, "max_payload: 2MB\nmax_pending: 1MB\n")
    assert result.returncode != 0
    assert "max_payload (2097152) cannot be higher than max_pending (1048576)" in result.stderr, result.stderr


# ---- harmless while their feature is off ------------------------------------------------------------

@pytest.mark.parametrize("flag", ["--store_dir", "-sd"])
async def test_store_dir_without_jetstream_is_accepted(start, tmp_path, flag):
    # nats-py's cluster launcher always passes a store directory.
    server = start(flag, str(tmp_path / "js"))
    client = await RawClient.connected(server.port)
    await client.close()


@pytest.mark.parametrize("config", [
    "jetstream: disabled\n",
    "jetstream: false\nstore_dir: \"STORE\"\n",
    "jetstream {\n  enabled: false\n  store_dir: \"STORE\"\n}\n",
])
async def test_jetstream_turned_off_is_accepted(start, tmp_path, config):
    server = start(config=config.replace("STORE", str(tmp_path / "js")))
    client = await RawClient.connected(server.port)
    await client.close()


# ---- security settings are enforced or refused, never ignored -----------------------------------------

ACCOUNT_USERS = "accounts {\n  A {\n    users = [ {user: a, password: b} ]\n  }\n}\n"


async def test_account_users_never_admit_anonymous_clients(impl, tmp_path):
    # Accounts with users require authentication: an anonymous client is refused.
    server = started_or_refused(impl, tmp_path, ACCOUNT_USERS)
    assert server is not None, "both servers support accounts"
    try:
        client = await RawClient.open(server.port)
        await client.send(b'CONNECT {"verbose":false}\r\nPING\r\n')
        await client.expect_then_closed(VIOLATION)
        await client.close()
    finally:
        server.kill()


async def test_tls_block_never_serves_plaintext(impl, tmp_path):
    # `tls {}` requires TLS of every client (and, without a certificate, fails every handshake): never plaintext.
    server = started_or_refused(impl, tmp_path, "tls {}\n")
    assert server is not None, "both servers start with an empty tls block"
    try:
        client = await RawClient.open(server.port)
        assert client.info.get("tls_required") is True
        await client.send(b'CONNECT {"verbose":false}\r\nPING\r\n')
        await client.expect_closed()
        await client.close()
    finally:
        server.kill()


@pytest.mark.parametrize("config, key, position", [
    # Inside accounts, what natsd cannot enforce (issue 8, point 5).
    ("accounts {\n  A {\n    limits { max_connections: 1 }\n  }\n}\n", "accounts.A.limits", "3:5"),
    ("accounts {\n  A {\n    exports = [ {service: s, latency: lat} ]\n  }\n}\n", "accounts.A.exports.latency", "3:30"),
    ("cluster {\n  port: -1\n  tls {\n    pinned_certs: []\n  }\n}\n", "cluster.tls.pinned_certs", "4:5"),
    # Pinned account routes: a nats-server peer would send a pinned account where natsd does not look.
    ("accounts: [A]\ncluster {\n  port: -1\n  accounts: [A]\n}\n", "cluster.accounts", "4:3"),
    # cluster.permissions is supported (test_cluster_permissions.py); nats-server's deprecated spelling is not.
    ("cluster {\n  port: -1\n  authorization {\n    user: a\n    password: b\n    permissions { import: \">\" }\n  }\n}\n",
     "cluster.authorization.permissions", "6:5"),
    # Security keys natsd does not implement beside the users and permissions it does (issue 8, point 5).
    ("authorization {\n  users = [ {user: a, password: b} ]\n  auth_callout {\n    issuer: x\n  }\n}\n",
     "authorization.auth_callout", "3:3"),
    ("authorization {\n  users = [ {user: a, password: b, allowed_connection_types: [\"STANDARD\"]} ]\n}\n",
     "authorization.users.allowed_connection_types", "2:36"),
    ("operators: [\"op.jwt\"]\n", "operators", "1:1"),
    ("trusted: \"OABC\"\n", "trusted", "1:1"),
    ("resolver_preload: {}\n", "resolver_preload", "1:1"),
    ("default_sentinel: \"x\"\n", "default_sentinel", "1:1"),
    ("operator: \"op.jwt\"\n", "operator", "1:1"),
    ("resolver: MEMORY\n", "resolver", "1:1"),
    ("trusted_keys: [\"OABC\"]\n", "trusted_keys", "1:1"),
    ("jetstream: enabled\n", "jetstream", "1:1"),
])
def test_unsupported_security_setting_refused_at_start(impl, tmp_path, config, key, position):
    if impl != "natsd":
        pytest.skip("natsd-only: nats-server implements these settings (or checks their files and keys first)")
    result = run_to_exit(impl, tmp_path, config)
    assert result.returncode != 0
    assert f"natsd.conf:{position}: field \"{key}\" is not supported yet" in result.stderr, result.stderr


def test_users_and_token_together_are_refused(impl, tmp_path):
    config = "authorization {\n  token: t\n  users = [ {user: a, password: b} ]\n}\n"
    result = run_to_exit(impl, tmp_path, config)
    assert result.returncode != 0
    # nats-server counts the first column of a file as 0, later lines from 1; natsd counts from 1.
    assert re.search(r"\.conf:1:[01]: Can not have a token and a users array", result.stderr), result.stderr


@pytest.mark.parametrize("args, message", [
    (["--auth", "t"], "Can not have a token and a users array"),
    (["--user", "x", "--pass", "y"], "Can not have a single user/pass and a users array"),
])
def test_flag_credentials_with_a_users_list_are_refused(impl, tmp_path, args, message):
    if impl != "natsd":
        pytest.skip("natsd-only: nats-server silently drops one side (the flag user) or accepts both")
    result = run_to_exit(impl, tmp_path, "authorization { users = [ {user: a, password: b} ] }\n", *args)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
