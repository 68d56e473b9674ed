#!/usr/bin/env bash
# The test VM: a throw-away Debian bookworm guest booted from one cached image in one of two profiles.
#   selinux  SELinux enforcing (Debian's refpolicy "default", MCS, plus refpolicy's container module, which
#            Debian does not ship, and scripts/vm/cdrv_vm.te), to test the driver's SELinux labelling on a real
#            SELinux kernel when the host has none.
#   modern   the stack most Nomad clients run today: no LSM, only the unified cgroup hierarchy (kernel command
#            line cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1; cgroup2 on /sys/fs/cgroup with every
#            controller enabled for the root's children). The caller brings containerd 2.x and runc (the
#            image's Debian containerd 1.6 and runc are there too; PATH decides).
# Needs root and qemu (KVM when it can boot the VM's kernel, TCG otherwise). Everything lives in
# $CDRV_CACHE/vm.
#
#   scripts/vm.sh build [--force]
#       debootstrap a rootfs (kernel, policy, containerd, runc, crun and the test tools), make an ext4 image of
#       it and label it by booting it once. Cached: rebuilt only when scripts/vm/{init.sh,cdrv_vm.te}, the
#       package list or the build functions below change (or with --force).
#   scripts/vm.sh run [--profile selinux|modern] [--permissive] [--stock-policy] [--context CTX] [-e NAME=VALUE]...
#                     -- CMD [ARG...]
#       boots the VM (builds it first if needed) on a copy-on-write snapshot of the image (every run starts
#       from the same clean image), with the repo ($CDRV_ROOT) and $CDRV_CACHE shared (9p, at the same paths)
#       and runs CMD as root in $CDRV_ROOT, prints its output (stdout and stderr, merged) and exits with its
#       code. Profile selinux (the default): SELinux enforcing (unless --permissive), every shared file
#       labelled nfs_t, CMD under SELinux context CTX (default: unconfined_u:unconfined_r:unconfined_t:s0,
#       see VM_DEFAULT_CONTEXT); --stock-policy: without the cdrv_vm module (disabled at boot, which takes a
#       while). The SELinux options do not apply to profile modern.
#       Forwarded into the VM: CDRV_CACHE, DENO_DIR, CI, every CDRV_* variable, and -e NAME=VALUE; the
#       command also gets CDRV_VM_PROFILE (and CDRV_SELINUX_VM=1 in profile selinux).
#       Lines "cdrv-vm: ..." (to stderr) are the VM's own: its state, AVC denials seen during the run.
#       /tmp in the VM is a tmpfs (profile selinux: labelled tmp_t; what unconfined_t creates there is
#       user_tmp_t). scripts/vm/label-experiment.sh (run it this way) shows what labels containers get.
#   scripts/vm.sh shell [run's options]
#       the same VM with an interactive bash on the serial console (exit the shell to power off;
#       Ctrl-A X kills qemu).
#
# Environment: CDRV_VM_TIMEOUT (seconds for the whole VM, default 1200), CDRV_VM_ACCEL (auto|kvm|tcg),
# CDRV_VM_MEM (4G), CDRV_VM_CPUS (2), CDRV_VM_VERBOSE=1 (show the boot messages too),
# CDRV_VM_9P_LABEL (profile selinux: the shares' label; empty: none, i.e. unlabeled_t, read-only in effect).
# Exit codes: the command's; 124 on timeout; 125 when the VM failed before or around the command.
source "$(dirname "$0")/lib/common.sh"
source "$CDRV_ROOT/scripts/lib/apt.sh"

