"""Monitoring with accounts (issue 8, point 4): /accountz (the list and one account's detail: exports, imports,
connections, subscriptions), /connz `auth`, `acc` and `user`, /subsz summed over every account or filtered
by `acc` (with `subs`, `test`, paging), /varz `system_account` and `subscriptions`, and /routez, whose
routes name no account unless pinned. Every test runs against natsd and nats-server.

nats-server gives each account service imports from its system account (`$SYS.REQ.…`) and internal
subscriptions for them; natsd runs no system services. So absolute subscription counts differ: tests compare
what the clients' subscriptions add, and leave out imports from the system account."""

from __future__ import annotations

import pytest

from cluster import eventually
from monitor_http import monitor_error, monitor_json, wait_monitor_json
from nats_helpers import flushed

ACCOUNTS = """
accounts {
  A: {
    users = [ {user: a, password: pw}, {user: a2, password: pw} ]
    exports = [
      {stream: "events.>"}
      {stream: "private.>", accounts: [B]}
      {service: "svc.time"}
      {service: "svc.stream.*", response_type: stream}
    ]
  }
  B: {
    users = [ {user: b, password: pw} ]
    imports = [
      {stream: {account: A, subject: "events.>"}, prefix: "from_a"}
      {stream: {account: A, subject: "private.>"}, to: "mine.>"}
      {service: {account: A, subject: "svc.time"}, to: "time"}
      {service: {account: A, subject: "svc.stream.*"}}
    ]
  }
  SYS: { users = [ {user: sys, password: pw} ] }
}
system_account: SYS
authorization { users = [ {user: g, password: pw} ] }
"""

ACCOUNT_NAMES = {"$G", "A", "B", "SYS"}


@pytest.fixture
def monitored(start):
    """A server with ACCOUNTS and a monitoring port."""
    server = start("-m", "-1", config=ACCOUNTS)
    wait_monitor_json(server.monitoring_port, "/varz")
    return server


def get(server, target: str) -> dict:
    """The JSON document of a monitoring `target` of `server`."""
    return monitor_json(server.monitoring_port, target)


@pytest.fixture
async def user(monitored, client):
    """Factory: `await user(name)`, a nats-py connection as that user (password pw)."""
    async def factory(name: str):
        return await client(monitored, user=name, password="pw", name=name)
    return factory


def cid_of(document: dict, name: str) -> int:
    return next(c["cid"] for c in document["connections"] if c.get("name") == name)


def by_subject(entries: list[dict]) -> list[dict]:
    return sorted(entries, key=lambda entry: (entry["type"], entry["subject"]))


def user_imports(detail: dict) -> list[dict]:
    """The account's imports without nats-server's system-service ones (from the system account)."""
    return by_subject([i for i in detail.get("imports", []) if i["account"] != "SYS"])


# ---- /accountz ------------------------------------------------------------------------------------

def test_accountz_lists_every_account(monitored):
    document = get(monitored, "/accountz")
    assert set(document["accounts"]) == ACCOUNT_NAMES
    assert document["system_account"] == "SYS"
    assert document["server_id"] == get(monitored, "/varz")["server_id"]
    assert "account_detail" not in document


async def test_accountz_detail_of_the_exporting_account(monitored, user):
    before = get(monitored, "/accountz?acc=A")["account_detail"]
    a, b = await user("a"), await user("b")
    await a.subscribe("foo.a")
    await a.subscribe("q.x", queue="grp")
    # B's subscription to an imported stream puts a shadow subscription into A.
    await b.subscribe("from_a.events.x")
    await flushed(a, b)
    document = get(monitored, "/accountz?acc=A")
    assert document["system_account"] == "SYS"
    assert "accounts" not in document
    detail = document["account_detail"]
    assert detail["account_name"] == "A" and detail["name_tag"] == "A"
    assert (detail["expired"], detail["complete"], detail["jetstream_enabled"]) == (False, True, False)
    assert detail["leafnode_connections"] == 0
    assert detail["client_connections"] == 1
    assert "is_system" not in detail
    assert detail["update_time"]
    assert detail["subscriptions"] - before["subscriptions"] == 3
    assert detail["sublist_stats"]["num_subscriptions"] == detail["subscriptions"]
    assert by_subject(detail["exports"]) == [
        {"subject": "svc.stream.*", "type": "service", "response_type": "Streamed"},
        {"subject": "svc.time", "type": "service", "response_type": "Singleton"},
        {"subject": "events.>", "type": "stream"},
        {"subject": "private.>", "type": "stream", "approved_accounts": ["B"]},
    ]
    assert user_imports(detail) == []


