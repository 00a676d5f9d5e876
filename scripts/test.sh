#!/usr/bin/env bash
# Runs every test: bootstrap, debug build, Swift Testing unit tests, the Python black-box suite
# against the freshly built debug natsd on one event loop (and the real nats-server as the reference),
# the whole suite again against natsd on four loops (more loops than cores, on purpose), then a release
# build (the binary users get, hot path -Ounchecked) and the protocol, hostile-input and cluster
# black-box files against it (natsd only: nats-server was already the reference above), heap
# allocations per message of the release natsd under valgrind (scripts/callgrind-path.py), then a
# bounded fuzzing run.
# Exits non-zero if any step fails; ends with each runner's summary line and a total.
#
# Environment:
#   SWIFT_SCRATCH_PATH  optional `--scratch-path` for swift build/test (default: .build)
#   BLACKBOX_IMPLS      comma list of servers for the black-box suite (default: natsd,nats-server)
#   PYTEST_ARGS         extra arguments for both pytest runs (e.g. "-x -k queue")
#   RELEASE_BLACKBOX    space list of black-box files (globs, in Tests/BlackBox) to run against the
#                       release build; "none" skips the release build and run
#   MULTI_LOOPS         loops of the second natsd run of the suite (default 4; 0 skips that run)
#   FUZZ_SECONDS        seconds of fuzzing per libFuzzer harness (default 60; 0 skips the step)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/bootstrap.sh || { echo "test.sh: bootstrap failed" >&2; exit 1; }
# bootstrap installed chromium: the topology page's browser test must run, not skip.
export BLACKBOX_REQUIRE_CHROMIUM=1

SCRATCH=()
if [ -n "${SWIFT_SCRATCH_PATH:-}" ]; then SCRATCH=(--scratch-path "$SWIFT_SCRATCH_PATH"); fi

LOGS="$(mktemp -d)"
trap 'rm -rf "$LOGS"' EXIT
status=0
swift_summary="swift test: not run"
pytest_summary="pytest: not run"
release_summary="pytest (release natsd): not run"
loops_summary="pytest (natsd, ${MULTI_LOOPS:-4} loops): not run"
passed=0
failed=0

# Adds the counts of a pytest log's final line to the totals and sets `summary` to "LABEL: line".
# Usage: count_pytest LOG EXIT_STATUS LABEL
count_pytest() {
    local log="$1" rc="$2" label="$3" line n key
    line="$(grep -E '^=*.*[0-9]+ (passed|failed|error|errors|skipped)' "$log" | tail -n 1 || true)"
    if [ -n "$line" ]; then
        summary="${label}: ${line}"
        for key in passed failed error errors; do
            n="$(grep -oE "[0-9]+ ${key}\b" <<<"$line" | grep -oE '^[0-9]+' || true)"
            case "$key" in
                passed) passed=$((passed + ${n:-0})) ;;
                *) failed=$((failed + ${n:-0})) ;;
            esac
        done
        if [ "$rc" -ne 0 ] && ! grep -qE '[0-9]+ (failed|error|errors)\b' <<<"$line"; then
            failed=$((failed + 1))  # e.g. an internal error after the counts
        fi
    elif [ "$rc" -ne 0 ]; then
        summary="${label}: failed (exit $rc)"; failed=$((failed + 1))
    else
        summary="${label}: no tests ran"
    fi
}

echo "== swift build (debug)"
if ! swift build "${SCRATCH[@]}" 2>&1 | tee "$LOGS/build.log"; then
    echo "test.sh: swift build failed" >&2
    exit 1
fi
BIN_DIR="$(swift build "${SCRATCH[@]}" --show-bin-path)"