VM_SELF=$(realpath "${BASH_SOURCE[0]}")
VM_FILES=$CDRV_ROOT/scripts/vm
VM_DIR=$CDRV_CACHE/vm
VM_IMAGE=$VM_DIR/image
VM_SUITE=bookworm
VM_MIRROR=http://deb.debian.org/debian
VM_DISK_SIZE=6G
# The command's SELinux context: a root login's, at s0. Everything it starts stays unconfined_t
# (containerd, its shim, runc: none has a transition from unconfined_t), and unconfined_t may start
# container_t processes with any label (system_u:system_r:container_t:s0:cX,cY) and relabel files to
# any category (it is not MCS-constrained). Why s0 and not s0-s0:c0.c1023: the shim's stdio pipes get
# the shim's level, and refpolicy's MCS constraints let container_t:s0:c1,c2 use only objects whose
# high level it dominates (no exemption for pipes of other domains, unlike Fedora's policy).
# Why not initrc_t: from there runc (container_engine_exec_t) becomes container_engine_t, which may not
# use containerd's state in /tmp nor its sockets.
VM_DEFAULT_CONTEXT=unconfined_u:unconfined_r:unconfined_t:s0
# The label of every file on the 9p shares (mount option context=): 9p has no labelling rule in the
# policy (unlabeled_t: readable, but no file can be created). nfs_t, as for a network file system:
# unconfined_t may do anything, containers nothing. Labels cannot be changed there (EOPNOTSUPP).
VM_9P_LABEL=system_u:object_r:nfs_t:s0

# Installed with --no-install-recommends on top of debootstrap's minbase.
VM_PACKAGES=(
  linux-image-amd64 initramfs-tools kmod
  selinux-policy-default selinux-utils policycoreutils policycoreutils-python-utils checkpolicy setools
  selinux-policy-dev selinux-policy-src make zstd
  containerd runc crun containernetworking-plugins
  docker-registry apache2-utils skopeo umoci
  busybox-static tini jq iproute2 iptables openssl curl ca-certificates
  util-linux coreutils procps psmisc e2fsprogs git less
)

usage() { sed -n '2,/^# Exit codes/p' "$VM_SELF" | sed 's/^# \{0,1\}//' >&2; }

# What the image is made of: scripts/vm/{init.sh,cdrv_vm.te}, the package list and the build
# functions' own text (so editing the run side of this script does not rebuild the image).
_vm_hash() {
  {
    sha256sum "$VM_FILES/init.sh" "$VM_FILES/cdrv_vm.te" | awk '{print $1}'
    printf '%s\n' "$VM_SUITE" "$VM_MIRROR" "$VM_DISK_SIZE" "${VM_PACKAGES[@]}"
    declare -f _vm_build_rootfs vm_build _vm_chroot
  } | sha256sum | cut -d' ' -f1
}

_vm_image_ok() {
  [ "$(cat "$VM_IMAGE/inputs.sha256" 2>/dev/null)" = "$(_vm_hash)" ] &&
    [ -s "$VM_IMAGE/rootfs.ext4" ] && [ -s "$VM_IMAGE/vmlinuz" ] && [ -s "$VM_IMAGE/initrd.img" ]
}

