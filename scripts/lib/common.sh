# Sourced by every script: one place for paths and versions.
# Everything installed lives in CDRV_CACHE, outside the repo, so a fresh clone stays clean.
set -euo pipefail
CDRV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CDRV_CACHE=${CDRV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdrv}
CDRV_BIN=$CDRV_CACHE/bin
DENO_VERSION=2.9.6
NOMAD_VERSION=1.10.5
NOMAD_COMMIT=a3b86c697f38ab032e1acaae8503ed10815bc4a2
BUF_VERSION=1.74.0
TS_PROTO_VERSION=2.18.0
ASC_VERSION=0.28.20
PLAYWRIGHT_VERSION=1.65.1
export DENO_DIR=${DENO_DIR:-$CDRV_CACHE/deno_dir}
export DENO_NO_UPDATE_CHECK=1
# Go lives in /usr/local/go on these machines; CI may not have it on PATH.
export PATH=$CDRV_BIN:$PATH:/usr/local/go/bin
mkdir -p "$CDRV_BIN"

cdrv_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# cdrv_marked_pids NAME=VALUE: the PIDs (one a line) of the processes whose environment holds exactly that
# entry, the caller's own shells left out. Tests mark what they start this way (CDRV_TEST_DIR,
# CDRV_TEST_AGENT) so that what outlives them can be ended by PID.
cdrv_marked_pids() {
  local e p
  for e in /proc/[0-9]*/environ; do
    p=${e#/proc/}
    p=${p%/environ}
    if [ "$p" = $$ ] || [ "$p" = "$BASHPID" ]; then continue; fi
    if { tr '\0' '\n' <"$e"; } 2>/dev/null | grep -qxF "$1"; then echo "$p"; fi
  done
}
