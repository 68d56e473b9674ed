#!/usr/bin/env bash
# The modern leg, run inside the test VM's modern profile (cgroup v2 only, no LSM):
#
#   scripts/vm.sh run --profile modern -- scripts/vm/modern-leg.sh [TEST PATH...]
#
# Makes the guest the node most operators run today: containerd 2.x and runc from $CDRV_STACK_DIR/bin (built
# on the host by scripts/lib/stack.sh, shared into the VM with the cache; gVisor's runsc and its shim from
# scripts/lib/runtimes.sh beside them, for tests/runtimes), with the image's Debian containerd 1.6
# and runc 1.1.5 removed from this boot's copy-on-write root (so no 1.6 shim, e.g. containerd-shim-runc-v1, can
# stand in for a runtime 2.x dropped). Then runs ./scripts/test.sh on the given paths (default: the
# containerd-facing suites, the e2e jobs and the v2-only suites) with containerd and registries of its own,
# and prints its summary line. Exit code: test.sh's.
source "$(dirname "$0")/../lib/common.sh"
source "$CDRV_ROOT/scripts/lib/stack.sh"
source "$CDRV_ROOT/scripts/lib/runtimes.sh"

die() {
  echo "modern-leg: $*" >&2
  exit 1
}
[ "${CDRV_VM_PROFILE:-}" = modern ] || die "run me in the VM: scripts/vm.sh run --profile modern -- $0"
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || die "/sys/fs/cgroup is not cgroup2"
_cdrv_stack_ok || die "no containerd $CONTAINERD2_VERSION + runc $RUNC_VERSION in $CDRV_STACK_DIR/bin" \
  "(scripts/setup.sh builds them on the host)"
[ -x "$(cdrv_gvisor_bin)/containerd-shim-runsc-v1" ] || die "no gVisor in $(cdrv_gvisor_bin) (setup.sh builds it)"

# This boot's root is a throw-away snapshot of the image: removing files here changes nothing on disk.
for f in containerd containerd-shim containerd-shim-runc-v1 containerd-shim-runc-v2 containerd-stress ctr; do
  rm -f "/usr/bin/$f"
done
rm -f /usr/sbin/runc /usr/bin/runc
export PATH=$CDRV_STACK_DIR/bin:$(cdrv_gvisor_bin):$PATH
# Nomad's bridge networking needs bridge and br_netfilter (the host's setup.sh loads them there); the device
# tests pass /dev/loop0 and /dev/fuse into containers, which a host has when loop and fuse are loaded.
modprobe -a bridge br_netfilter veth loop fuse 2>/dev/null || true

echo "modern-leg: kernel $(uname -r), cgroup v2 ($(cat /sys/fs/cgroup/cgroup.subtree_control))," \
  "containerd $(containerd --version | cut -d' ' -f3), $(runc --version | sed -n 1p)," \
  "$("$CDRV_NOMAD_BIN" version | sed -n 1p), $(runsc --version | sed -n 1p)"

# What a containerd 2.x, runc 1.5, cgroup v2 node changes, within CI's time (this VM is emulated: a test that
# takes a second on the host takes half a minute here): the v2-only suites (limits, pids, cpuset, cgroupns,
# OOM and stats read from the cgroup files; Nomad's scope over RPC and under a real agent, with an alloc
# restart; the runtimes 2.x dropped; deprecations; gVisor); the image store on 2.x (pulls shared and
# unpacked, image GC and its leases, failed pulls leaving nothing, image archives loaded: 2.5 min here; the
# pull tests of registry auth, TLS and mirrors exercise the plugin's own HTTP and stay on the host: they would
# add 3 min); the lifecycle (start, stop, OOM, signals, exec, recovery after a plugin SIGKILL); a containerd
# restart under running tasks (10 here); the e2e jobs (bridge networking) under Nomad. The rest does not depend on the stack and runs on the host leg; any other file
# runs here when named: scripts/vm.sh run --profile modern -- scripts/vm/modern-leg.sh tests/spec/ ...
paths=("$@")
[ ${#paths[@]} -gt 0 ] || paths=(tests/cgroupv2/ tests/runtimes/
  tests/image/coordinator_test.ts tests/image/errors_test.ts tests/image/load_test.ts
  tests/lifecycle/lifecycle_test.ts tests/lifecycle/exec_test.ts tests/lifecycle/recover_test.ts
  tests/fault/containerd_restart_test.ts tests/e2e/jobs_test.ts)
exec env CDRV_TEST_SKIP_SETUP=1 CDRV_TEST_SKIP_STATIC=1 CDRV_TEST_PREBUILT_IMAGES=1 CDRV_TEST_SELINUX_VM=0 \
  CDRV_TEST_MODERN_VM=0 CDRV_TEST_SOAK=0 CDRV_TEST_LEG=modern CDRV_TEST_SLOW_FACTOR="${CDRV_TEST_SLOW_FACTOR:-4}" \
  CDRV_TEST_FAULT_TASKS="${CDRV_TEST_FAULT_TASKS:-10}" \
  CDRV_TEST_TIMEOUT="${CDRV_TEST_MODERN_TEST_TIMEOUT:-3000}" "$CDRV_ROOT/scripts/test.sh" "${paths[@]}"