# Unmounts everything at or below <dir>, deepest first.
_vm_umount_below() {
  local dir=$1 mp
  while read -r mp; do
    umount "$mp" 2>/dev/null || umount -l "$mp"
  done < <(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}

# ---- qemu ----------------------------------------------------------------------------------------
VM_ACCEL=""
# _vm_accel <vmlinuz>: KVM when it really boots a kernel, else TCG. /dev/kvm opening and KVM_CREATE_VM
# working is not enough: some nested setups (kvm_pvm, which runs only PVM-aware guest kernels) accept the
# VM, run the BIOS and then spin forever in the kernel's decompressor. So the probe boots the VM's kernel
# without a root file system and waits for its panic (a second or two on KVM); the answer is cached per
# host boot.
_vm_accel() {
  local kernel=$1
  [ -n "$VM_ACCEL" ] && return 0
  case ${CDRV_VM_ACCEL:-auto} in
    kvm | tcg) VM_ACCEL=$CDRV_VM_ACCEL; return 0 ;;
    auto) ;;
    *) cdrv_log "vm: CDRV_VM_ACCEL must be auto, kvm or tcg"; return 1 ;;
  esac
  local key cache=$VM_DIR/accel
  key="$(cat /proc/sys/kernel/random/boot_id) $(sha256sum <"$kernel" | cut -c1-16)"
  if [ -s "$cache" ] && [ "$(cut -d' ' -f1,2 "$cache")" = "$key" ]; then
    VM_ACCEL=$(cut -d' ' -f3 "$cache")
    return 0
  fi
  VM_ACCEL=tcg
  if [ -w /dev/kvm ]; then
    local log=$VM_DIR/accel-probe.log rc=0
    # --foreground: timeout kills qemu only (by default it kills its process group, itself included)
    timeout --foreground -s KILL 30 qemu-system-x86_64 -nodefaults -no-user-config -display none \
      -monitor none -no-reboot -accel kvm -cpu host -m 256M -kernel "$kernel" \
      -append "console=ttyS0 panic=-1 loglevel=4" -serial "file:$log" </dev/null >/dev/null 2>&1 || rc=$?
    if [ $rc = 0 ] && grep -q 'Kernel panic' "$log"; then VM_ACCEL=kvm; fi
    rm -f "$log"
  fi
  if [ $VM_ACCEL = tcg ]; then
    local why="no usable /dev/kvm"
    [ -w /dev/kvm ] && why="a test boot with KVM did not reach the kernel's panic in 30 s"
    [ -d /sys/module/kvm_pvm ] && why+="; this host's KVM is kvm_pvm"
    cdrv_log "vm: not using KVM ($why): TCG, slower"
  fi
  printf '%s %s\n' "$key" "$VM_ACCEL" >"$cache"
}

# Globals of the VM being run, for the cleanup trap.
VM_QEMU_PID=""
VM_TAIL_PID=""
VM_TMP=""

# Ends qemu (by its PID): SIGTERM, up to 5 s, then SIGKILL.
_vm_kill_qemu() {
  local i
  [ -n "$VM_QEMU_PID" ] || return 0
  if kill -0 "$VM_QEMU_PID" 2>/dev/null; then
    kill -TERM "$VM_QEMU_PID" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$VM_QEMU_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$VM_QEMU_PID" 2>/dev/null || true
  fi
}

_vm_cleanup() {
  _vm_kill_qemu
  if [ -n "$VM_QEMU_PID" ]; then wait "$VM_QEMU_PID" 2>/dev/null || true; fi
  VM_QEMU_PID=""
  if [ -n "$VM_TAIL_PID" ]; then kill "$VM_TAIL_PID" 2>/dev/null || true; fi
  VM_TAIL_PID=""
  if [ -n "$VM_TMP" ]; then rm -rf -- "$VM_TMP"; fi
  VM_TMP=""
}

# The kernel command line words of a profile.
_vm_profile_words() {
  case $1 in
    selinux) echo "security=selinux selinux=1 enforcing=0 cdrv_profile=selinux" ;;
    modern) echo "selinux=0 systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all cdrv_profile=modern" ;;
    *) cdrv_log "vm: unknown profile '$1' (selinux or modern)"; return 1 ;;
  esac
}

