#!/usr/bin/env bash
# Runs every test: bootstrap, debug build, Swift Testing unit tests, the Python black-box suite
# against the freshly built natsd (and the real nats-server as the reference), then a bounded fuzzing run.
# Exits non-zero if any step fails; ends with each runner's summary line and a total.
#
# Environment:
#   SWIFT_SCRATCH_PATH  optional `--scratch-path` for swift build/test (default: .build)
#   BLACKBOX_IMPLS      comma list of servers for the black-box suite (default: natsd,nats-server)
#   PYTEST_ARGS         extra arguments for pytest (e.g. "-x -k queue")
#   FUZZ_SECONDS        seconds of fuzzing per libFuzzer harness (default 60; 0 skips the step)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/bootstrap.sh || { echo "test.sh: bootstrap failed" >&2; exit 1; }

SCRATCH=()
if [ -n "${SWIFT_SCRATCH_PATH:-}" ]; then SCRATCH=(--scratch-path "$SWIFT_SCRATCH_PATH"); fi

LOGS="$(mktemp -d)"
trap 'rm -rf "$LOGS"' EXIT
status=0
swift_summary="swift test: not run"
pytest_summary="pytest: not run"
passed=0
failed=0

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

echo "== black-box suite (pytest)"
export NATSD_BIN="$BIN_DIR/natsd"
# shellcheck disable=SC2086 # PYTEST_ARGS is split on purpose.
.venv/bin/pytest Tests/BlackBox -q ${PYTEST_ARGS:-} 2>&1 | tee "$LOGS/pytest.log"
pytest_rc=${PIPESTATUS[0]}
[ "$pytest_rc" -eq 0 ] || status=1
line="$(grep -E '^=*.*[0-9]+ (passed|failed|error|errors|skipped)' "$LOGS/pytest.log" | tail -n 1 || true)"
if [ -n "$line" ]; then
    pytest_summary="pytest: ${line}"
    for key in passed failed error errors; do
        n="$(grep -oE "[0-9]+ ${key}\b" <<<"$line" | grep -oE '^[0-9]+' || true)"
        case "$key" in
            passed) passed=$((passed + ${n:-0})) ;;
            *) failed=$((failed + ${n:-0})) ;;
        esac
    done
elif [ "$pytest_rc" -ne 0 ]; then
    pytest_summary="pytest: failed (exit $pytest_rc)"; failed=$((failed + 1))
fi

# --- Fuzzing: a bounded run of every libFuzzer harness (Fuzz/, scripts/fuzz.sh) ---------------------
# Five harnesses of FUZZ_SECONDS each plus their instrumented build: about 7 minutes on 2 cores.
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
echo "$pytest_summary"
echo "$fuzz_summary"
echo "total: ${passed} passed, ${failed} failed"
exit "$status"
