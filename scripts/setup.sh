#!/usr/bin/env bash
# Installs everything the driver, its tests and the demo need, idempotently, into the system (apt) and
# the cache outside the repo (Deno, codegen tools, Nomad, the modern leg's containerd 2.x, runc and gVisor). Safe to
# run again: each step is a no-op when its pinned version is already there.
source "$(dirname "$0")/lib/common.sh"
source "$CDRV_ROOT/scripts/lib/install.sh"
source "$CDRV_ROOT/scripts/lib/apt.sh"
source "$CDRV_ROOT/scripts/lib/nomad.sh"
source "$CDRV_ROOT/scripts/lib/stack.sh"
source "$CDRV_ROOT/scripts/lib/runtimes.sh"

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run as root (containerd, runc and Nomad's client need it)" >&2
  exit 1
fi
t0=$SECONDS
cdrv_install_apt
if ! command -v go >/dev/null 2>&1; then
  echo "setup.sh: Go is not installed; it is needed to build Nomad from the Go module proxy (Go >= 1.21," >&2
  echo "which fetches the exact toolchain Nomad's go.mod asks for by itself)" >&2
  exit 1
fi
# Nomad enables bridge networking (group network mode "bridge") only when the bridge module is loaded.
for m in bridge br_netfilter; do
  [ -d "/sys/module/$m" ] || modprobe "$m" 2>/dev/null || cdrv_log "setup: could not load kernel module $m"
done
cdrv_install_deno
cdrv_install_codegen
cdrv_install_nomad
cdrv_install_stack
cdrv_install_gvisor
# Debian's containerd package ships a default config that enables CRI; we never use the system daemon,
# every script starts its own with its own config.
cdrv_log "setup: done in $((SECONDS - t0)) s (cache: $CDRV_CACHE)"