# _vm_boot <imagedir> <profile> <mode> <extra kernel command line words> <rundir|""> <share...>
# Boots the VM, streams its console and returns the code of the "CDRV-VM-EXIT <code>" line
# (124 on timeout, 125 when the line never came). Mode "shell" is interactive on this terminal.
_vm_boot() {
  local img=$1 profile=$2 mode=$3 words=$4 rundir=$5
  shift 5
  _vm_accel "$img/vmlinuz"
  local append="root=/dev/vda rw console=ttyS0 $(_vm_profile_words "$profile") init=/usr/sbin/init"
  append+=" panic=-1 fsck.mode=skip cdrv_mode=$mode"
  append+=${words:+ $words}
  [ "${CDRV_VM_VERBOSE:-0}" = 1 ] || append+=" quiet loglevel=3"
  local snapshot=on
  [ "$mode" = relabel ] && snapshot=off
  local q=(qemu-system-x86_64 -name "cdrv-vm-$profile" -nodefaults -no-user-config -display none -no-reboot
    -accel "$VM_ACCEL" -m "${CDRV_VM_MEM:-4G}" -smp "${CDRV_VM_CPUS:-2}"
    -kernel "$img/vmlinuz" -initrd "$img/initrd.img" -append "$append"
    -drive "file=$img/rootfs.ext4,format=raw,if=virtio,cache=unsafe,discard=unmap,snapshot=$snapshot"
    -device virtio-rng-pci)
  if [ "$VM_ACCEL" = kvm ]; then q+=(-cpu host); else q+=(-cpu max); fi
  local i=0 s
  if [ -n "$rundir" ]; then
    q+=(-virtfs "local,path=$rundir,mount_tag=cdrvrun,security_model=none,id=fs$i")
  fi
  for s in "$@"; do
    i=$((i + 1))
    q+=(-virtfs "local,path=${s#*=},mount_tag=${s%%=*},security_model=passthrough,multidevs=remap,id=fs$i")
  done

  if [ "$mode" = shell ]; then
    # Interactive: the serial console on this terminal (Ctrl-A X quits qemu).
    "${q[@]}" -serial mon:stdio || true
    local src
    src=$(cat "$rundir/exit-code" 2>/dev/null || echo 125)
    return "$src"
  fi

  local log=$VM_TMP/console.log
  : >"$log"
  q+=(-monitor none -chardev "file,id=con,path=$log" -serial chardev:con)
  "${q[@]}" </dev/null >"$VM_TMP/qemu.out" 2>&1 &
  VM_QEMU_PID=$!
  local tailfd
  exec {tailfd}< <(exec tail -n +1 -F --pid="$VM_QEMU_PID" "$log" 2>/dev/null)
  VM_TAIL_PID=$!

  local timeout=${CDRV_VM_TIMEOUT:-1200} deadline verbose=${CDRV_VM_VERBOSE:-0}
  deadline=$((SECONDS + timeout))
  # show: print console lines (after CDRV-VM-BEGIN until CDRV-VM-EXIT; all of them when verbose).
  # An empty line is held back: the guest puts one before the marker in case the output had no final
  # newline.
  local line="" part show=$verbose rc="" st held=0
  while :; do
    if IFS= read -r -t 1 -u "$tailfd" part; then
      line+=$part
      line=${line//$'\r'/}
      case $line in
        CDRV-VM-EXIT\ *)
          rc=${line#CDRV-VM-EXIT }
          held=0
          show=$verbose
          # the VM powers off right after; do not wait for a hung one
          [ $deadline -gt $((SECONDS + 60)) ] && deadline=$((SECONDS + 60))
          ;;
        CDRV-VM-BEGIN) show=1 ;;
        cdrv-vm:*) printf '%s\n' "$line" >&2 ;;
        '') if [ "$show" = 1 ]; then [ $held = 1 ] && echo; held=1; fi ;;
        *)
          if [ "$show" = 1 ]; then
            [ $held = 1 ] && echo
            held=0
            printf '%s\n' "$line"
          fi
          ;;
      esac
      line=""
    else
      st=$?
      line+=$part # a partial line (read timed out, or the last line had no newline)
      if [ $st -le 128 ]; then # EOF: qemu is gone and tail has ended
        line=${line//$'\r'/}
        if [ -n "$line" ] && [ "$show" = 1 ]; then printf '%s\n' "$line"; fi
        break
      fi
      if [ $SECONDS -ge $deadline ]; then
        if [ -z "$rc" ]; then
          cdrv_log "vm: TIMEOUT after ${timeout}s (CDRV_VM_TIMEOUT); killing qemu (pid $VM_QEMU_PID)"
          rc=124
        else
          cdrv_log "vm: the VM did not power off after the command; killing qemu (pid $VM_QEMU_PID)"
        fi
        _vm_kill_qemu
        break
      fi
    fi
  done
  exec {tailfd}<&-
  local qrc=0
  wait "$VM_QEMU_PID" || qrc=$?
  VM_QEMU_PID=""
  VM_TAIL_PID=""
  if [ -z "$rc" ] && [ -s "$rundir/exit-code" ]; then rc=$(cat "$rundir/exit-code"); fi
  case $rc in
    '' | *[!0-9]*)
      cdrv_log "vm: the VM ended (qemu exit $qrc) without reporting the command's exit code;" \
        "last console lines:"
      tail -n 40 "$log" | tr -d '\r' >&2
      if [ -s "$VM_TMP/qemu.out" ]; then
        cdrv_log "vm: qemu said:"
        cat "$VM_TMP/qemu.out" >&2
      fi
      return 125
      ;;
  esac
  return "$rc"
}

