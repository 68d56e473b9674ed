#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts a private containerd and local registries
# (127.0.0.1 only), runs every test (static checks, unit, plugin, containerd integration, Nomad e2e),
# stops what it started, and ends with one line of its own: `N passed, N failed`.
#
#   ./scripts/test.sh                 everything: the host leg, the modern leg (a VM: cgroup v2, containerd 2.x,
#                                     runc 1.5), the SELinux VM and a 3-minute soak
#   ./scripts/test.sh tests/plugin    only these test paths on the host (static checks still run)
#
# The legs' counts are printed each on a line of their own ("leg <name>: N passed, N failed"), then their sum.
source "$(dirname "$0")/lib/common.sh"
source "$CDRV_ROOT/scripts/lib/containerd.sh"
source "$CDRV_ROOT/scripts/lib/registry.sh"
source "$CDRV_ROOT/scripts/lib/images.sh"
source "$CDRV_ROOT/scripts/lib/nomadnet.sh"
cd "$CDRV_ROOT"

# The release tests (tests/release) need the artifacts in dist/: then the build is the release build.
release=()
[ $# -eq 0 ] && release=(--release)
for a in "$@"; do case $a in tests/release* | ./tests/release*) release=(--release) ;; esac; done
if [ "${CDRV_TEST_SKIP_SETUP:-0}" != 1 ]; then
  "$CDRV_ROOT/scripts/setup.sh"
  "$CDRV_ROOT/scripts/build.sh" "${release[@]}"
fi

passed=0
failed=0
failures=()
# Counts per leg: the run's own tests are leg $LEG (host; the VMs' runs of this script name theirs), a VM's
# summary line counts for that VM's leg.
LEG=${CDRV_TEST_LEG:-host}
legs=()
declare -A leg_passed=() leg_failed=()
_leg() { [[ " ${legs[*]} " == *" $1 "* ]] || legs+=("$1"); }
pass() { passed=$((passed + $1)); _leg "${3:-$LEG}"; leg_passed[${3:-$LEG}]=$((${leg_passed[${3:-$LEG}]:-0} + $1)); }
fail() {
  failed=$((failed + $1))
  failures+=("$2")
  _leg "${3:-$LEG}"
  leg_failed[${3:-$LEG}]=$((${leg_failed[${3:-$LEG}]:-0} + $1))
}
# vm_counts <leg> <log> <exit code>: adds the summary line of a VM's run of this script to <leg>; a missing
# summary or a non-zero exit without a failure counts as one failure.
vm_counts() {
  local leg=$1 log=$2 rc=$3 summary f
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | { grep -E '^[0-9]+ passed, [0-9]+ failed$' || true; } | tail -1)
  if [ -z "$summary" ]; then
    fail 1 "$leg VM gave no summary (exit $rc)" "$leg"
    return
  fi
  pass "${summary%% passed*}" "" "$leg"
  f=${summary##*, }
  f=${f%% failed}
  [ "$f" -gt 0 ] && fail "$f" "$leg VM" "$leg"
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && fail 1 "$leg VM exited $rc" "$leg"
  cdrv_log "$leg VM: $summary"
}

# --- static checks: each counts as one test -----------------------------------------------------
static() {
  local name=$1
  shift
  if "$@" >"$CDRV_CACHE/last-$name.log" 2>&1; then
    pass 1
    cdrv_log "static: $name ok"
  else
    fail 1 "$name"
    cdrv_log "static: $name FAILED"
    tail -40 "$CDRV_CACHE/last-$name.log" >&2
  fi
}
# (CDRV_TEST_SKIP_STATIC=1: the run inside the SELinux VM below, whose host already checked them.)
if [ "${CDRV_TEST_SKIP_STATIC:-0}" != 1 ]; then
  static fmt deno fmt --check
  static lint deno lint
  static check deno check mod.ts src/ tests/ scripts/ bench/ web/
fi

