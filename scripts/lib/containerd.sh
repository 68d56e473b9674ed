# Sourced after common.sh: a private containerd for tests, entirely under one directory: the one on PATH
# (Debian's 1.6 on the host leg; 2.x in the modern leg's VM, whose PATH starts with $CDRV_STACK_DIR/bin).
# Functions only; nothing runs on source.
#
#   <dir>/config.toml  <dir>/containerd.sock (+ .ttrpc)  <dir>/containerd.log  <dir>/containerd.pid
#   <dir>/root  <dir>/state  <dir>/opt
#
# Note: runc keeps its state in /run/containerd/runc/<namespace>/<id> and cgroups are /<namespace>/<id>
# for every containerd on the host, so two daemons must not run the same namespace+container id at once.

# Absolute, normalised path without requiring it to exist.
_cdrv_ctd_dir() {
  local d=${1:?directory required}
  d=$(realpath -m -- "$d")
  case $d in / | "") cdrv_log "containerd: refusing directory '$1'"; return 1 ;; esac
  printf '%s\n' "$d"
}

# _cdrv_ctd_arg <pid> <flag>: prints the argument after <flag> in the command line of <pid>.
# _cdrv_ctd_arg <pid> "" <word>: succeeds when <word> is one of the arguments.
# (mapfile, not `tr | grep -q`: with pipefail an early-exiting grep can fail the pipeline.)
_cdrv_ctd_arg() {
  local pid=$1 flag=$2 word=${3:-} i
  local -a args=()
  mapfile -d '' -t args <"/proc/$pid/cmdline" 2>/dev/null || return 1
  for ((i = 0; i < ${#args[@]}; i++)); do
    if [ -n "$flag" ]; then
      if [ "${args[i]}" = "$flag" ] && [ $((i + 1)) -lt ${#args[@]} ]; then
        printf '%s\n' "${args[i + 1]}"
        return 0
      fi
    elif [ "${args[i]}" = "$word" ]; then
      return 0
    fi
  done
  return 1
}

# Prints the daemon PID if <dir>/containerd.pid names a live containerd using <dir>/config.toml.
_cdrv_ctd_pid() {
  local dir=$1 pid
  [ -s "$dir/containerd.pid" ] || return 1
  pid=$(cat "$dir/containerd.pid")
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  _cdrv_ctd_arg "$pid" "" "$dir/config.toml" || return 1
  printf '%s\n' "$pid"
}

# True while <pid> runs (a zombie waiting for PID 1 to reap it counts as gone).
_cdrv_ctd_alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# (CDRV_TEST_SLOW_FACTOR: in a software-emulated VM under load, even `ctr version` can take seconds.)
_cdrv_ctd_answers() {
  timeout $((3 * ${CDRV_TEST_SLOW_FACTOR:-1})) ctr --address "$1/containerd.sock" version >/dev/null 2>&1
}

# The major version of the containerd on PATH (1 or 2).
_cdrv_ctd_major() {
  containerd --version 2>/dev/null | sed -nE 's/.* v?([0-9]+)\.[0-9]+\.[0-9]+.*/\1/p' | head -1
}

# containerd 1.x reads config version 2. 2.x reads version 3 and later ones (2.4: 4, where [grpc] and the other
# servers became plugin sections): we write 3 and let the daemon migrate it once (`config migrate`), so it
# starts on its native version without a migration warning. Plugin IDs differ too: 2.x split CRI into
# cri.v1.images, cri.v1.runtime and a pod sandbox controller that needs them, and dropped aufs.
_cdrv_ctd_write_config() {
  local dir=$1 version=2 cri='"io.containerd.grpc.v1.cri",' snapshotters
  snapshotters='"io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",'
  if [ "$(_cdrv_ctd_major)" = 2 ]; then
    version=3
    cri='"io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime",
  "io.containerd.podsandbox.controller.v1.podsandbox",'
  else
    snapshotters+=' "io.containerd.snapshotter.v1.aufs",'
  fi
  cat >"$dir/config.toml.tmp" <<EOF
# written by scripts/lib/containerd.sh for containerd $(containerd --version 2>/dev/null | cut -d' ' -f3)
version = $version
root = "$dir/root"
state = "$dir/state"
# CRI off; snapshotters that cannot work here off too (they only add "skip"/"error" noise).
disabled_plugins = [
  $cri
  $snapshotters
]

[grpc]
  address = "$dir/containerd.sock"

[ttrpc]
  address = "$dir/containerd.sock.ttrpc"

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
EOF
  if [ $version = 3 ]; then
    mv -f "$dir/config.toml.tmp" "$dir/config.v3.toml"
    containerd --config "$dir/config.v3.toml" config migrate >"$dir/config.toml.tmp" 2>/dev/null || {
      cdrv_log "containerd: \`containerd config migrate\` of $dir/config.v3.toml failed"
      return 1
    }
  fi
  mv -f "$dir/config.toml.tmp" "$dir/config.toml"
}

# cdrv_containerd_start <dir>
# Starts containerd (setsid, detached) and waits up to 20 s (× CDRV_TEST_SLOW_FACTOR) until `ctr version`
# answers on the socket.
# Idempotent: returns at once if the daemon of <dir> is already up.
cdrv_containerd_start() {
  local dir pid sock
  dir=$(_cdrv_ctd_dir "${1:-}") || return 1
  sock=$dir/containerd.sock
  # unix socket paths are limited to 107 bytes; ".ttrpc" is added to the grpc one.
  if [ $((${#sock} + 6)) -gt 107 ]; then
    cdrv_log "containerd: socket path too long (${#sock} chars): $sock"
    return 1
  fi
  if pid=$(_cdrv_ctd_pid "$dir") && _cdrv_ctd_answers "$dir"; then
    return 0
  fi
  if [ -n "${pid:-}" ]; then
    cdrv_log "containerd: pid $pid of $dir does not answer; restarting it"
    _cdrv_ctd_stop_daemon "$dir"
  fi
  mkdir -p "$dir/root" "$dir/state" "$dir/opt"
  chmod 711 "$dir/root" "$dir/state"
  # On an SELinux host the policy labels containerd's snapshots container_ro_file_t (container-selinux's
  # file contexts for /var/lib/containerd), so confined containers may read their image layers. A private
  # root elsewhere gets that label by hand; what containerd makes under it inherits it.
  if [ -e /sys/fs/selinux/enforce ]; then
    mkdir -p "$dir/root/io.containerd.snapshotter.v1.overlayfs"
    chcon -t container_ro_file_t "$dir/root/io.containerd.snapshotter.v1.overlayfs"
  fi
  _cdrv_ctd_write_config "$dir" || return 1
  rm -f "$sock" "$sock.ttrpc" "$dir/containerd.pid"
  printf '\n=== %s cdrv_containerd_start\n' "$(date -Is)" >>"$dir/containerd.log"
  # The inner shell records its own PID then execs containerd, so the PID is right even when setsid
  # has to fork (it does when the caller runs with job control and we are a process-group leader).
  setsid bash -c 'echo $$ >"$1"; exec containerd --config "$2"' _ \
    "$dir/containerd.pid" "$dir/config.toml" </dev/null >>"$dir/containerd.log" 2>&1 &
  local wait=$((20 * ${CDRV_TEST_SLOW_FACTOR:-1}))
  local deadline=$((SECONDS + wait))
  while :; do
    pid=$(cat "$dir/containerd.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && [ -S "$sock" ] && _cdrv_ctd_answers "$dir"; then
      return 0
    fi
    if [ -n "$pid" ] && ! _cdrv_ctd_alive "$pid"; then
      cdrv_log "containerd: exited during start; tail of $dir/containerd.log:"
      tail -n 30 "$dir/containerd.log" >&2
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      cdrv_log "containerd: no answer on $sock after $wait s; tail of $dir/containerd.log:"
      tail -n 30 "$dir/containerd.log" >&2
      [ -n "$pid" ] && _cdrv_ctd_stop_daemon "$dir"
      return 1
    fi
    sleep 0.1
  done
}

# Stops only the daemon: SIGTERM, up to 10 s, then SIGKILL. Shims (and so tasks) keep running.
_cdrv_ctd_stop_daemon() {
  local dir=$1 pid i
  if pid=$(_cdrv_ctd_pid "$dir"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      _cdrv_ctd_alive "$pid" || break
      sleep 0.05
    done
    if _cdrv_ctd_alive "$pid"; then
      cdrv_log "containerd: pid $pid ignored SIGTERM for 10 s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f "$dir/containerd.pid" "$dir/containerd.sock" "$dir/containerd.sock.ttrpc"
}

# PIDs of containerd-shim-runc-v2 processes whose -address is our socket.
_cdrv_ctd_shim_pids() {
  local sock=$1/containerd.sock pid
  # comm is truncated to 15 chars: containerd-shim-runc-v2 shows as "containerd-shim"
  for pid in $(pgrep -x containerd-shim || true); do
    if [ "$(_cdrv_ctd_arg "$pid" -address || true)" = "$sock" ]; then echo "$pid"; fi
  done
}

# Kills the containers of one task bundle with runc (when runc's state says the bundle is ours).
_cdrv_ctd_runc_delete() {
  local bundle=$1 ns=$2 id=$3 runc_root=/run/containerd/runc
  if [ -s "$bundle/options.json" ]; then
    local r
    r=$(jq -r '.root // .Root // empty' "$bundle/options.json" 2>/dev/null || true)
    if [ -n "$r" ]; then runc_root=$r; fi
  fi
  local state=$runc_root/$ns
  [ -d "$state/$id" ] || return 0
  local b
  b=$(runc --root "$state" state "$id" 2>/dev/null | jq -r '.bundle // empty' 2>/dev/null || true)
  if [ "$b" = "$bundle" ]; then
    runc --root "$state" delete --force "$id" >/dev/null 2>&1 ||
      cdrv_log "containerd: runc delete --force $ns/$id failed"
  fi
}

# cdrv_containerd_stop <dir> [--purge]
# Stops the daemon, kills the tasks and shims it started, unmounts everything under <dir>;
# with --purge also removes <dir>. Safe to call when nothing runs.
cdrv_containerd_stop() {
  local dir purge=0 arg
  dir=$(_cdrv_ctd_dir "${1:-}") || return 1
  shift
  for arg in "$@"; do
    case $arg in
      --purge) purge=1 ;;
      *) cdrv_log "cdrv_containerd_stop: unknown argument $arg"; return 1 ;;
    esac
  done
  _cdrv_ctd_stop_daemon "$dir"

  # Tasks: every bundle under our state dir; runc kills every process of the container.
  local bundle ns id
  for bundle in "$dir"/state/io.containerd.runtime.v2.task/*/*; do
    [ -d "$bundle" ] || continue
    id=${bundle##*/}
    ns=${bundle%/*}
    ns=${ns##*/}
    _cdrv_ctd_runc_delete "$bundle" "$ns" "$id"
  done

  # Shims started by our daemon.
  local shims pid i
  shims=$(_cdrv_ctd_shim_pids "$dir")
  if [ -n "$shims" ]; then
    # shim sockets live in /run/containerd/s/sha256(<containerd address>/<ns>/<id>)
    for pid in $shims; do
      ns=$(_cdrv_ctd_arg "$pid" -namespace || true)
      id=$(_cdrv_ctd_arg "$pid" -id || true)
      if [ -n "$ns" ] && [ -n "$id" ]; then
        rm -f "/run/containerd/s/$(printf '%s' "$dir/containerd.sock/$ns/$id" | sha256sum | cut -d' ' -f1)"
      fi
    done
    # The daemon is gone and runc has killed the containers: a shim would spend ~4 s on SIGTERM
    # retrying to publish events to the dead daemon, so go straight to SIGKILL.
    # shellcheck disable=SC2086
    kill -KILL $shims 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      local alive=""
      for pid in $shims; do _cdrv_ctd_alive "$pid" && alive+=" $pid"; done
      [ -z "$alive" ] && break
      sleep 0.05
    done
  fi

  # Mounts (container rootfs overlays, ...) under <dir>, deepest first. mountinfo escapes ' ' as \040.
  local mp n=0
  while :; do
    local mps
    mps=$(awk -v pre="$dir/" 'index($5, pre) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    [ -z "$mps" ] && break
    n=$((n + 1))
    if [ $n -gt 5 ]; then
      cdrv_log "containerd: still mounted under $dir: $mps"
      break
    fi
    while IFS= read -r mp; do
      mp=$(printf '%b' "$mp")
      umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true
    done <<<"$mps"
  done

  if [ $purge = 1 ]; then
    rm -rf --one-file-system -- "$dir"
  fi
}

# cdrv_containerd_restart <dir>
# Stops the daemon only (shims and tasks keep running) and starts it again.
cdrv_containerd_restart() {
  local dir
  dir=$(_cdrv_ctd_dir "${1:-}") || return 1
  _cdrv_ctd_stop_daemon "$dir"
  cdrv_containerd_start "$dir"
}
