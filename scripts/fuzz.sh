#!/usr/bin/env bash
# Builds and runs natsd's libFuzzer harnesses (Fuzz/Harnesses), one per surface that reads untrusted bytes.
# Harnesses are debug builds (every Swift check on, the hot-path modules included) instrumented for
# libFuzzer and AddressSanitizer: `swift build --sanitize=address -Xswiftc -sanitize=fuzzer`, in their
# own scratch path (.build-fuzz), so the main build is untouched.
#
# Usage:
#   scripts/fuzz.sh build                           build every harness
#   scripts/fuzz.sh run [--seconds N] [HARNESS...]  build, then fuzz each harness for N seconds (default 60),
#                                                   one at a time, on a temporary copy of its seed corpus
#   scripts/fuzz.sh repro HARNESS FILE...           run a harness once on saved inputs (to replay a crash)
#   scripts/fuzz.sh list                            the harnesses and what each covers
# HARNESS: client route connect-info config monitoring tls monitor-response (default: all of them).
#
# `run` prints the executions of each harness. A crash, failed check, leak, timeout or out-of-memory ends
# that harness, keeps the input and the log under .build-fuzz/artifacts/<harness>/, and makes the script
# exit 1 once the remaining harnesses have run. The committed corpus is never modified.
#
# Environment:
#   FUZZ_ARGS         extra libFuzzer flags for `run`, e.g. "-runs=10000000" or "-seed=1"
#   FUZZ_KEEP_CORPUS  a directory for longer campaigns: each harness also starts from FUZZ_KEEP_CORPUS/<harness>
#                     and its grown corpus is copied back there after the run
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SCRATCH="$ROOT/.build-fuzz"
PACKAGE="$ROOT/Fuzz/Harnesses"
ARTIFACTS="$SCRATCH/artifacts"
HARNESSES=(client route connect-info config monitoring tls monitor-response)

# Executable target, libFuzzer -max_len, and what the harness covers.
declare -A TARGET=(
    [client]=ClientParserFuzzer [route]=RouteParserFuzzer [connect-info]=ConnectInfoFuzzer
    [config]=ConfigFuzzer [monitoring]=MonitoringFuzzer [tls]=TLSHandshakeFuzzer
    [monitor-response]=MonitorResponseFuzzer
)
# client/route: past the default 4096-byte control line. tls: a client's first flights with a certificate
# chain (the captured seeds are 0.2 to 1.3 KB).
declare -A MAX_LEN=(
    [client]=8192 [route]=8192 [connect-info]=4096 [config]=4096 [monitoring]=8192 [tls]=8192
    [monitor-response]=8192
)
# The least inputs per second that still counts as fuzzing (see the rate check in run_one). tls: one input
# in three runs a real OpenSSL handshake, about 5 ms under AddressSanitizer, so ~200/s on a busy 2-core
# machine is its normal pace; a stuck harness (the failure this guards against) runs a handful.
declare -A MIN_RATE=([tls]=20)
declare -A COVERS=(
    [client]="client protocol parser: every client op, reads split at any byte, server limits"
    [route]="route protocol parser: RS+/RS-/LS+/RMSG/HMSG/LMSG, queue lists, with and without account"
    [connect-info]="CONNECT and INFO JSON decoders (client and route), INFO/CONNECT re-encoding"
    [config]="config file -> ConfigFileParser -> ServerOptions, includes and variables, error texts"
    [monitoring]="HTTP request bytes -> HTTPRequestReader -> MonitorServer.respond (every endpoint)"
    [tls]="a client's bytes to a TLS server connection: ClientHello/records -> OpenSSL, INFO first or handshake_first"
    [monitor-response]="a peer's HTTP answer to /topologyz's fetches -> HTTPResponseReader (bound, splits, end)"
)

usage() {
    sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit 2
}

build() {
    echo "fuzz: building harnesses (debug, -sanitize=fuzzer,address) in .build-fuzz"
    local log
    log="$(mktemp)"
    # lld: SwiftPM links each executable's Swift `main` over libFuzzer's; ld.gold rejects the pair.
    if ! swift build --package-path "$PACKAGE" --scratch-path "$SCRATCH" \
        --sanitize=address -Xswiftc -sanitize=fuzzer -Xswiftc -use-ld=lld >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "fuzz: build failed" >&2
        exit 1
    fi
    rm -f "$log"
    BIN="$(swift build --package-path "$PACKAGE" --scratch-path "$SCRATCH" --show-bin-path \
        --sanitize=address -Xswiftc -sanitize=fuzzer -Xswiftc -use-ld=lld)"
}

check_names() {
    local name
    for name in "$@"; do
        [ -n "${TARGET[$name]:-}" ] || { echo "fuzz: unknown harness '$name' (known: ${HARNESSES[*]})" >&2; exit 2; }
    done
}

# The environment every harness runs in:
#  - SWIFT_BACKTRACE=enable=no: the Swift runtime's own crash backtracer would otherwise read memory that
#    AddressSanitizer reports as a second, misleading crash; libFuzzer prints the stack instead.
#  - LSAN_OPTIONS: Fuzz/lsan.supp lists toolchain leaks outside natsd (each with its reason).
harness_env() {
    env SWIFT_BACKTRACE=enable=no \
        LSAN_OPTIONS="suppressions=$ROOT/Fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
        "$@"
}

