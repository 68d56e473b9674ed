# Sourced after common.sh: test images built offline from Debian binaries, and pushed to local registries.
# Functions only; nothing runs on source. Needs: umoci skopeo jq busybox-static tini redis-server (apt.sh).
#
# cdrv_build_images <outdir> produces
#   <outdir>/oci               OCI layout, tags:
#       busybox   OCI manifest, linux/amd64, 1 layer
#       redis     OCI manifest, linux/amd64, 2 layers (the busybox layer + redis-server and its libraries)
#       multi     OCI image index: the busybox amd64 manifest + a fake linux/arm64/v8 manifest (tiny layer)
#   <outdir>/busybox-v2s2      the busybox image as a Docker schema2 manifest (skopeo "dir:" layout)
#   <outdir>/inputs.sha256     hash of every input; the build is skipped while it matches
# Layers are tarred deterministically (sorted, fixed mtime, numeric owners) and every timestamp is fixed,
# so the digests are the same on every machine with the same Debian package versions.

CDRV_IMAGE_EPOCH=1704067200 # 2024-01-01T00:00:00Z
CDRV_IMAGE_CREATED=2024-01-01T00:00:00Z
CDRV_IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CDRV_IMAGES_SH=$(realpath "${BASH_SOURCE[0]}")

_cdrv_img_tini() {
  local t
  for t in /usr/bin/tini-static /usr/bin/tini; do
    [ -x "$t" ] && { echo "$t"; return 0; }
  done
  cdrv_log "images: no tini binary (apt install tini)"
  return 1
}

# Files copied into the redis image: the binary (symlink resolved) and its ldd libraries.
_cdrv_img_redis_files() {
  readlink -f /usr/bin/redis-server
  ldd /usr/bin/redis-server | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
}

_cdrv_img_inputs_hash() {
  {
    sha256sum "$CDRV_IMAGES_SH" /bin/busybox "$(_cdrv_img_tini)" | awk '{print $1}'
    _cdrv_img_redis_files | while read -r f; do sha256sum "$(readlink -f "$f")" | awk -v f="$f" '{print $1, f}'; done
    umoci --version
    skopeo --version
  } | sha256sum | cut -d' ' -f1
}

# _cdrv_img_tar <rootfs> <out.tar>: reproducible uncompressed tar, entries without a "./" prefix.
_cdrv_img_tar() {
  local rootfs=$1 out=$2
  local entries=()
  mapfile -t entries < <(cd "$rootfs" && LC_ALL=C ls -A)
  LC_ALL=C tar -C "$rootfs" --sort=name --mtime="@$CDRV_IMAGE_EPOCH" --numeric-owner \
    --format=pax --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -cf "$out" -- "${entries[@]}"
}

# Base root filesystem: busybox + applet links, tini, passwd/group, /tmp.
_cdrv_img_busybox_rootfs() {
  local r=$1 tini a
  tini=$(_cdrv_img_tini)
  mkdir -p "$r"
  (umask 022 && mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,home/app,var,proc,sys,dev})
  install -m 0755 /bin/busybox "$r/bin/busybox"
  install -m 0755 "$tini" "$r/sbin/tini"
  # every applet as a symlink to /bin/busybox (same as `busybox --install -s`)
  while read -r a; do
    [ -e "$r/$a" ] || [ -L "$r/$a" ] || ln -s /bin/busybox "$r/$a"
  done < <(/bin/busybox --list-full)
  cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat >"$r/etc/group" <<'EOF'
root:x:0:
app:x:1000:
nogroup:x:65534:
nobody:x:65534:
EOF
  printf 'hosts: files dns\n' >"$r/etc/nsswitch.conf"
  chmod 0644 "$r/etc/passwd" "$r/etc/group" "$r/etc/nsswitch.conf"
  chmod 0700 "$r/root"
  chmod 1777 "$r/tmp"
  chown 1000:1000 "$r/home/app"
}

