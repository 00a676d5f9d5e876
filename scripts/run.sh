#!/usr/bin/env bash
# Builds natsd in release mode and runs it. Arguments are passed to natsd unchanged
# (nats-server's flags, e.g. `-p 4222 -a 0.0.0.0 -m 8222`); natsd defaults to 0.0.0.0:4222.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh
SCRATCH=()
if [ -n "${SWIFT_SCRATCH_PATH:-}" ]; then SCRATCH=(--scratch-path "$SWIFT_SCRATCH_PATH"); fi
exec swift run "${SCRATCH[@]}" -c release natsd "$@"