# Fuzzes one harness for $SECONDS_PER_HARNESS seconds; prints one summary line; returns non-zero on a finding.
run_one() {
    local name="$1" work corpus log artifacts rc executions seeds grown rate base="${TMPDIR:-/tmp}"
    # tmpfs when there is one: the config harness writes every input to a file (4x faster than on ext4).
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then base=/dev/shm; fi
    work="$(mktemp -d "$base/natsd-fuzz-$name.XXXXXX")"
    corpus="$work/corpus"
    log="$work/fuzz.log"
    artifacts="$ARTIFACTS/$name"
    mkdir -p "$corpus" "$artifacts"
    cp -R "Fuzz/Corpus/$name/." "$corpus/"
    if [ -n "${FUZZ_KEEP_CORPUS:-}" ] && [ -d "$FUZZ_KEEP_CORPUS/$name" ]; then
        cp -R "$FUZZ_KEEP_CORPUS/$name/." "$corpus/"
    fi
    seeds="$(find "$corpus" -type f | wc -l)"
    local flags=(
        -max_total_time="$SECONDS_PER_HARNESS" -print_final_stats=1 -timeout=20
        -max_len="${MAX_LEN[$name]}" -artifact_prefix="$artifacts/"
    )
    [ -f "Fuzz/Dictionaries/$name.dict" ] && flags+=(-dict="Fuzz/Dictionaries/$name.dict")
    # shellcheck disable=SC2086 # FUZZ_ARGS is split on purpose.
    TMPDIR="$work" harness_env "$BIN/${TARGET[$name]}" "${flags[@]}" ${FUZZ_ARGS:-} "$corpus" >"$log" 2>&1
    rc=$?
    executions="$(grep -oE 'stat::number_of_executed_units: +[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)"
    executions="${executions:-0}"
    grown="$(find "$corpus" -type f | wc -l)"
    rate="$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)"
    if [ -n "${FUZZ_KEEP_CORPUS:-}" ]; then
        mkdir -p "$FUZZ_KEEP_CORPUS/$name"
        cp -R "$corpus/." "$FUZZ_KEEP_CORPUS/$name/"
    fi
    if [ "$rc" -ne 0 ]; then
        cp "$log" "$artifacts/fuzz.log"
        echo "fuzz: $name FAILED (exit $rc) after $executions executions; log and input in ${artifacts#"$ROOT"/}/:"
        grep -E '^(==[0-9]+==|SUMMARY|.*Precondition failed|.*Fatal error|artifact_prefix|Test unit written)' "$log" | head -n 20
        ls -1 "$artifacts" | grep -vE '^fuzz\.log$' | sed 's/^/  /'
        echo "  replay: scripts/fuzz.sh repro $name ${artifacts#"$ROOT"/}/<file>"
    elif [ "${rate:-0}" -lt "${MIN_RATE[$name]:-100}" ]; then
        # A harness that runs fewer than MIN_RATE inputs a second is not fuzzing (it once waited 2 s per input
        # on loops that were never started): fail rather than report a run that tested nothing.
        cp "$log" "$artifacts/fuzz.log"
        echo "fuzz: $name FAILED: only $executions executions in ${SECONDS_PER_HARNESS} s (${rate:-0}/s); log in ${artifacts#"$ROOT"/}/"
        rc=1
    else
        echo "fuzz: $name: $executions executions in ${SECONDS_PER_HARNESS} s (${rate:-?}/s), corpus $seeds -> $grown inputs, no findings"
    fi
    rm -rf "$work"
    return "$rc"
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
    build)
        build
        echo "fuzz: harnesses in ${BIN#"$ROOT"/}: $(printf '%s ' "${TARGET[@]}")"
        ;;
    list)
        for name in "${HARNESSES[@]}"; do printf '%-17s %s\n' "$name" "${COVERS[$name]}"; done
        ;;
    run)
        SECONDS_PER_HARNESS=60
        names=()
        while [ $# -gt 0 ]; do
            case "$1" in
                --seconds) SECONDS_PER_HARNESS="${2:?--seconds needs a value}"; shift 2 ;;
                --seconds=*) SECONDS_PER_HARNESS="${1#--seconds=}"; shift ;;
                -h|--help) usage ;;
                *) names+=("$1"); shift ;;
            esac
        done
        [[ "$SECONDS_PER_HARNESS" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --seconds must be a positive integer" >&2; exit 2; }
        [ ${#names[@]} -gt 0 ] || names=("${HARNESSES[@]}")
        check_names "${names[@]}"
        build
        failed=()
        for name in "${names[@]}"; do
            run_one "$name" || failed+=("$name")
        done
        if [ ${#failed[@]} -gt 0 ]; then
            echo "fuzz: findings in: ${failed[*]}"
            exit 1
        fi
        echo "fuzz: ${#names[@]} harnesses, no findings"
        ;;
    repro)
        [ $# -ge 2 ] || usage
        name="$1"
        shift
        check_names "$name"
        build
        harness_env "$BIN/${TARGET[$name]}" "$@"
        ;;
    *)
        usage
        ;;
esac
