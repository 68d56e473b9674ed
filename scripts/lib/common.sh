# Sourced by every script: one place for paths and versions.
# Everything installed lives in CDRV_CACHE, outside the repo, so a fresh clone stays clean.
set -euo pipefail
CDRV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CDRV_CACHE=${CDRV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdrv}
CDRV_BIN=$CDRV_CACHE/bin
DENO_VERSION=2.9.6
# Nomad 1.6.3: the last release under the MPL-2.0 that the Go module proxy serves (later releases are under
# the Business Source License: this project never pins, builds or downloads them). To run the demo, the
# e2e tests and the bench against another Nomad (yours, under your licence), set CDRV_NOMAD_BIN to its
# binary: nothing is built then.
NOMAD_VERSION=1.6.3
NOMAD_COMMIT=e0497bff14378d68cad76a801cc0eba93ce05039
# The modern leg's stack (scripts/lib/stack.sh builds it from the Go module proxy; tests run it in the VM).
CONTAINERD2_VERSION=2.4.2
RUNC_VERSION=1.5.3
BUF_VERSION=1.74.0
TS_PROTO_VERSION=2.18.0
ASC_VERSION=0.28.20
PLAYWRIGHT_VERSION=1.65.1
# The bundle build's three files (build.sh makes them, release.sh ships them): the two chunks, then the
# entry that imports them — the order to put them in place, so a starting plugin finds what its entry names.
CDRV_BUNDLE_FILES=(containerd-driver.shared.js containerd-driver.driver.js containerd-driver.js)
export DENO_DIR=${DENO_DIR:-$CDRV_CACHE/deno_dir}
export DENO_NO_UPDATE_CHECK=1
# Go lives in /usr/local/go on these machines; CI may not have it on PATH.
export PATH=$CDRV_BIN:$PATH:/usr/local/go/bin
mkdir -p "$CDRV_BIN"
# The Nomad binary every script and test uses: the user's (CDRV_NOMAD_BIN, made absolute) or the one
# scripts/lib/nomad.sh builds into $CDRV_BIN.
CDRV_NOMAD_BIN=$(realpath -m "${CDRV_NOMAD_BIN:-$CDRV_BIN/nomad}")
export CDRV_NOMAD_BIN
# cdrv_nomad_is_ours: whether CDRV_NOMAD_BIN is the build this project pins (else it is the user's, used as is).
cdrv_nomad_is_ours() { [ "$CDRV_NOMAD_BIN" = "$(realpath -m "$CDRV_BIN/nomad")" ]; }

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
# cdrv_commit: the repo's commit (short), with "-dirty" when the work tree has changes; "unknown" outside git.
cdrv_commit() {
  local c
  c=$(git -C "$CDRV_ROOT" rev-parse --short=12 HEAD 2>/dev/null) || { echo unknown; return; }
  git -C "$CDRV_ROOT" diff --quiet HEAD -- 2>/dev/null || c="$c-dirty"
  echo "$c"
}
