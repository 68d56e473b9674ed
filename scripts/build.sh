#!/usr/bin/env bash
# Builds bin/containerd-driver: codegen (proto → src/gen), AssemblyScript (assembly → wasm), then
# `deno compile` with scoped permissions; when denort cannot be had (offline), `deno bundle` plus a
# launcher script that runs the bundle with the same scoped permissions. Never with all permissions.
#
#   ./scripts/build.sh            build (installs Deno and the codegen tools into the cache if needed)
#   ./scripts/build.sh --no-codegen   skip codegen (src/gen is committed)
#   ./scripts/build.sh --release  the bundle form (never deno compile), then scripts/release.sh: the
#                                 archives, the .deb and SHA256SUMS in dist/
source "$(dirname "$0")/lib/common.sh"
source "$CDRV_ROOT/scripts/lib/install.sh"
cd "$CDRV_ROOT"

codegen=1
release=0
for a in "$@"; do
  case $a in
  --no-codegen) codegen=0 ;;
  --release) release=1 ;;
  *) echo "build.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

cdrv_install_deno
if [ $codegen = 1 ]; then ./scripts/codegen.sh; fi
if [ -x scripts/build-wasm.sh ]; then ./scripts/build-wasm.sh; fi

mkdir -p bin dist
deno="$CDRV_BIN/deno"
# Fetch npm dependencies into DENO_DIR (from the lockfile) so the bundle and the launcher run offline.
"$deno" install --quiet --frozen --entrypoint mod.ts >&2

# The permissions the plugin runs with come from their one definition, src/driver/sandbox.ts, through
# scripts/sandbox.ts: the launcher's lists and the `deno compile` flags below.
# Credential helpers: the launcher (bundle path) reads CONTAINERD_DRIVER_CREDENTIAL_HELPERS at each start;
# a `deno compile` binary has its permissions fixed at build time, so it takes the variable's value now.
helpers=${CONTAINERD_DRIVER_CREDENTIAL_HELPERS:-}
for h in $(printf '%s' "$helpers" | tr ',' ' '); do
  case $h in
  *[!A-Za-z0-9._-]* | [._-]*) echo "build.sh: invalid credential helper name '$h'" >&2; exit 2 ;;
  esac
done
sandbox() { "$deno" run --quiet --no-prompt --allow-read=scripts scripts/sandbox.ts "$@"; }
# A compiled binary cannot read its paths from the environment at launch: it gets the definition's
# paths with /run/containerd-driver as its socket dir (the agent must set PLUGIN_UNIX_SOCKET_DIR to it).
mapfile -t COMPILE_FLAGS < <(sandbox compile-flags /run/containerd-driver "$(printf '%s' "$helpers" | tr ' ' ',')")
[ ${#COMPILE_FLAGS[@]} -ge 6 ] || { echo "build.sh: scripts/sandbox.ts gave no compile flags" >&2; exit 1; }

# Everything is written beside its final name and renamed into place, so a running test or agent
# never sees a half-written plugin.
if [ "${CDRV_TRY_COMPILE:-1}" = 1 ] && [ $release = 0 ] &&
  timeout 120 "$deno" compile --quiet --cached-only --no-prompt -o bin/containerd-driver.compiled.$$ \
    "${COMPILE_FLAGS[@]}" mod.ts >/dev/null 2>&1; then
  mv bin/containerd-driver.compiled.$$ bin/containerd-driver
  cdrv_log "build: deno compile → bin/containerd-driver"
else
  rm -f bin/containerd-driver.compiled.$$
  # Code-split: the entry (mod.ts: go-plugin and the service definitions, all that runs before the
  # handshake line), the driver it imports right after the line (src/driver/boot.ts), and what both use.
  # V8 then loads 1.2 of the 2 MB before the line (docs/performance.md, round five). deno bundle names the
  # two chunks by content hash; they get fixed names beside the entry: containerd-driver.{shared,driver}.js.
  out=dist/bundle.$$
  rm -rf "$out"
  "$deno" bundle --quiet --platform deno --code-splitting --outdir "$out" mod.ts
  shared=$(cd "$out" && ls chunk-*.js 2>/dev/null) driver=$(cd "$out" && ls boot-*.js 2>/dev/null)
  if [ ! -f "$out/mod.js" ] || [ "$(ls "$out" | wc -l)" != 3 ] || [ "$(echo "$shared" | wc -w)" != 1 ] ||
    [ "$(echo "$driver" | wc -w)" != 1 ]; then
    echo "build.sh: deno bundle --code-splitting gave $(ls "$out" | tr '\n' ' '); expected mod.js, one chunk-*.js" \
      "and one boot-*.js" >&2
    exit 1
  fi
  mv "$out/mod.js" "$out/containerd-driver.js"
  mv "$out/$shared" "$out/containerd-driver.shared.js"
  mv "$out/$driver" "$out/containerd-driver.driver.js"
  # The bundle names its npm modules by their path in DENO_DIR, relative to the repo (../../root/.cache/…):
  # keep only the package's name and version, so no path of this machine ships. The commit goes in too.
  rel=$(realpath --relative-to="$CDRV_ROOT" "$DENO_DIR")
  sed -i -e "s#\./$shared\"#./containerd-driver.shared.js\"#g" -e "s#\./$driver\"#./containerd-driver.driver.js\"#g" \
    -e "s#$rel/npm/registry.npmjs.org/#npm:#g" -e "s#@CDRV_COMMIT@#$(cdrv_commit)#" "$out"/*.js
  if grep -q "$shared\|$driver" "$out"/*.js; then
    echo "build.sh: a chunk is still named by its hash in the bundle" >&2
    exit 1
  fi
  rm -f dist/containerd-driver*.js
  mv "$out"/*.js dist/
  rmdir "$out"
  # The launcher finds the runtime at runtime/deno beside itself: here, a link to the cache's Deno.
  mkdir -p bin/runtime
  ln -sfn "$deno" bin/runtime/deno
  sandbox launcher scripts/launcher.sh >bin/containerd-driver.$$
  # The chunks first, the entry last (the order of CDRV_BUNDLE_FILES).
  for js in "${CDRV_BUNDLE_FILES[@]}"; do
    cp "dist/$js" "bin/$js.$$"
    mv -f "bin/$js.$$" "bin/$js"
  done
  chmod +x bin/containerd-driver.$$
  mv -f bin/containerd-driver.$$ bin/containerd-driver
  cdrv_log "build: deno compile unavailable (offline); bundle $(du -ch bin/containerd-driver*.js | tail -1 | cut -f1) in 3 files + launcher → bin/containerd-driver"
fi
[ $release = 0 ] || "$CDRV_ROOT/scripts/release.sh"
