#!/bin/bash
# PID 1 of the test VM, installed as /usr/sbin/init (labelled init_exec_t by the SELinux policy) by
# `scripts/vm.sh build`. The initramfs has mounted the root (rw) and moved /proc, /sys, /dev and /run onto it.
# One image, two profiles (kernel command line word cdrv_profile=, set by scripts/vm.sh):
#
# selinux: SELinux enforcing. Phase 1 runs as kernel_t (the kernel starts init before any policy is loaded):
#   mounts, load_policy, labels, modules, the 9p shares, setenforce. Then it execs itself again: kernel_t
#   running an init_exec_t file becomes init_t (the policy's type_transition, as for systemd's re-exec), and
#   phase 2 runs the command under `runcon CONTEXT` (kernel_t may not transition to any user or service
#   domain; init_t may).
# modern: no LSM (selinux=0), only the unified cgroup hierarchy (cgroup_no_v1=all): cgroup2 on /sys/fs/cgroup
#   with every controller enabled in the root's cgroup.subtree_control, as systemd leaves a cgroup v2 host.
#   The command runs in one phase.
#
# Kernel command line words read here:
#   cdrv_profile=selinux|modern   (default selinux)
#   cdrv_mode=relabel   build time (selinux): label the whole root file system from the policy's file_contexts
#   cdrv_mode=run       run the command described by /cdrv-run/run.sh (the host's run dir, 9p tag cdrvrun)
#   cdrv_mode=shell     the same, interactive on the serial console
#   cdrv_permissive     (selinux) leave SELinux permissive (default: setenforce 1 and check it)
#   cdrv_stock_policy   (selinux) disable the local module cdrv_vm (scripts/vm/cdrv_vm.te) first
#
# Console protocol (read by the host): "cdrv-vm: ..." status lines, "CDRV-VM-BEGIN" before the
# command's output, and last "CDRV-VM-EXIT <code>". Then the VM powers off (a panic reboots, which
# ends qemu too: panic=-1 and qemu -no-reboot).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
umask 022
cd /

say() { printf 'cdrv-vm: %s\n' "$*"; }

finish() {
  local rc=$1
  sync
  # A newline first: the command's output may not end with one. The host drops that empty line.
  printf '\nCDRV-VM-EXIT %s\n' "$rc"
  if mountpoint -q /cdrv-run; then
    printf '%s\n' "$rc" >/cdrv-run/exit-code 2>/dev/null
    umount /cdrv-run 2>/dev/null
  fi
  sync
  /bin/busybox poweroff -f
  echo o >/proc/sysrq-trigger
  sleep 10
  exit "$rc" # PID 1 exiting panics the kernel: the VM ends all the same
}

fail() {
  say "FATAL: $*"
  finish 125
}

mnt() { # mnt <type> <source> <dir> [options]: mounts unless already mounted
  local type=$1 src=$2 dir=$3 opts=${4:-}
  mountpoint -q "$dir" && return 0
  mkdir -p "$dir"
  mount -t "$type" ${opts:+-o "$opts"} "$src" "$dir" || fail "mount $type on $dir failed"
}

mountpoint -q /proc || mount -t proc -o nosuid,nodev,noexec proc /proc
mode=run
profile=selinux
enforce=1
stock=0
for w in $(cat /proc/cmdline); do
  case $w in
    cdrv_profile=*) profile=${w#cdrv_profile=} ;;
    cdrv_mode=*) mode=${w#cdrv_mode=} ;;
    cdrv_permissive) enforce=0 ;;
    cdrv_stock_policy) stock=1 ;;
  esac
done

# The file systems every profile mounts (before a policy is loaded: labelled at mount time or restored later).
base_mounts() {
  mnt proc proc /proc nosuid,nodev,noexec
  mnt sysfs sysfs /sys nosuid,nodev,noexec
  mnt devtmpfs devtmpfs /dev mode=0755,nosuid
  mnt tmpfs tmpfs /run mode=0755,nosuid,nodev,size=20%
}
more_mounts() {
  mnt devpts devpts /dev/pts gid=5,mode=0620,ptmxmode=0666,nosuid,noexec
  mnt tmpfs tmpfs /dev/shm mode=1777,nosuid,nodev
  mnt mqueue mqueue /dev/mqueue nosuid,nodev,noexec
  mnt tmpfs tmpfs /tmp mode=1777,nosuid,nodev,size=50%
  mnt cgroup2 cgroup2 /sys/fs/cgroup nsdelegate,nosuid,nodev,noexec
  mkdir -p /run/lock
}
basic_system() { # basic_system <hostname>
  [ -L /dev/fd ] || ln -sf /proc/self/fd /dev/fd
  ip link set lo up
  hostname "$1"
}

