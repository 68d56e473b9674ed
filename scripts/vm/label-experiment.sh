#!/usr/bin/env bash
# The SELinux labelling experiment, to run INSIDE the test VM (it refuses to run elsewhere):
#   scripts/vm.sh run -- scripts/vm/label-experiment.sh
# A private containerd (scripts/lib/containerd.sh) imports the cached busybox image
# ($CDRV_CACHE/images, scripts/lib/images.sh); each case prepares a fresh snapshot of its layer, mounts
# it (busybox mount: bin_t, so the mount is made in the command's own domain, as the shim's would be)
# and runs it through containerd (shim + runc) with `ctr run --config SPEC` (process.selinuxLabel,
# linux.mountLabel, three bind-mounted volumes). Each case prints what the container could do and the
# AVC denials it caused. Denials of MCS category mismatches on dirs are not logged (refpolicy's
# container module has `dontaudit container_domain mountpoint:dir { search read open ... }`).
set -u
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh
source scripts/lib/containerd.sh
set +e +o pipefail
if [ "${CDRV_SELINUX_VM:-}" != 1 ]; then
  echo "label-experiment.sh: run it in the VM: scripts/vm.sh run --profile selinux -- $0" >&2
  exit 2
fi
say() { printf '\n===== %s\n' "$*"; }
avcs() { dmesg -c 2>/dev/null </dev/null | grep 'avc:  denied' | sed 's/^.*audit([0-9.:]*): /    AVC: /; s/ pid=[0-9]*//; s/ ino=[0-9]*//' | sort -u; }
say "command domain: $(id -Z)"
dmesg -C </dev/null
O=$CDRV_CACHE/images/oci
if [ ! -s "$O/index.json" ]; then
  echo "label-experiment.sh: no $O; build the test images on the host first (scripts/lib/images.sh)" >&2
  exit 2
fi
D=/tmp/ctd
cdrv_containerd_start "$D" || exit 1
CTR=(ctr -a "$D/containerd.sock" -n seltest)
tar -C "$CDRV_CACHE/images/oci" -cf /tmp/oci.tar .
"${CTR[@]}" images import --base-name docker.io/cdrv/test /tmp/oci.tar >/dev/null
man=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "busybox") | .digest' "$O/index.json")
cfg=$(jq -r '.config.digest' "$O/blobs/sha256/${man#sha256:}")
CHAIN=$(jq -r '.rootfs.diff_ids[0]' "$O/blobs/sha256/${cfg#sha256:}")
ctr oci spec >/tmp/base.json
# the busybox layer's directory: the lowerdir of a snapshot on top of it
"${CTR[@]}" snapshots prepare probe "$CHAIN" >/dev/null
LAYER=$("${CTR[@]}" snapshots mounts /x probe | sed -n 's/.*lowerdir=\([^, ]*\).*/\1/p')
"${CTR[@]}" snapshots rm probe
avcs