async def test_accountz_detail_of_the_importing_account(monitored, user):
    await user("b")
    detail = get(monitored, "/accountz?acc=B")["account_detail"]
    assert detail["client_connections"] == 1
    assert "exports" not in detail
    flags = {"invalid": False, "share": False, "tracking": False}
    assert user_imports(detail) == [
        {"subject": "svc.stream.*", "account": "A", "to": "svc.stream.*", "local_subject": "svc.stream.*",
         "type": "service", **flags},
        {"subject": "svc.time", "account": "A", "to": "time", "local_subject": "time", "type": "service", **flags},
        {"subject": "events.>", "account": "A", "local_subject": "from_a.events.>", "type": "stream", **flags},
        {"subject": "private.>", "account": "A", "local_subject": "mine.>", "type": "stream", **flags},
    ]


def test_accountz_marks_the_system_account(monitored):
    assert get(monitored, "/accountz?acc=SYS")["account_detail"]["is_system"] is True
    assert "is_system" not in get(monitored, "/accountz?acc=$G")["account_detail"]


def test_accountz_unknown_account_is_400(monitored):
    assert monitor_error(monitored.monitoring_port, "/accountz?acc=nope") == (400, "Account nope does not exist")


def test_system_account_when_none_is_configured(start):
    """nats-server always has one (`$SYS`) and names it; natsd makes none unless `system_account` names
    it (it runs no system services), so it leaves the field out, as nats-server does when it has none."""
    server = start("-m", "-1", config=ACCOUNTS.replace("system_account: SYS", ""))
    accountz = wait_monitor_json(server.monitoring_port, "/accountz")
    varz = monitor_json(server.monitoring_port, "/varz")
    assert set(accountz["accounts"]) - {"$SYS"} == ACCOUNT_NAMES
    if server.impl == "nats-server":
        assert accountz["system_account"] == varz["system_account"] == "$SYS"
    else:
        assert "system_account" not in accountz and "system_account" not in varz
        assert "$SYS" not in accountz["accounts"]


def test_varz_names_the_system_account(monitored):
    assert get(monitored, "/varz")["system_account"] == "SYS"


# ---- /connz ---------------------------------------------------------------------------------------

async def test_connz_auth_shows_user_and_account(monitored, user):
    for name in ("a", "b", "g"):
        await user(name)
    plain = get(monitored, "/connz")
    for connection in plain["connections"]:
        assert not {"authorized_user", "account", "name_tag"} & connection.keys()
    shown = {c["name"]: c for c in get(monitored, "/connz?auth=1")["connections"]}
    assert (shown["a"]["authorized_user"], shown["a"]["account"], shown["a"]["name_tag"]) == ("a", "A", "A")
    assert (shown["b"]["authorized_user"], shown["b"]["account"], shown["b"]["name_tag"]) == ("b", "B", "B")
    # The global account is not named, only tagged.
    assert shown["g"]["authorized_user"] == "g" and shown["g"]["name_tag"] == "$G"
    assert "account" not in shown["g"]


async def test_connz_acc_keeps_that_accounts_connections(monitored, user):
    for name in ("a", "a2", "b", "g"):
        await user(name)
    in_a = get(monitored, "/connz?acc=A")
    assert sorted(c["name"] for c in in_a["connections"]) == ["a", "a2"]
    assert in_a["total"] == in_a["num_connections"] == 2
    in_global = get(monitored, "/connz?acc=$G&auth=1")
    assert [c["authorized_user"] for c in in_global["connections"]] == ["g"]
    assert get(monitored, "/connz?acc=SYS")["connections"] == []


async def test_connz_acc_unknown_is_an_empty_answer(monitored, user):
    await user("a")
    document = get(monitored, "/connz?acc=nope&offset=1&limit=5")
    # nats-server answers before filling in its id, with a null list.
    assert document["server_id"] == ""
    assert (document["total"], document["num_connections"], document["connections"]) == (0, 0, None)
    assert (document["offset"], document["limit"]) == (1, 5)


async def test_connz_user_filter(monitored, user):
    for name in ("a", "a2", "b"):
        await user(name)
    document = get(monitored, "/connz?user=a2")
    assert [c["name"] for c in document["connections"]] == ["a2"]
    # `total` still counts every connection (of the account, with `acc`), as in nats-server.
    assert document["total"] == 3
    assert get(monitored, "/connz?user=a2&acc=A")["total"] == 2
    assert get(monitored, "/connz?user=a2&acc=B")["connections"] == []


@pytest.mark.parametrize("config, credentials, shown", [
    ("", {"user": "visitor", "password": "anything"}, "visitor"),
    ('authorization { token: "s3cret" }', {"token": "s3cret"}, "[REDACTED]"),
    (ACCOUNTS + "\nno_auth_user: b\n", {}, "b"),
    ("", {}, None),
], ids=["user-without-auth", "token", "no-auth-user", "anonymous"])
async def test_connz_authorized_user_is_what_the_client_offered(start, client, config, credentials, shown):
    server = start("-m", "-1", config=config)
    wait_monitor_json(server.monitoring_port, "/varz")
    await client(server, name="probe", **credentials)
    probe = next(c for c in monitor_json(server.monitoring_port, "/connz?auth=1")["connections"]
                 if c.get("name") == "probe")
    assert probe.get("authorized_user") == shown