# mount_shares <extra 9p options of the run dir>: the host's run dir (/cdrv-run, with run.sh) and the shares
# run.sh names. run.sh sets CDRV_VM_SHARES (tag=path ...), CDRV_VM_9P_LABEL, CDRV_VM_9P_OPTS, CDRV_VM_CWD,
# CDRV_VM_CONTEXT, CDRV_VM_ENV (NAME=VALUE ...) and CDRV_VM_ARGV (the command).
mount_shares() {
  modprobe -a 9pnet_virtio 9p || fail "modprobe 9p failed"
  local ninep=trans=virtio,version=9p2000.L,msize=524288 s
  mnt 9p cdrvrun /cdrv-run "$ninep,cache=none$1"
  [ -r /cdrv-run/run.sh ] || fail "/cdrv-run/run.sh is missing"
  CDRV_VM_SHARES=() CDRV_VM_9P_LABEL="" CDRV_VM_9P_OPTS=cache=mmap
  # shellcheck disable=SC1091
  source /cdrv-run/run.sh || fail "cannot read /cdrv-run/run.sh"
  for s in "${CDRV_VM_SHARES[@]}"; do
    mnt 9p "${s%%=*}" "${s#*=}" "$ninep,$CDRV_VM_9P_OPTS${CDRV_VM_9P_LABEL:+,context=$CDRV_VM_9P_LABEL}"
  done
}

# ---- profile modern: cgroup v2 only, no LSM ---------------------------------------------------------------
# What a cgroup v2 node looks like after systemd: no v1 hierarchy can be mounted (cgroup_no_v1=all), every
# controller the kernel has is in the root's cgroup.controllers and enabled for its children.
modern_setup() {
  base_mounts
  more_mounts
  grep -qw cgroup_no_v1=all /proc/cmdline || fail "profile modern without cgroup_no_v1=all on the command line"
  if awk '$3 == "cgroup" { found = 1 } END { exit !found }' /proc/mounts; then
    fail "a cgroup v1 hierarchy is mounted: $(awk '$3 == "cgroup" { print $2 }' /proc/mounts | tr '\n' ' ')"
  fi
  local c have
  have=$(cat /sys/fs/cgroup/cgroup.controllers)
  for c in cpuset cpu io memory pids; do
    case " $have " in *" $c "*) ;; *) fail "cgroup2 lacks the $c controller (it has: $have)" ;; esac
  done
  for c in $have; do echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable $c for children"; done
  basic_system cdrv-modern-vm
  case $mode in run | shell) ;; *) fail "cdrv_mode=$mode is not for profile modern" ;; esac
  mount_shares ""
  say "cgroup v2 only; controllers enabled: $(cat /sys/fs/cgroup/cgroup.subtree_control); kernel $(uname -r)"
}

# ---- phase 1: kernel_t -------------------------------------------------------------------------------
case $profile in
  selinux) ;;
  modern) modern_setup && CDRV_INIT_PHASE=2 ;;
  *) fail "unknown cdrv_profile=$profile" ;;
