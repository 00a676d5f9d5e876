"""/varz field by field: natsd and nats-server run with the same configuration and natsd must show every
key nats-server shows, nested ones included, except the deliberate exceptions below (features natsd
does not have, or figures it cannot give truthfully). The test needs both implementations at once."""

from __future__ import annotations

import pytest

from monitor_http import wait_monitor_json
from server_process import selected_impls, start_server
from test_tls import certs, tls_block  # noqa: F401 (`certs` is a fixture)

# Keys of nats-server's /varz natsd leaves out, and why.
EXCEPTIONS = {
    "gateway": "natsd has no gateways",
    "leaf": "natsd has no leaf nodes",
    "mqtt": "natsd has no MQTT",
    "websocket": "natsd has no websocket clients",
    "jetstream": "natsd has no JetStream",
    "feature_flags": "JetStream feature flags",
    "disk_io_wait_stats": "JetStream's disk I/O semaphore",
    "git_commit": "natsd is not built from nats-server's repository",
    "config_digest": "nats-server hashes its in-memory options; natsd has no equivalent to compare",
    "system_account": "nats-server always makes $SYS; natsd names one only when configured",
}

pytestmark = pytest.mark.skipif(
    not {"natsd", "nats-server"} <= set(selected_impls()),
    reason="compares natsd's /varz with nats-server's: needs both in BLACKBOX_IMPLS")


def varz_of(impl: str, config: str, workdir, path: str = "/varz") -> dict:
    server = start_server(impl, ["-m", "-1"], config=config, workdir=workdir / impl)
    try:
        return wait_monitor_json(server.monitoring_port, path)
    finally:
        server.kill()


def missing_keys(config: str, workdir) -> tuple[list[str], dict, dict]:
    reference = varz_of("nats-server", config, workdir)
    ours = varz_of("natsd", config, workdir)
    # Which endpoints were asked so far differs between runs: http_req_stats' entries are not compared.
    missing = sorted(key for key in all_keys(reference) - all_keys(ours)
                     if key not in EXCEPTIONS and key.split(".")[0] not in EXCEPTIONS
                     and not key.startswith("http_req_stats."))
    return missing, reference, ours


CONFIGS = {
    "plain": "",
    "cluster": 'max_subscriptions: 100\nwrite_deadline: "3s"\n'
               'authorization { users = [ { user: a, password: b } ] }\n'
               'cluster { name: vz, listen: "127.0.0.1:-1", pool_size: 2, routes: ["nats://127.0.0.1:1"] }\n',
}


@pytest.mark.parametrize("name", CONFIGS)
def test_natsd_has_every_varz_key_of_nats_server(name, tmp_path):
    missing, reference, ours = missing_keys(CONFIGS[name], tmp_path)
    assert missing == [], missing
    # Values that come from the configuration match.
    for key in ("max_connections", "max_subscriptions", "ping_interval", "ping_max", "max_payload", "max_pending",
                "max_control_line", "auth_required", "write_deadline", "tls_timeout", "http_base_path",
                "https_port", "slow_consumer_stats", "stale_connection_stats", "leafnodes", "stalled_clients"):
        assert ours.get(key) == reference.get(key), key
    for key in ("name", "pool_size", "tls_timeout", "auth_timeout", "urls"):
        assert ours["cluster"].get(key) == reference["cluster"].get(key), f"cluster.{key}"
    # Not a Go toolchain: the Swift compiler natsd was built with.
    assert ours["go"].startswith("swift") and reference["go"].startswith("go")
    assert ours["version"] == "2.11.0"


def test_tls_fields(tmp_path, certs):  # noqa: F811
    files = f'cert_file: "{certs / "server.pem"}"\n  key_file: "{certs / "server.key"}"\n  ca_file: "{certs / "ca.pem"}"'
    config = (tls_block(certs, verify="true", timeout="3")
              + f'cluster {{ name: vz, listen: "127.0.0.1:-1", tls {{\n  {files}\n  timeout: 4\n}} }}\n')
    missing, reference, ours = missing_keys(config, tmp_path)
    assert missing == [], missing
    for key in ("tls_required", "tls_verify", "tls_timeout", "tls_cert_not_after"):
        assert ours[key] == reference[key], key
    for key in ("tls_required", "tls_verify", "tls_timeout", "tls_cert_not_after"):
        assert ours["cluster"][key] == reference["cluster"][key], f"cluster.{key}"


async def test_info_and_varz_agree_on_the_toolchain(tmp_path):
    """INFO's `go` is /varz's: the Go toolchain for nats-server, the Swift compiler for natsd."""
    from raw_client import RawClient

    for impl, prefix in (("nats-server", "go"), ("natsd", "swift")):
        server = start_server(impl, ["-m", "-1"], workdir=tmp_path / impl)
        try:
            varz = wait_monitor_json(server.monitoring_port, "/varz")
            client = await RawClient.open(server.port)
            try:
                assert client.info["go"] == varz["go"] and varz["go"].startswith(prefix), (impl, varz["go"])
            finally:
                await client.close()
        finally:
            server.kill()


ACCOUNTS = """
accounts {
  A: { users: [ { user: a, password: a } ], exports: [ { stream: "x.>" }, { service: "svc" } ] }
  B: { users: [ { user: b, password: b } ], imports: [ { stream: { account: A, subject: "x.>" } },
                                                     { service: { account: A, subject: "svc" }, to: "a.svc" } ] }
}
"""


def all_keys(document, prefix: str = "") -> set[str]:
    """Every key path of a JSON document, list items as `[]`."""
    found = set()
    if isinstance(document, dict):
        for key, value in document.items():
            found.add(prefix + key)
            found |= all_keys(value, f"{prefix}{key}.")
    elif isinstance(document, list):
        for value in document:
            found |= all_keys(value, prefix + "[].")
    return found


@pytest.mark.parametrize("path", ["/accountz", "/accountz?acc=A", "/accountz?acc=B"])
def test_accountz_has_every_key_of_nats_server(path, tmp_path):
    reference = varz_of("nats-server", ACCOUNTS, tmp_path, path)
    ours = varz_of("natsd", ACCOUNTS, tmp_path, path)
    # nats-server's system account adds `system_account` and its service imports ($SYS.REQ.…) to every
    # account; natsd has no system account (see EXCEPTIONS).
    reference.pop("system_account", None)
    detail = reference.get("account_detail") or {}
    if "imports" in detail:
        detail["imports"] = [entry for entry in detail["imports"] if entry["account"] != "$SYS"] or None
        if detail["imports"] is None:
            del detail["imports"]
    assert sorted(all_keys(reference) - all_keys(ours)) == []