# ---- /subsz and /varz subscription counts -------------------------------------------------------

def subscription_counts(server) -> tuple[int, int, int, int]:
    """Subscriptions counted by /subsz, /varz, /subsz?acc=A and /subsz?acc=B."""
    return (get(server, "/subsz")["num_subscriptions"], get(server, "/varz")["subscriptions"],
            get(server, "/subsz?acc=A")["num_subscriptions"], get(server, "/subsz?acc=B")["num_subscriptions"])


async def subscribe_in_every_account(user) -> None:
    """a: `foo.a` and `q.x` in queue `grp`; b: the imported `from_a.events.x` (a shadow `events.x` in A);
    g: `gsub` in $G. The connections are named after their users."""
    a, b, g = await user("a"), await user("b"), await user("g")
    await a.subscribe("foo.a")
    await a.subscribe("q.x", queue="grp")
    await b.subscribe("from_a.events.x")
    await g.subscribe("gsub")
    await flushed(a, b, g)


async def test_subscription_counts_sum_every_account(monitored, user):
    before = subscription_counts(monitored)
    await subscribe_in_every_account(user)
    after = subscription_counts(monitored)
    # A: two of its own and B's shadow; B: one; $G: one.
    assert [x - y for x, y in zip(after, before)] == [5, 5, 3, 1]
    unknown = get(monitored, "/subsz?acc=nope")
    assert (unknown["num_subscriptions"], unknown["total"]) == (0, 0)


async def test_subsz_lists_subscriptions_by_account(monitored, user):
    await subscribe_in_every_account(user)
    cids = get(monitored, "/connz")
    cid = {name: cid_of(cids, name) for name in ("a", "b", "g")}

    def listed(query: str) -> set[tuple]:
        document = get(monitored, "/subsz?subs=1" + query)
        entries = document.get("subscriptions_list", [])
        assert document["total"] == len(entries)
        assert all(entry["account_tag"] == entry["account"] for entry in entries)
        # nats-server's internal clients hold its system-service subscriptions; only ours are compared.
        return {(e["account"], e["subject"], e.get("qgroup"), e["cid"]) for e in entries if e["cid"] in cid.values()}

    # The shadow sits in A's sublist but shows its client's account.
    assert listed("&acc=A") == {("A", "foo.a", None, cid["a"]), ("A", "q.x", "grp", cid["a"]),
                                ("B", "events.x", None, cid["b"])}
    assert listed("&acc=B") == {("B", "from_a.events.x", None, cid["b"])}
    assert listed("&acc=$G") == {("$G", "gsub", None, cid["g"])}
    assert len(listed("")) == 5


async def test_subsz_test_subject_and_paging(monitored, user):
    a = await user("a")
    await a.subscribe("foo.a")
    await a.subscribe("foo.*")
    await a.subscribe("bar")
    await flushed(a)
    matched = get(monitored, "/subsz?subs=1&test=foo.a")
    assert sorted(e["subject"] for e in matched["subscriptions_list"]) == ["foo.*", "foo.a"]
    assert matched["total"] == 2
    everything = get(monitored, "/subsz?subs=1&acc=A")["total"]
    page = get(monitored, "/subsz?subs=1&acc=A&offset=1&limit=1")
    assert (page["total"], page["offset"], page["limit"], len(page["subscriptions_list"])) == (everything, 1, 1, 1)
    # Without `subs` nothing is listed and `total` is 0.
    figures = get(monitored, "/subsz?acc=A")
    assert "subscriptions_list" not in figures and figures["total"] == 0
    assert monitor_error(monitored.monitoring_port, "/subsz?subs=1&test=foo.*") == (
        400, "invalid test subject, must be valid publish subject: foo.*")


# ---- /routez ---------------------------------------------------------------------------------------

async def test_routez_routes_name_no_account_unless_pinned(cluster, connect):
    first, second = cluster.chain(2, config_cluster=True, extra_config=ACCOUNTS.replace("system_account: SYS", ""))
    await cluster.wait_mesh([first, second])
    a = await connect(first, user="a", password="pw")
    await a.subscribe("only.in.a")
    await flushed(a)

    def announced() -> bool:
        return any("only.in.a" in route.get("subscriptions_list", []) for route in second.routez(subs=True)["routes"])

    # The interest is listed by its subject alone, whichever account it belongs to.
    await eventually(announced, what="A's interest on the second node's routes")
    for route in second.routez(subs=True)["routes"]:
        # nats-server pins its system account to a route of its own; natsd pins nothing.
        if route.get("account") is not None:
            assert second.impl == "nats-server" and route["account"] == "$SYS", route