# ---- build ---------------------------------------------------------------------------------------
_vm_chroot() { chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  DEBIAN_FRONTEND=noninteractive "${@:2}"; }

_vm_build_rootfs() {
  local r=$1
  mkdir -p "$VM_DIR/debs"
  cdrv_log "vm: debootstrap $VM_SUITE (minbase) from $VM_MIRROR"
  debootstrap --variant=minbase --cache-dir="$VM_DIR/debs" "$VM_SUITE" "$r" "$VM_MIRROR" \
    >"$VM_TMP/debootstrap.log" 2>&1 || {
    tail -n 30 "$VM_TMP/debootstrap.log" >&2
    return 1
  }
  cat >"$r/etc/apt/sources.list" <<EOF
deb $VM_MIRROR $VM_SUITE main
deb $VM_MIRROR $VM_SUITE-updates main
deb http://deb.debian.org/debian-security $VM_SUITE-security main
EOF
  # No service may start in the chroot (nor at boot: there is no service manager; our init is PID 1).
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
  chmod 755 "$r/usr/sbin/policy-rc.d"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$r/etc/apt/apt.conf.d/90cdrv"
  cp -L /etc/resolv.conf "$r/etc/resolv.conf"
  mount -t proc proc "$r/proc"
  mount --bind "$VM_DIR/debs" "$r/var/cache/apt/archives"
  cdrv_log "vm: installing ${#VM_PACKAGES[@]} packages into the rootfs"
  {
    _vm_chroot "$r" apt-get -q -o Dpkg::Use-Pty=0 update &&
      _vm_chroot "$r" apt-get -q -o Dpkg::Use-Pty=0 -y upgrade &&
      _vm_chroot "$r" apt-get -q -o Dpkg::Use-Pty=0 -y install "${VM_PACKAGES[@]}"
  } >"$VM_TMP/apt.log" 2>&1 || {
    tail -n 40 "$VM_TMP/apt.log" >&2
    _vm_umount_below "$r"
    return 1
  }
  _vm_umount_below "$r"
  # Debian's selinux-policy-default ships no "container" module (no container_t, container_file_t...,
  # although its lxc_contexts names them): build refpolicy's own, from the same source release
  # (selinux-policy-src), and install it. Its interface file is already in selinux-policy-dev.
  # Then our own small module (scripts/vm/cdrv_vm.te; `run --stock-policy` disables it).
  cdrv_log "vm: building and installing refpolicy's container module and cdrv_vm"
  mkdir -p "$r/tmp/cdrv-policy"
  cp "$VM_FILES/cdrv_vm.te" "$r/tmp/cdrv-policy/"
  _vm_chroot "$r" bash -c '
    set -euo pipefail
    cd /tmp/cdrv-policy
    tar --zstd -xf /usr/src/selinux-policy-src.tar.zst --strip-components=4 \
      selinux-policy-src/policy/modules/services/container.te \
      selinux-policy-src/policy/modules/services/container.fc
    make -s -f /usr/share/selinux/devel/Makefile container.pp cdrv_vm.pp
    semodule -i container.pp cdrv_vm.pp
    cd /
    rm -rf /tmp/cdrv-policy
    semodule -l | grep -qx container
    semodule -l | grep -qx cdrv_vm
  ' >"$VM_TMP/policy-modules.log" 2>&1 || {
    cat "$VM_TMP/policy-modules.log" >&2
    return 1
  }
  rm -rf "$r/var/lib/apt/lists/"* "$r/var/cache/apt/"*.bin

  printf 'cdrv-vm\n' >"$r/etc/hostname"
  printf '127.0.0.1 localhost cdrv-vm\n::1 localhost ip6-localhost ip6-loopback\n' >"$r/etc/hosts"
  printf 'nameserver 127.0.0.1\n' >"$r/etc/resolv.conf" # no network in the VM
  : >"$r/etc/fstab"
  # Our init sets the mode itself; permissive here so that a boot without it is not locked out.
  cat >"$r/etc/selinux/config" <<'EOF'
