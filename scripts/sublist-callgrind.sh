#!/usr/bin/env bash
# Counts instructions (and swift_retain calls) per sublist operation with callgrind, on a release
# build, for the working tree or any git revision, so before/after numbers come from one harness.
#
#   scripts/sublist-callgrind.sh            # the working tree
#   scripts/sublist-callgrind.sh e18e43b    # a revision (git archive), e.g. the parent branch point
#
# Copies the package to a temp dir, adds scripts/sublist-callgrind.swift there as an executable
# target built like the server (hot-path settings), and runs each measurement once under callgrind,
# collecting only inside the measured function (--toggle-collect). Prints instructions per operation
# and swift_retain calls per operation. Needs valgrind. Takes about 1 minute on 2 cores after the
# release build (the baseline revision adds ~1 minute: its fan-out removes retain every element).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REV="${1:-}"
WORK="$(mktemp -d /tmp/sublist-callgrind.XXXXXX)"
trap '[ -n "${SUBLIST_CALLGRIND_KEEP:-}" ] || rm -rf "$WORK"' EXIT

if [ -n "$REV" ]; then
    git -C "$ROOT" archive "$REV" | tar -x -C "$WORK"
else
    (cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$WORK")
fi
[ -f "$ROOT/Package.resolved" ] && cp "$ROOT/Package.resolved" "$WORK/"
# Test targets without sources of their own still need their folder for the manifest to load.
for dir in $(grep -oE 'name: "[A-Za-z]+Tests"' "$WORK/Package.swift" | sed -E 's/.*"(.*)"/\1/'); do
    mkdir -p "$WORK/Tests/$dir"
done
mkdir -p "$WORK/Sources/SublistCallgrind"
cp "$ROOT/scripts/sublist-callgrind.swift" "$WORK/Sources/SublistCallgrind/main.swift"
cat >>"$WORK/Package.swift" <<'SWIFT'
package.targets.append(
    .executableTarget(
        name: "SublistCallgrind", dependencies: ["NATSSublist", "NATSProtocol"], swiftSettings: hotPathSettings))
SWIFT

SCRATCH="${SUBLIST_CALLGRIND_SCRATCH:-/tmp/sublist-callgrind-build}"
(cd "$WORK" && swift build -c release --scratch-path "$SCRATCH" --product SublistCallgrind >/dev/null)
# valgrind 3.19 cannot read the toolchain's DWARF; symbols are enough for --toggle-collect.
BIN="$WORK/SublistCallgrind"
cp "$SCRATCH/release/SublistCallgrind" "$BIN"
strip --strip-debug "$BIN"

# measurement, function to collect in, operations it performs
run() {
    local name=$1 function=$2 operations=$3 out="$WORK/callgrind.$1"
    valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="*${function}*" \
        "$BIN" "$name" >/dev/null 2>&1
    local ir retains
    ir="$(grep -E '^(summary|totals):' "$out" | head -n 1 | awk '{print $2}')"
    # Functions are named once as "fn=(id) name" or "cfn=(id) name", later by id alone; a call is
    # "cfn=(id)" followed by "calls=N ...".
    retains="$(python3 - "$out" <<'PY'
import re, sys
names, total, callee = {}, 0, None
for line in open(sys.argv[1]):
    named = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line)
    if named and named.group(2):
        names[named.group(1)] = named.group(2).strip()
    if line.startswith("cfn="):
        callee = names.get(named.group(1))
    elif line.startswith("calls=") and callee == "swift_retain":
        total += int(line.split()[0].split("=")[1])
print(total)
PY
)"
    awk -v n="$name" -v ir="$ir" -v ops="$operations" -v r="$retains" \
        'BEGIN { printf "%-14s %10.1f instructions/op %6.2f swift_retain/op  (%d ops)\n", n, ir / ops, r / ops, ops }'
}

run hit measureHits 300000
run miss measureMisses 300000
run uncached measureUncached 300000
run insert measureInserts 10000
run remove measureRemoves 10000
run insert-fanout measureInserts 10000
run remove-fanout measureRemoves 1000