esac
if [ "${CDRV_INIT_PHASE:-1}" = 1 ]; then
  base_mounts
  mnt securityfs securityfs /sys/kernel/security nosuid,nodev,noexec
  grep -qw selinux /sys/kernel/security/lsm || fail "SELinux is not an active LSM: $(cat /sys/kernel/security/lsm)"
  # The policy (Debian's refpolicy, SELINUXTYPE=default). -i: the initial load; it mounts selinuxfs.
  # The kernel was booted with enforcing=0; setenforce below decides.
  load_policy -i || fail "load_policy -i failed"
  mountpoint -q /sys/fs/selinux || fail "selinuxfs is not mounted after load_policy"

  more_mounts
  # What was created before the policy was loaded (devtmpfs nodes, /run) has generic labels.
  restorecon -R /dev /run /tmp /sys/fs/cgroup 2>/dev/null
  basic_system cdrv-selinux-vm

  if [ "$mode" = relabel ]; then
    say "relabelling / from /etc/selinux/default/contexts/files/file_contexts"
    # setfiles stays on this file system (the tmpfs mounts got their labels at mount time).
    if ! out=$(setfiles -F /etc/selinux/default/contexts/files/file_contexts / 2>&1); then
      printf '%s\n' "$out" | tail -n 20 | sed 's/^/cdrv-vm: setfiles: /'
      fail "setfiles failed"
    fi
    date -u +%FT%TZ >/.cdrv-relabelled
    restorecon -F /.cdrv-relabelled
    say "relabel done: $(ls -Z /usr/sbin/init /usr/bin/containerd /usr/sbin/runc | tr -s ' \n' ' ')"
    finish 0
  fi
  case $mode in run | shell) ;; *) fail "unknown cdrv_mode=$mode" ;; esac
  [ -e /.cdrv-relabelled ] || fail "the image was never relabelled (cdrv_mode=relabel)"
  if [ $stock = 1 ]; then
    say "disabling the local policy module cdrv_vm (semodule -d: rebuilds and reloads the policy)"
    semodule -d cdrv_vm || fail "semodule -d cdrv_vm failed"
  fi

  # 9p has no labelling rule in the policy (its files would be unlabeled_t): one label per mount.
  mount_shares ",context=system_u:object_r:tmp_t:s0"
  if [ "$enforce" = 1 ]; then
    setenforce 1 || fail "setenforce 1 failed"
    [ "$(getenforce)" = Enforcing ] || fail "getenforce says $(getenforce), not Enforcing"
  fi
  dmesg -C 2>/dev/null # only the command's denials are reported at the end
  CDRV_INIT_PHASE=2 exec /usr/sbin/init
  fail "exec /usr/sbin/init (phase 2) failed"
fi

# ---- phase 2: init_t ---------------------------------------------------------------------------------
CDRV_VM_ENV=() CDRV_VM_ARGV=() CDRV_VM_CWD=/ CDRV_VM_CONTEXT=""
# shellcheck disable=SC1091
source /cdrv-run/run.sh || fail "cannot read /cdrv-run/run.sh"
if [ "$profile" = selinux ]; then
  # (a builtin: anything init_t executes from bin_t runs as initrc_t, by the policy's type_transition)
  read -r -d '' self </proc/self/attr/current
  case $self in *:init_t:*) ;; *) say "WARNING: phase 2 runs as $self, not init_t (is /usr/sbin/init init_exec_t?)" ;; esac
  say "SELinux $(getenforce); lsm=$(cat /sys/kernel/security/lsm); init=$self; command=${CDRV_VM_CONTEXT:-(same)}"
fi

runner=()
if [ -n "$CDRV_VM_CONTEXT" ]; then runner=(runcon "$CDRV_VM_CONTEXT"); fi
# bash (shell_exec_t) is the entrypoint into the command's domain, whatever the command's file label.
envs=(PATH="$PATH" HOME=/root LANG=C.UTF-8 TERM=dumb USER=root LOGNAME=root SHELL=/bin/bash CDRV_VM_PROFILE="$profile")
[ "$profile" = selinux ] && envs+=(CDRV_SELINUX_VM=1)
cmd=(env -i "${envs[@]}" "${CDRV_VM_ENV[@]}" "${runner[@]}" /bin/bash -c 'cd "$1" && shift && exec "$@"' cdrv-vm
  "$CDRV_VM_CWD" "${CDRV_VM_ARGV[@]}")
echo CDRV-VM-BEGIN
# The command's stdio is opened here, by init_t: the console fds PID 1 got from the kernel belong to
# kernel_t, which confined domains (a program the command runs) may not use. (Opened in the forked
# child, so PID 1, a session leader, does not take the console as its controlling terminal.)
if [ "$mode" = shell ]; then
  # interactive, with the serial line as the controlling terminal (job control, Ctrl-C)
  setsid -c -w "${cmd[@]}" <>/dev/ttyS0 >&0 2>&0
else
  "${cmd[@]}" </dev/null >/dev/console 2>&1
fi
rc=$?
avc=$(dmesg </dev/null 2>/dev/null | grep 'avc:  denied')
if [ -n "$avc" ]; then
  say "$(printf '%s\n' "$avc" | wc -l) AVC denial(s) during the command (first 40):"
  printf '%s\n' "$avc" | head -n 40 | sed 's/^.*audit([0-9.:]*): /cdrv-vm: /'
fi
finish "$rc"