# Redis layer (on top of the busybox one): /usr/bin/redis-server, its libraries, /data.
_cdrv_img_redis_rootfs() {
  local r=$1 f
  (umask 022 && mkdir -p "$r/usr/bin" "$r/data")
  install -m 0755 "$(readlink -f /usr/bin/redis-server)" "$r/usr/bin/redis-server"
  _cdrv_img_redis_files | tail -n +2 | while read -r f; do
    (umask 022 && mkdir -p "$r$(dirname "$f")")
    install -m 0755 "$(readlink -f "$f")" "$r$f"
  done
}

_cdrv_img_config() {
  # umoci config with fixed timestamps and no history entry
  umoci config --no-history --created "$CDRV_IMAGE_CREATED" --author cdrv "$@"
}

_cdrv_img_build() {
  local work=$1 out=$2
  local L=$out/oci
  umoci init --layout "$L"

  # busybox
  _cdrv_img_busybox_rootfs "$work/busybox"
  _cdrv_img_tar "$work/busybox" "$work/busybox.tar"
  umoci new --image "$L:busybox"
  umoci raw add-layer --image "$L:busybox" --history.created "$CDRV_IMAGE_CREATED" \
    --history.created_by "cdrv busybox-static + tini" "$work/busybox.tar"
  _cdrv_img_config --image "$L:busybox" --os linux --architecture amd64 \
    --config.env "PATH=$CDRV_IMAGE_PATH" --config.cmd /bin/sh \
    --config.label org.opencontainers.image.title=cdrv-busybox

  # redis: the busybox layer + redis-server
  _cdrv_img_redis_rootfs "$work/redis"
  _cdrv_img_tar "$work/redis" "$work/redis.tar"
  umoci tag --image "$L:busybox" redis
  umoci raw add-layer --image "$L:redis" --history.created "$CDRV_IMAGE_CREATED" \
    --history.created_by "cdrv redis-server + ldd libraries" "$work/redis.tar"
  _cdrv_img_config --image "$L:redis" --os linux --architecture amd64 \
    --config.env "PATH=$CDRV_IMAGE_PATH" --config.workingdir /data --config.exposedports 6379/tcp \
    --config.cmd redis-server --config.cmd=--protected-mode --config.cmd no \
    --config.label org.opencontainers.image.title=cdrv-redis

  # fake arm64 image: one tiny layer, never meant to run
  mkdir -p "$work/arm64"
  printf 'fake linux/arm64 image of cdrv/multi\n' >"$work/arm64/fake-arm64.txt"
  chmod 0644 "$work/arm64/fake-arm64.txt"
  _cdrv_img_tar "$work/arm64" "$work/arm64.tar"
  umoci new --image "$L:arm64-fake"
  umoci raw add-layer --image "$L:arm64-fake" --history.created "$CDRV_IMAGE_CREATED" "$work/arm64.tar"
  _cdrv_img_config --image "$L:arm64-fake" --os linux --architecture arm64 --config.cmd /bin/sh

  # multi: an OCI index blob referencing both manifests, tagged in the layout's index.json
  local amd arm idx dgst size
  amd=$(jq -c '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "busybox")
    | {mediaType, digest, size, platform: {architecture: "amd64", os: "linux"}}' "$L/index.json")
  arm=$(jq -c '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "arm64-fake")
    | {mediaType, digest, size, platform: {architecture: "arm64", os: "linux", variant: "v8"}}' "$L/index.json")
  idx=$work/multi-index.json
  jq -cn --argjson a "$amd" --argjson b "$arm" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [$a, $b]}' |
    tr -d '\n' >"$idx"
  dgst=$(sha256sum "$idx" | cut -d' ' -f1)
  size=$(stat -c %s "$idx")
  cp "$idx" "$L/blobs/sha256/$dgst"
  # drop the arm64-fake tag (the index keeps its blobs alive) and add "multi"
  jq -c --arg d "sha256:$dgst" --argjson s "$size" '
    .manifests |= (map(select(.annotations["org.opencontainers.image.ref.name"] != "arm64-fake"))
      + [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
          annotations: {"org.opencontainers.image.ref.name": "multi"}}])' "$L/index.json" >"$work/index.json"
  mv -f "$work/index.json" "$L/index.json"

  # Docker schema2 copy of busybox
  skopeo --insecure-policy copy -q --format v2s2 "oci:$L:busybox" "dir:$out/busybox-v2s2"
}