echo "== swift test"
swift test "${SCRATCH[@]}" 2>&1 | tee "$LOGS/swift-test.log"
swift_rc=${PIPESTATUS[0]}
[ "$swift_rc" -eq 0 ] || status=1
# Swift Testing closes with "Test run with N tests ... passed/failed ...".
line="$(grep -E 'Test run with [0-9]+ tests?' "$LOGS/swift-test.log" | tail -n 1 || true)"
if [ -n "$line" ]; then
    swift_summary="swift test: ${line}"
    total="$(sed -E 's/.*Test run with ([0-9]+) tests?.*/\1/' <<<"$line")"
    bad="$(grep -cE '✘ Test .* (failed|recorded)' "$LOGS/swift-test.log" || true)"
    if [ "$swift_rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
    [ "$bad" -le "$total" ] || bad="$total"
    passed=$((passed + total - bad)); failed=$((failed + bad))
elif [ "$swift_rc" -ne 0 ]; then
    swift_summary="swift test: failed (exit $swift_rc)"; failed=$((failed + 1))
fi

echo "== ThreadSanitizer: sublist stress (scripts/tsan.sh, own build folder .build-tsan)"
tsan_summary="tsan: passed"
if bash scripts/tsan.sh >"$LOGS/tsan.log" 2>&1; then
    passed=$((passed + 1))
else
    status=1; failed=$((failed + 1)); tsan_summary="tsan: FAILED (see output below)"
    tail -n 60 "$LOGS/tsan.log"
fi
echo "$tsan_summary"

echo "== black-box suite (pytest; natsd on one event loop)"
export NATSD_BIN="$BIN_DIR/natsd"
# shellcheck disable=SC2086 # PYTEST_ARGS is split on purpose.
NATSD_LOOPS=1 .venv/bin/pytest Tests/BlackBox -q ${PYTEST_ARGS:-} 2>&1 | tee "$LOGS/pytest.log"
pytest_rc=${PIPESTATUS[0]}
[ "$pytest_rc" -eq 0 ] || status=1
count_pytest "$LOGS/pytest.log" "$pytest_rc" "pytest"
pytest_summary="$summary"

# Every behaviour again with natsd on several loops: clients of one test then sit on different loops
# and messages cross between them (nats-server already ran as the reference above).
if [ "${MULTI_LOOPS:-4}" -gt 0 ]; then
    echo "== black-box suite (pytest; natsd on ${MULTI_LOOPS:-4} event loops)"
    # shellcheck disable=SC2086 # PYTEST_ARGS is split on purpose.
    BLACKBOX_IMPLS=natsd NATSD_LOOPS="${MULTI_LOOPS:-4}" .venv/bin/pytest Tests/BlackBox -q ${PYTEST_ARGS:-} 2>&1 \
        | tee "$LOGS/pytest-loops.log"
    loops_rc=${PIPESTATUS[0]}
    [ "$loops_rc" -eq 0 ] || status=1
    count_pytest "$LOGS/pytest-loops.log" "$loops_rc" "pytest (natsd, ${MULTI_LOOPS:-4} loops)"
    loops_summary="$summary"
fi

# The release binary: what users run, with the -Ounchecked hot path, so the hostile-input and
# cluster files run against it too.
RELEASE_BLACKBOX="${RELEASE_BLACKBOX:-test_protocol_errors.py test_robustness.py test_pubsub.py test_permissions.py test_nkeys.py test_cluster_*.py test_hostile*.py test_fuzz*.py}"
if [ "$RELEASE_BLACKBOX" != "none" ]; then
    echo "== swift build -c release"
    if swift build -c release "${SCRATCH[@]}" 2>&1 | tee "$LOGS/build-release.log"; then
        RELEASE_DIR="$(swift build -c release "${SCRATCH[@]}" --show-bin-path)"
        files=()
        for pattern in $RELEASE_BLACKBOX; do
            for file in Tests/BlackBox/$pattern; do [ -f "$file" ] && files+=("$file"); done
        done
        echo "== black-box suite against the release natsd (${#files[@]} files)"
        # shellcheck disable=SC2086 # PYTEST_ARGS is split on purpose.
        BLACKBOX_IMPLS=natsd NATSD_BIN="$RELEASE_DIR/natsd" .venv/bin/pytest -q ${PYTEST_ARGS:-} "${files[@]}" \
            2>&1 | tee "$LOGS/pytest-release.log"
        release_rc=${PIPESTATUS[0]}
        [ "$release_rc" -eq 0 ] || status=1
        count_pytest "$LOGS/pytest-release.log" "$release_rc" "pytest (release natsd)"
        release_summary="$summary"
    else
        echo "test.sh: swift build -c release failed" >&2
        status=1; failed=$((failed + 1))
        release_summary="pytest (release natsd): not run, release build failed"
    fi
fi

# --- Allocations: the release natsd under valgrind's memcheck, heap allocations per message on each path
# (pub→sub on one loop and across loops, forward to a route, delivery from a route, and pub→sub on one
# loop by a user with permissions: cached PUB check and delivery deny filter; forward to and delivery from
# a route in an account other than $G: the per-route account cache). The hot path's rule
# is none per message; 0.01 leaves room for timers and the like spread over the run. About a minute.
alloc_summary="allocations: not run"
if [ "$RELEASE_BLACKBOX" != "none" ] && [ -n "${RELEASE_DIR:-}" ]; then
    echo "== heap allocations per message (scripts/callgrind-path.py --allocations)"
    if python3 scripts/callgrind-path.py --binary "$RELEASE_DIR/natsd" --allocations --max-allocations 0.01 \
        local crossloop route routed permissions account-route account-routed 2>&1 | tee "$LOGS/alloc.log"; then
        passed=$((passed + 1))
        alloc_summary="allocations: $(tr '\n' ';' <"$LOGS/alloc.log" | sed 's/;$//')"
    else
        status=1; failed=$((failed + 1))
        alloc_summary="allocations: FAILED (see above)"
    fi
fi

# --- Fuzzing: a bounded run of every libFuzzer harness (Fuzz/, scripts/fuzz.sh) ---------------------
# Seven harnesses of FUZZ_SECONDS each plus their instrumented build: about 9 minutes on 2 cores.
# Each runs on a temporary copy of its seed corpus; a finding fails the run and keeps its input.
fuzz_summary="fuzz: not run"
if [ "${FUZZ_SECONDS:-60}" -gt 0 ]; then
    echo "== fuzzing (${FUZZ_SECONDS:-60} s per harness)"
    bash scripts/fuzz.sh run --seconds "${FUZZ_SECONDS:-60}" 2>&1 | tee "$LOGS/fuzz.log"
    fuzz_rc=${PIPESTATUS[0]}
    executions="$(grep -oE '^fuzz: [a-z-]+: [0-9]+ executions' "$LOGS/fuzz.log" | awk '{n += $3} END {print n + 0}')"
    if [ "$fuzz_rc" -eq 0 ]; then
        fuzz_summary="fuzz: ${executions} executions, no findings"
    else
        status=1; failed=$((failed + 1))
        fuzz_summary="fuzz: FAILED (exit $fuzz_rc), inputs and logs in .build-fuzz/artifacts/"
    fi
fi

echo "== summary"
echo "$swift_summary"
echo "$tsan_summary"
echo "$pytest_summary"
echo "$loops_summary"
echo "$release_summary"
echo "$alloc_summary"
echo "$fuzz_summary"
echo "total: ${passed} passed, ${failed} failed"
exit "$status"
