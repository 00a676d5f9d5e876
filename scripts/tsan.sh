#!/usr/bin/env bash
# ThreadSanitizer, in two parts, alone so they have the cores to itself:
# 1. the sublist's concurrent stress suite (2 writer and 4 reader threads on one SharedSublist, each
#    reader with its own matcher);
# 2. natsd itself built with -sanitize=thread and running on four event loops under the black-box files
#    that move messages, interest and monitoring reads between loops (TSAN_BLACKBOX).
# Fails on any test failure or ThreadSanitizer report.
#
# Environment:
#   TSAN_SCRATCH_PATH        build folder for the instrumented build (default: .build-tsan, kept apart
#                            from .build because every module is rebuilt with -sanitize=thread)
#   SUBLIST_STRESS_SECONDS   how long the stress suite runs (default here: 5)
#   TSAN_BLACKBOX            black-box files (in Tests/BlackBox) run against the instrumented natsd
#
# Takes about 2¼ minutes on 2 cores from a cold build folder (building every module with TSan),
# under a minute after a change to the sublist.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SCRATCH="${TSAN_SCRATCH_PATH:-.build-tsan}"
export SUBLIST_STRESS_SECONDS="${SUBLIST_STRESS_SECONDS:-5}"
# Report every race (not just the first) and fail the process when there was one.
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0 exitcode=66}"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT

swift test --sanitize=thread --scratch-path "$SCRATCH" --filter SharedSublistStressTests 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
if grep -q "WARNING: ThreadSanitizer" "$LOG"; then
    echo "tsan.sh: ThreadSanitizer reported races" >&2
    exit 1
fi
[ "$rc" -eq 0 ] || { echo "tsan.sh: swift test failed (exit $rc)" >&2; exit "$rc"; }
echo "tsan.sh: sublist stress suite passed under ThreadSanitizer"

# Part 2: the server's own threads. Each natsd process writes its reports to its own file.
swift build --sanitize=thread --scratch-path "$SCRATCH" --product natsd 2>&1 | tail -n 3
REPORTS="$(mktemp -d)"
trap 'rm -f "$LOG"; rm -rf "$REPORTS"' EXIT
files=()
for name in ${TSAN_BLACKBOX:-test_multi_loop.py test_queue_groups.py test_pubsub.py test_monitoring.py test_headers_request.py test_cluster_messages.py test_cluster_loops.py}; do
    files+=("Tests/BlackBox/$name")
done
# The churn stress test (12 clients connecting and leaving under a flood) is too heavy for a server
# running under ThreadSanitizer on 2 cores: its clients time out waiting for INFO. It runs in the plain
# debug and 4-loop suites.
TSAN_OPTIONS="log_path=$REPORTS/natsd halt_on_error=0" BLACKBOX_IMPLS=natsd NATSD_LOOPS=4 \
    NATSD_BIN="$(swift build --sanitize=thread --scratch-path "$SCRATCH" --show-bin-path)/natsd" \
    .venv/bin/pytest -q -k "not coming_and_going" "${files[@]}" 2>&1 | tail -n 5
rc=${PIPESTATUS[0]}
if compgen -G "$REPORTS/natsd*" >/dev/null; then
    cat "$REPORTS"/natsd* | head -n 200
    echo "tsan.sh: ThreadSanitizer reported races in natsd" >&2
    exit 1
fi
[ "$rc" -eq 0 ] || { echo "tsan.sh: black-box files failed against the instrumented natsd (exit $rc)" >&2; exit "$rc"; }
echo "tsan.sh: natsd on four loops passed ${#files[@]} black-box files under ThreadSanitizer"