# cdrv_build_images <outdir>: builds (or keeps, when inputs are unchanged) the test images.
cdrv_build_images() {
  local outdir=${1:?outdir}
  outdir=$(realpath -m -- "$outdir")
  case $outdir in / | "") cdrv_log "images: refusing outdir '$1'"; return 1 ;; esac
  mkdir -p "$(dirname "$outdir")"
  local hash
  hash=$(_cdrv_img_inputs_hash)
  (
    flock 9
    if [ "$(cat "$outdir/inputs.sha256" 2>/dev/null)" = "$hash" ] && [ -s "$outdir/oci/index.json" ] &&
      [ -s "$outdir/busybox-v2s2/manifest.json" ]; then
      exit 0
    fi
    cdrv_log "images: building busybox, redis, multi, busybox-v2s2 into $outdir"
    local tmp=$outdir.tmp.$$
    rm -rf "$tmp"
    mkdir -p "$tmp/work" "$tmp/out"
    trap 'rm -rf "$tmp"' EXIT
    _cdrv_img_build "$tmp/work" "$tmp/out"
    printf '%s\n' "$hash" >"$tmp/out/inputs.sha256"
    rm -rf "$outdir"
    mv "$tmp/out" "$outdir"
  ) 9>"$outdir.lock"
}

# cdrv_push_images <outdir> <host:port> [--creds user:pw] [--tls-ca <ca.crt> | --plain]
# Pushes <reg>/cdrv/busybox:1 (OCI), cdrv/busybox-v2s2:1 (Docker schema2), cdrv/multi:1 (OCI index,
# amd64 + fake arm64), cdrv/redis:1, and library/busybox:latest (for docker.io-mirror tests).
# Default TLS: verified against the system CAs.
cdrv_push_images() {
  local outdir=${1:?outdir} reg=${2:?registry host:port}
  shift 2
  local opts=() certdir=""
  while [ $# -gt 0 ]; do
    case $1 in
      --creds) opts+=(--dest-creds "${2:?user:pw}"); shift 2 ;;
      --plain) opts+=(--dest-tls-verify=false); shift ;;
      --tls-ca)
        # skopeo wants a directory of *.crt; a *.key without its *.cert there would be an error
        certdir=$(mktemp -d)
        cp "${2:?ca.crt}" "$certdir/ca.crt"
        opts+=(--dest-cert-dir "$certdir")
        shift 2
        ;;
      *) cdrv_log "cdrv_push_images: unknown argument $1"; return 1 ;;
    esac
  done
  local L=$outdir/oci rc=0
  local -a jobs=(
    "oci:$L:busybox|docker://$reg/cdrv/busybox:1|"
    "dir:$outdir/busybox-v2s2|docker://$reg/cdrv/busybox-v2s2:1|"
    "oci:$L:multi|docker://$reg/cdrv/multi:1|--all"
    "oci:$L:redis|docker://$reg/cdrv/redis:1|"
    "oci:$L:busybox|docker://$reg/library/busybox:latest|"
  )
  local j src dst extra
  for j in "${jobs[@]}"; do
    IFS='|' read -r src dst extra <<<"$j"
    # shellcheck disable=SC2086
    if ! skopeo --insecure-policy copy -q --retry-times 2 $extra "${opts[@]}" "$src" "$dst" >&2; then
      cdrv_log "push failed: $src -> $dst"
      rc=1
      break
    fi
  done
  [ -n "$certdir" ] && rm -rf "$certdir"
  return $rc
}