SELINUX=permissive
SELINUXTYPE=default
EOF
  # PID 1; the policy labels /usr/sbin/init init_exec_t (no init package is installed)
  install -m 0755 "$VM_FILES/init.sh" "$r/usr/sbin/init"
  # Same absolute paths as on the host for the 9p shares.
  mkdir -p "$r$CDRV_ROOT" "$r$CDRV_CACHE" "$r/cdrv-run"
  # A machine-id (some tools want one) and no root password needed: nothing logs in.
  printf '%s\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >"$r/etc/machine-id"
}

vm_build() {
  local force=0
  while [ $# -gt 0 ]; do
    case $1 in
      --force) force=1 ;;
      *) usage; return 2 ;;
    esac
    shift
  done
  if [ "$(id -u)" != 0 ]; then
    cdrv_log "vm: must run as root (debootstrap, chroot, mounts)"
    return 1
  fi
  cdrv_install_apt qemu-system-x86 debootstrap e2fsprogs
  mkdir -p "$VM_DIR"
  (
    flock 9
    if [ $force = 0 ] && _vm_image_ok; then exit 0; fi
    local t0=$SECONDS hash
    hash=$(_vm_hash)
    VM_TMP=$VM_DIR/build.tmp
    # a previous build killed half way may have left mounts in its rootfs
    [ -d "$VM_TMP" ] && _vm_umount_below "$VM_TMP"
    rm -rf --one-file-system "$VM_TMP"
    mkdir -p "$VM_TMP/out"
    trap '_vm_umount_below "$VM_TMP"; _vm_cleanup' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    local r=$VM_TMP/rootfs out=$VM_TMP/out
    _vm_build_rootfs "$r"
    local kver
    kver=$(basename "$(ls -d "$r"/lib/modules/* | sort -V | tail -n 1)")
    cp "$r/boot/vmlinuz-$kver" "$out/vmlinuz"
    cp "$r/boot/initrd.img-$kver" "$out/initrd.img"
    cdrv_log "vm: making the $VM_DISK_SIZE ext4 image (kernel $kver)"
    truncate -s "$VM_DISK_SIZE" "$out/rootfs.ext4"
    mkfs.ext4 -q -F -L cdrv-root -d "$r" "$out/rootfs.ext4"
    rm -rf --one-file-system "$r"
    cdrv_log "vm: labelling the image (one boot, permissive)"
    _vm_boot "$out" selinux relabel cdrv_permissive "" || {
      rm -rf "$VM_DIR/failed-build"
      mv "$out" "$VM_DIR/failed-build"
      cp "$VM_TMP/console.log" "$VM_DIR/failed-build/"
      cdrv_log "vm: the relabel boot failed; its image and console.log are in $VM_DIR/failed-build"
      exit 1
    }
    printf '%s\n' "$kver" >"$out/kernel-version"
    printf '%s\n' "$hash" >"$out/inputs.sha256"
    rm -rf "$VM_IMAGE" "$VM_DIR/failed-build"
    mv "$out" "$VM_IMAGE"
    cdrv_log "vm: image ready in $((SECONDS - t0)) s: $VM_IMAGE"
  ) 9>"$VM_DIR/build.lock"
}