# --- services the tests use ------------------------------------------------------------------------
# A short path: unix socket paths are limited to 107 bytes.
TESTDIR=$(mktemp -d /tmp/cdrv-test.XXXXXX)
# containerd groups task cgroups by namespace (/<namespace>/<id>); the tests' namespaces are named cdrv-*.
# (v1: /sys/fs/cgroup/<controller>/<namespace>; v2: /sys/fs/cgroup/<namespace>.)
cgroup_dirs() { find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d -name 'cdrv-*' 2>/dev/null | sort; }
CGROUPS_BEFORE=$(cgroup_dirs)
modern_pid=""
# The release tests run plugins the operator's way, with their socket dirs and Deno's cache dir in /run.
RUN_CACHE_BEFORE=$([ -e /run/containerd-driver.cache ] && echo 1 || echo 0)
cdrv_nomadnet_snapshot "$TESTDIR/nomadnet"
cleanup() {
  local rc=$?
  set +e
  # Whatever the tests started and left (a Nomad agent's logmon, a plugin of a killed run): every process
  # whose environment names this run's dir (exported below, after containerd and the registries started),
  # ended by PID: SIGTERM (the SELinux VM's script then stops its qemu), SIGKILL a moment later.
  # The modern leg's VM (its script stops qemu on SIGTERM).
  if [ -n "$modern_pid" ] && kill -0 "$modern_pid" 2>/dev/null; then
    kill "$modern_pid" 2>/dev/null
    wait "$modern_pid" 2>/dev/null
  fi
  local left=()
  mapfile -t left < <(cdrv_marked_pids "CDRV_TEST_DIR=$TESTDIR")
  if [ ${#left[@]} -gt 0 ]; then
    cdrv_log "ending ${#left[@]} process(es) the tests left: ${left[*]}"
    kill "${left[@]}" 2>/dev/null
    sleep 2
    kill -9 "${left[@]}" 2>/dev/null
  fi
  for r in plain basic tls; do cdrv_registry_stop "$TESTDIR/reg" "$r" >/dev/null 2>&1; done
  cdrv_containerd_stop "$TESTDIR/ctd" --purge >/dev/null 2>&1
  # Empty cgroup dirs of namespaces this run created (children first; a busy one stays).
  comm -13 <(echo "$CGROUPS_BEFORE") <(cgroup_dirs) | sort -r | while read -r d; do
    find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
    rmdir "$d" 2>/dev/null
  done
  # Deno's cache dir of those plugins, when this run made it (their socket dirs are checked by the tests).
  [ "$RUN_CACHE_BEFORE" = 1 ] || rm -rf /run/containerd-driver.cache
  # Nomad's bridge networking (the e2e tests use it): its bridge and iptables chains, if we made them.
  cdrv_nomadnet_cleanup "$TESTDIR/nomadnet"
  # Anything a test left mounted under the run's dir (a Nomad alloc's secrets tmpfs after a crash).
  grep -o " $TESTDIR/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$TESTDIR"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the modern leg, in the background ------------------------------------------------------------------
# The host is cgroup v1 with Debian's containerd 1.6 and runc 1.1. Most Nomad clients now run cgroup v2 with
# containerd 2.x: the modern leg boots the test VM in profile modern (scripts/vm.sh) and runs the
# containerd-facing suites, the e2e jobs and the v2-only suites (tests/cgroupv2, tests/runtimes) there, with
# containerd 2.x and runc 1.5 (scripts/vm/modern-leg.sh). It runs while the host leg runs (the VM is software
# emulated here: it takes longer than the host's tests). With the whole suite, or CDRV_TEST_MODERN_VM=1.
if [ "${CDRV_TEST_MODERN_VM:-$([ $# -eq 0 ] && echo 1 || echo 0)}" = 1 ]; then
  modern_t0=$SECONDS
  CDRV_VM_TIMEOUT=${CDRV_TEST_MODERN_TIMEOUT:-3300} \
    "$CDRV_ROOT/scripts/vm.sh" run --profile modern -- scripts/vm/modern-leg.sh >"$TESTDIR/modern-vm.log" 2>&1 &
  modern_pid=$!
  cdrv_log "modern leg: started in the VM (pid $modern_pid; its output: $TESTDIR/modern-vm.log, shown when it ends)"
fi

t0=$SECONDS
cdrv_containerd_start "$TESTDIR/ctd"
IMAGES=$CDRV_CACHE/images
# (In the SELinux VM the host's images are used as they are: CDRV_TEST_PREBUILT_IMAGES=1.)
[ "${CDRV_TEST_PREBUILT_IMAGES:-0}" = 1 ] || cdrv_build_images "$IMAGES"
# Ports: registries at BASE..BASE+2; Nomad agents in e2e tests from BASE+100. Parallel runs need
# distinct bases (CDRV_TEST_PORT_BASE).
BASE=${CDRV_TEST_PORT_BASE:-15000}
cdrv_registry_start "$TESTDIR/reg" plain "$BASE" plain
cdrv_registry_start "$TESTDIR/reg" basic $((BASE + 1)) basic
cdrv_registry_start "$TESTDIR/reg" tls $((BASE + 2)) tls
cdrv_push_images "$IMAGES" "127.0.0.1:$BASE" --plain
# docker.io names for the example jobs, served through a hosts.toml mirror in e2e tests
for img in busybox:1.36 redis:7; do
  skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$IMAGES/oci:${img%%:*}" \
    "docker://127.0.0.1:$BASE/library/$img"
done
# The image pull tests (tests/image) pull from the basic-auth and TLS registries too.
cdrv_push_images "$IMAGES" "127.0.0.1:$((BASE + 1))" --plain --creds "$CDRV_REGISTRY_USER:$CDRV_REGISTRY_PASSWORD"
cdrv_push_images "$IMAGES" "127.0.0.1:$((BASE + 2))" --tls-ca "$TESTDIR/reg/ca/ca.crt"
cdrv_log "test services up in $((SECONDS - t0)) s"

export CDRV_TEST_DIR=$TESTDIR
# Every temp dir a test makes lands in the run's dir, removed at the end whatever happened.
export TMPDIR=$TESTDIR
# The plugin's private socket dirs too (the launcher prefers $XDG_RUNTIME_DIR to /run): the fault tests kill
# plugins, and what a killed plugin leaves must go with the run. tests/release checks the /run default.
export XDG_RUNTIME_DIR=$TESTDIR
export CDRV_TEST_CONTAINERD_DIR=$TESTDIR/ctd
export CDRV_TEST_CONTAINERD_SOCK=$TESTDIR/ctd/containerd.sock
export CDRV_TEST_PORT_BASE=$BASE
export CDRV_TEST_REGISTRY_PLAIN=127.0.0.1:$BASE
export CDRV_TEST_REGISTRY_BASIC=127.0.0.1:$((BASE + 1))
export CDRV_TEST_REGISTRY_TLS=127.0.0.1:$((BASE + 2))
export CDRV_TEST_REGISTRY_CA=$TESTDIR/reg/ca/ca.crt
export CDRV_TEST_IMAGES=$IMAGES
# CDRV_NOMAD_BIN (common.sh): the pinned build, or the user's own Nomad. Named in the output either way.
cdrv_log "nomad for the e2e tests: $CDRV_NOMAD_BIN ($({ "$CDRV_NOMAD_BIN" version 2>/dev/null || echo "does not run"; } | sed -n 1p))"

# --- deno tests ------------------------------------------------------------------------------------
paths=("$@")
opts=()
# The VMs' runs skip the static checks, type checking included (the host did it; under emulation it is minutes).
[ "${CDRV_TEST_SKIP_STATIC:-0}" = 1 ] && opts+=(--no-check)
# The whole suite on the host: all but the suites that need a cgroup v2 node with containerd 2.x (they run in the
# modern leg; asked for by name on a host without them, they fail and say why).
# (Listed dir by dir: deno test's --ignore left them in, seen in CI though not reproduced by hand.)
if [ ${#paths[@]} -eq 0 ]; then
  paths=(src/ scripts/ web/ bench/ tests/*_test.ts)
  for d in tests/*/; do
    case $d in tests/cgroupv2/ | tests/runtimes/) ;; *) paths+=("$d") ;; esac
  done
fi
cdrv_log "deno test ${opts[*]} ${paths[*]}"
log=$TESTDIR/deno-test.log
junit=$TESTDIR/deno-test.junit.xml
set +e
# Tests start and stop real processes (containerd, nomad, the plugin) and read their files: they get
# broad permissions, named one by one. The plugin itself runs under its launcher's scoped ones.
# A hung test must not eat CI's time: the whole run gets CDRV_TEST_TIMEOUT (default 25 min), then the
# tests are stopped and counted as failed.
timeout --kill-after=30 "${CDRV_TEST_TIMEOUT:-1500}" \
  deno test --no-prompt --allow-read --allow-write --allow-run --allow-net --allow-env --allow-sys \
  --junit-path="$junit" "${opts[@]}" "${paths[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 124 ] && cdrv_log "deno test: stopped after ${CDRV_TEST_TIMEOUT:-1500} s"
# Counted from deno's JUnit report (scripts/test-report.ts, which also prints the fault summary); its
# last line is "<passed> <failed>". No report (killed, crashed) counts as a failure.
report=$(deno run --no-prompt --allow-read="$TESTDIR" scripts/test-report.ts "$junit" "$TESTDIR/fault-summary.jsonl")
cp "$junit" "$CDRV_CACHE/last-junit.xml" 2>/dev/null
set -e
printf '%s\n' "$report" | sed '$d'
read -r p f <<<"$(tail -1 <<<"$report")"
if [[ $p =~ ^[0-9]+$ && $f =~ ^[0-9]+$ ]]; then
  pass "$p"
  [ "$f" -gt 0 ] && fail "$f" "deno test"
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && fail 1 "deno test exited $rc"
else
  fail 1 "scripts/test-report.ts gave no count (deno test exited $rc)"
fi

# --- SELinux on a kernel that enforces it --------------------------------------------------------------
# This host's kernel has SELinux off, so tests/selinux above proved only that the option then changes
# nothing. The same file runs again in the test VM booted with SELinux enforcing (scripts/vm.sh, profile
# selinux), with its own containerd and registry; its summary line adds to ours. It runs with the whole
# suite (no paths given) or when CDRV_TEST_SELINUX_VM=1.
if [ "${CDRV_TEST_SELINUX_VM:-$([ $# -eq 0 ] && echo 1 || echo 0)}" = 1 ]; then
  vmlog=$TESTDIR/selinux-vm.log
  t1=$SECONDS
  set +e
  # Deno's JIT (V8) needs execmem, which the policy grants unconfined domains only with allow_execmem.
  "$CDRV_ROOT/scripts/vm.sh" run --profile selinux -- sh -c 'setsebool allow_execmem 1 && exec "$@"' _ \
    env CDRV_TEST_SKIP_SETUP=1 CDRV_TEST_SKIP_STATIC=1 CDRV_TEST_PREBUILT_IMAGES=1 CDRV_TEST_SELINUX_VM=0 \
    CDRV_TEST_MODERN_VM=0 CDRV_TEST_LEG=selinux \
    CDRV_TEST_SLOW_FACTOR="${CDRV_TEST_SLOW_FACTOR:-4}" \
    ./scripts/test.sh tests/selinux/ 2>&1 |
    tee "$vmlog"
  vmrc=${PIPESTATUS[0]}
  set -e
  vm_counts selinux "$vmlog" "$vmrc"
  cdrv_log "selinux VM: $((SECONDS - t1)) s"
fi

# --- the modern leg's result ------------------------------------------------------------------------------
if [ -n "$modern_pid" ]; then
  cdrv_log "modern leg: waiting for the VM (running for $((SECONDS - modern_t0)) s)"
  set +e
  wait "$modern_pid"
  modern_rc=$?
  set -e
  modern_pid=""
  echo "----- modern leg (VM, profile modern) -----"
  cat "$TESTDIR/modern-vm.log"
  echo "----- end of the modern leg -----"
  vm_counts modern "$TESTDIR/modern-vm.log" "$modern_rc"
  cdrv_log "modern VM: $((SECONDS - modern_t0)) s"
fi

# --- chaos soak, 3 minutes ----------------------------------------------------------------------------
# bench/soak.ts under a real Nomad agent (non-dev) with a containerd of its own (root on a loop-mounted
# ext4) and a registry on CDRV_TEST_PORT_BASE+500: 50 sequenced log writers, exec loops and a random
# fault every 20-40 s; it fails on a lost, repeated or garbled log line, an unexpected restart, a leak or
# an unhealthy fingerprint. It runs with the whole suite (no paths given) or when CDRV_TEST_SOAK=1, and
# counts as one test. On a timeout it gets SIGTERM first (it then removes what it made).
if [ "${CDRV_TEST_SOAK:-$([ $# -eq 0 ] && echo 1 || echo 0)}" = 1 ]; then
  soaklog=$TESTDIR/soak.log
  t1=$SECONDS
  set +e
  timeout --kill-after=60 "${CDRV_TEST_SOAK_TIMEOUT:-480}" \
    deno task soak --minutes "${CDRV_TEST_SOAK_MINUTES:-3}" --out "$TESTDIR/soak.json" 2>&1 | tee "$soaklog"
  soakrc=${PIPESTATUS[0]}
  set -e
  if [ "$soakrc" -eq 0 ]; then
    pass 1 "" soak
    cdrv_log "soak: passed in $((SECONDS - t1)) s ($(jq -c '{faults, log_lines}' "$TESTDIR/soak.json" 2>/dev/null))"
  else
    fail 1 "soak" soak
    why=$(sed 's/\x1b\[[0-9;]*m//g' "$soaklog" | { grep -oE 'FAILED: .*' || true; } | tail -1)
    [ "$soakrc" -eq 124 ] && why="stopped after ${CDRV_TEST_SOAK_TIMEOUT:-480} s"
    cdrv_log "soak FAILED (exit $soakrc) after $((SECONDS - t1)) s: ${why:-no verdict; see its output above}"
  fi
fi

[ ${#failures[@]} -gt 0 ] && cdrv_log "failures: ${failures[*]}"
# One line per leg when there was more than one, then the sum (the last line, alone).
if [ ${#legs[@]} -gt 1 ]; then
  for l in "${legs[@]}"; do echo "leg $l: ${leg_passed[$l]:-0} passed, ${leg_failed[$l]:-0} failed"; done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