mkdir -p /tmp/vol/shared /tmp/vol/c12 /tmp/vol/deflt
for d in shared c12 deflt; do echo hi >/tmp/vol/$d/f; done
chcon -R system_u:object_r:container_file_t:s0 /tmp/vol/shared
chcon -R system_u:object_r:container_file_t:s0:c1,c2 /tmp/vol/c12
say "volumes"; ls -Zd /tmp/vol/*
SCRIPT='{ echo "  in-container label: $(cat /proc/self/attr/current)"; ls /bin >/dev/null && cat /etc/passwd >/dev/null && echo "  rootfs: read-ok"; echo x >/rootfs-w 2>/dev/null && echo "  rootfs: write-ok" || echo "  rootfs: write-DENIED"; for d in shared c12 deflt; do cat /v/$d/f >/dev/null 2>&1 && r=read-ok || r=read-DENIED; echo x >/v/$d/w.$NAME 2>/dev/null && w=write-ok || w=write-DENIED; echo "  /v/$d: $r $w"; done; } 2>&1 | tee /v/shared/out.$NAME'
mkspec() { # out name proclabel mountlabel rootpath
  jq --arg n "$2" --arg pl "$3" --arg ml "$4" --arg s "$SCRIPT" --arg root "$5" '
    .process.args = ["/bin/sh", "-c", $s] | .process.env += ["NAME=" + $n] | .process.terminal = false |
    .root.path = $root | .root.readonly = false |
    (if $pl != "" then .process.selinuxLabel = $pl else . end) |
    (if $ml != "" then .linux.mountLabel = $ml else . end) |
    .mounts += [ {destination: "/v/shared", type: "bind", source: "/tmp/vol/shared", options: ["rbind", "rw"]},
                 {destination: "/v/c12", type: "bind", source: "/tmp/vol/c12", options: ["rbind", "rw"]},
                 {destination: "/v/deflt", type: "bind", source: "/tmp/vol/deflt", options: ["rbind", "rw"]} ]' \
    /tmp/base.json >"$1"
}
L12=system_u:system_r:container_t:s0:c1,c2
M12=system_u:object_r:container_file_t:s0:c1,c2
L34=system_u:system_r:container_t:s0:c3,c4
M34=system_u:object_r:container_file_t:s0:c3,c4

# run <name> <proclabel> <mountlabel> <extra overlay options>: a fresh snapshot of the busybox layer,
# mounted here (busybox mount is bin_t: the mount is made in the command's domain, as the shim's is),
# then run through containerd (shim, runc).
run() {
  local name=$1 pl=$2 ml=$3 extra=$4 root=/tmp/roots/$1 opts
  mkdir -p "$root"
  "${CTR[@]}" snapshots prepare "$name" "$CHAIN" >/dev/null
  opts=$("${CTR[@]}" snapshots mounts "$root" "$name" | sed -n 's/.* -o //p')
  say "$name: selinuxLabel=${pl:-none} mountLabel=${ml:-none} overlay extra options: ${extra:-none}"
  /bin/busybox mount -t overlay overlay "$root" -o "$opts${extra:+,$extra}" || { echo "  rootfs mount failed"; avcs; return; }
  ls -Zd "$root" "$root/bin/busybox" | sed 's/^/  host view: /'
  mkspec "/tmp/$name.json" "$name" "$pl" "$ml" "$root"
  rm -f "/tmp/vol/shared/out.$name"
  timeout 60 "${CTR[@]}" run --rm --config "/tmp/$name.json" "$name" >"/tmp/stdout.$name" 2>&1
  local rc=$?
  echo "  ctr exit $rc; stdout via the shim's pipes:"
  sed 's/^/  | /' "/tmp/stdout.$name"
  if [ -s "/tmp/vol/shared/out.$name" ]; then
    echo "  the container's own copy in /v/shared:"
    sed 's/^/  > /' "/tmp/vol/shared/out.$name"
  fi
  umount "$root"
  avcs
}
run c12-nolayerlabel-nocontext "$L12" "$M12" ""
run c12-nolayerlabel-context "$L12" "$M12" "context=\"$M12\""
say "the image layer: chcon -R -t container_ro_file_t -l s0 $LAYER"
chcon -R -t container_ro_file_t -l s0 "$LAYER"
run c12-ro-nocontext "$L12" "$M12" ""
say "policy modules: $(semodule -l | grep -E '^(container|cdrv_vm)$' | tr '\n' ' ')"
run c12-ro-context "$L12" "$M12" "context=\"$M12\""
run c34-ro-context "$L34" "$M34" "context=\"$M34\""
run nolabels "" "" ""
say "the image layer: chcon -R -t container_file_t -l s0 $LAYER"
chcon -R -t container_file_t -l s0 "$LAYER"
run c12-file-s0-nocontext "$L12" "$M12" ""
say "process labels while a container runs"
mkdir -p /tmp/roots/sleeper
"${CTR[@]}" snapshots prepare sleeper "$CHAIN" >/dev/null
opts=$("${CTR[@]}" snapshots mounts /tmp/roots/sleeper sleeper | sed -n 's/.* -o //p')
/bin/busybox mount -t overlay overlay /tmp/roots/sleeper -o "$opts,context=\"$M12\""
mkspec /tmp/sleep.json sleeper "$L12" "$M12" /tmp/roots/sleeper
jq '.process.args = ["/bin/sleep", "20"]' /tmp/sleep.json >/tmp/sleep2.json
"${CTR[@]}" run -d --config /tmp/sleep2.json sleeper && sleep 3
ps -eo label,pid,comm | grep -E 'containerd|sleep' | sed 's/^/  /'
"${CTR[@]}" task kill -s KILL sleeper; sleep 1; "${CTR[@]}" task delete sleeper >/dev/null; "${CTR[@]}" container delete sleeper
umount /tmp/roots/sleeper
avcs
cdrv_containerd_stop "$D" --purge
avcs