# ---- run -----------------------------------------------------------------------------------------
vm_run() {
  local mode=$1 profile=selinux permissive=0 stock=0 context=$VM_DEFAULT_CONTEXT
  shift
  local -a envs=()
  while [ $# -gt 0 ]; do
    case $1 in
      --profile) [ $# -ge 2 ] || { usage; return 2; }; profile=$2; shift ;;
      --permissive) permissive=1 ;;
      --stock-policy) stock=1 ;;
      --context) [ $# -ge 2 ] || { usage; return 2; }; context=$2; shift ;;
      -e) case ${2:-} in *=*) envs+=("$2") ;; *) usage; return 2 ;; esac; shift ;;
      --) shift; break ;;
      *) usage; return 2 ;;
    esac
    shift
  done
  if [ "$mode" = run ] && [ $# -eq 0 ]; then
    usage
    return 2
  fi
  if [ "$mode" = shell ]; then set -- bash -l; fi
  _vm_profile_words "$profile" >/dev/null || return 2
  if [ "$profile" = modern ]; then
    if [ $permissive = 1 ] || [ $stock = 1 ] || [ "$context" != "$VM_DEFAULT_CONTEXT" ]; then
      cdrv_log "vm: --permissive, --stock-policy and --context are for profile selinux"
      return 2
    fi
    context=""
  fi
  vm_build
  local v
  for v in CI DENO_DIR DENO_NO_UPDATE_CHECK $(compgen -e | grep '^CDRV_' || true); do
    [ -n "${!v+x}" ] && envs=("$v=${!v}" "${envs[@]}")
  done
  envs+=("PATH=$CDRV_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
  # Shares at the same absolute paths; a path inside another share needs no share of its own.
  local -a shares=()
  local p n=0
  while read -r p; do
    local inside=0 s
    for s in "${shares[@]}"; do case $p/ in "${s#*=}"/*) inside=1 ;; esac; done
    if [ $inside = 0 ]; then
      n=$((n + 1))
      shares+=("cdrv$n=$p")
    fi
  done < <(printf '%s\n' "$(realpath "$CDRV_ROOT")" "$(realpath -m "$CDRV_CACHE")" | awk '{ print length, $0 }' |
    sort -n | cut -d' ' -f2-)

  VM_TMP=$(mktemp -d /tmp/cdrv-vm.XXXXXX)
  trap _vm_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local rundir=$VM_TMP/run
  mkdir -p "$rundir"
  {
    printf 'CDRV_VM_SHARES=(%s)\n' "$(printf '%q ' "${shares[@]}")"
    printf 'CDRV_VM_CWD=%q\n' "$CDRV_ROOT"
    printf 'CDRV_VM_CONTEXT=%q\n' "$context"
    [ "$profile" = selinux ] && printf 'CDRV_VM_9P_LABEL=%q\n' "${CDRV_VM_9P_LABEL-$VM_9P_LABEL}"
    printf 'CDRV_VM_ENV=(%s)\n' "$(printf '%q ' "${envs[@]}")"
    printf 'CDRV_VM_ARGV=(%s)\n' "$(printf '%q ' "$@")"
  } >"$rundir/run.sh"
  local t0=$SECONDS rc=0 words=""
  [ $permissive = 1 ] && words+=" cdrv_permissive"
  [ $stock = 1 ] && words+=" cdrv_stock_policy"
  words=${words# }
  if [ "$mode" = shell ]; then
    _vm_boot "$VM_IMAGE" "$profile" shell "$words" "$rundir" "${shares[@]}" || rc=$?
  else
    _vm_boot "$VM_IMAGE" "$profile" run "$words" "$rundir" "${shares[@]}" || rc=$?
    cdrv_log "vm ($profile): exit $rc after $((SECONDS - t0)) s ($VM_ACCEL)"
  fi
  return $rc
}

case ${1:-} in
  build) shift; vm_build "$@" ;;
  run) shift; vm_run run "$@" ;;
  shell) shift; vm_run shell "$@" ;;
  -h | --help | help) usage ;;
  *) usage; exit 2 ;;
esac
