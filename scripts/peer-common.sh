# Helpers shared by scripts/peer-suites.sh (nats.py) and scripts/peer-suites-c.sh (nats.c); sourced,
# not run. The sourcing script sets PEER_NAME (its name in messages) first, and NATSD_BIN and
# NATS_SERVER_BIN before calling impl_bin.

log() { printf '%s: %s\n' "$PEER_NAME" "$*" >&2; }
die() { log "error: $*"; exit 2; }

# The absolute path of the client checkout folder $2 (the script's argument or environment variable
# $1), or a setup error.
checkout_dir() {
    local name="$1" dir="$2"
    [ -n "$dir" ] || die "give the checkout as the first argument or in $name"
    (cd "$dir" 2>/dev/null && pwd) || die "no such folder: $dir"
}

# The binary of a server kind: natsd or nats-server.
impl_bin() {
    case "$1" in
        natsd) echo "$NATSD_BIN" ;;
        nats-server) echo "$NATS_SERVER_BIN" ;;
        *) die "unknown server '$1' (natsd, nats-server)" ;;
    esac
}

# Stops with an error unless every kind named (natsd, nats-server) has an executable binary.
check_impls() {
    local i bin
    for i in "$@"; do
        bin="$(impl_bin "$i")"
        [ -x "$bin" ] || die "$i binary not found at $bin (natsd: swift build; nats-server: bash scripts/bootstrap.sh)"
    done
}

# Writes an executable `nats-server` wrapper at $1 that appends the PID it becomes to $3, changes to
# the folder $4 when given, and execs the binary $2 with the same arguments; the suites start it in
# place of the server.
write_wrapper() {
    local path="$1" bin="$2" pidfile="$3" cwd="${4:-}"
    {
        echo '#!/usr/bin/env bash'
        echo "echo \$\$ >>\"$pidfile\""
        [ -z "$cwd" ] || echo "cd \"$cwd\" || exit 1"
        echo "exec \"$bin\" \"\$@\""
    } >"$path"
    chmod +x "$path"
}

# Kills, by PID, the servers a wrapper started that are still alive (a test killed by its time limit
# may leave its server behind, holding the fixed ports for the next test), then empties the PID file.
reap() {
    local pidfile="$1" pid
    [ -f "$pidfile" ] || return 0
    while read -r pid; do
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null && log "killed leftover server $pid"
    done <"$pidfile"
    : >"$pidfile"
}
