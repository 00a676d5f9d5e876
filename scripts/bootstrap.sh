#!/usr/bin/env bash
# Installs what natsd needs to build and test, and nothing when it is all present.
#  - Debian packages: libuv1-dev libhttp-parser-dev libcrypt-dev pkg-config, valgrind and binutils (strip) for
#    the allocation check of scripts/test.sh, chromium for the topology page's headless-browser test
#    (about 80 MB to download, once; Tests/BlackBox/test_monitoring_topology.py) (apt-get; sudo when not root).
#  - A Python venv at .venv with the pinned packages of Tests/BlackBox/requirements.txt.
# Swift itself is assumed installed. Safe to run repeatedly; quiet unless it has work to do.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v swift >/dev/null 2>&1 || die "'swift' not found on PATH; install a Swift 6 toolchain first"

# Runs a command as root, through sudo only when we are not root already.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root (or sudo) to run: $*"
    fi
}

# --- Debian packages ------------------------------------------------------------------------------
APT_PACKAGES=(libuv1-dev libhttp-parser-dev libcrypt-dev libssl-dev pkg-config valgrind binutils chromium)
APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "missing packages ($*) and no apt-get to install them"
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi

# --- Python venv ----------------------------------------------------------------------------------
VENV="$ROOT/.venv"
REQS="$ROOT/Tests/BlackBox/requirements.txt"
STAMP="$VENV/.requirements.sha256"

find_python() {
    local candidate
    for candidate in python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 9))' >/dev/null 2>&1; then
            command -v "$candidate"; return 0
        fi
    done
    return 1
}

venv_healthy() {
    [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1 \
        && "$VENV/bin/python" -m pip --version >/dev/null 2>&1
}

if ! venv_healthy; then
    PYTHON="$(find_python || true)"
    if [ -z "$PYTHON" ]; then
        apt_install python3 python3-venv
        PYTHON="$(find_python)" || die "no usable python3 (with venv and ensurepip) after installing python3-venv"
    fi
    [ -e "$VENV" ] && log "recreating broken $VENV"
    rm -rf "$VENV"
    log "creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi

want="$(sha256sum "$REQS" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ] || ! "$VENV/bin/python" -c 'import nats, pytest, pytest_asyncio, pytest_timeout, bcrypt, nkeys' >/dev/null 2>&1; then
    log "installing Python packages from ${REQS#"$ROOT"/}"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --requirement "$REQS"
    printf '%s\n' "$want" >"$STAMP"
fi
