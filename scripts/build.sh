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
  # The output name must end in .js: deno bundle only adds its createRequire shim (which the npm
  # CommonJS modules need) for .js outputs.
  "$deno" bundle --quiet --platform deno -o dist/containerd-driver.$$.js mod.ts
  # The bundle names its npm modules by their path in DENO_DIR, relative to the repo (../../root/.cache/…):
  # keep only the package's name and version, so no path of this machine ships. The commit goes in too.
  rel=$(realpath --relative-to="$CDRV_ROOT" "$DENO_DIR")
  sed -i -e "s#$rel/npm/registry.npmjs.org/#npm:#g" -e "s#@CDRV_COMMIT@#$(cdrv_commit)#" \
    dist/containerd-driver.$$.js
  mv -f dist/containerd-driver.$$.js dist/containerd-driver.js
  # The launcher finds the runtime at runtime/deno beside itself: here, a link to the cache's Deno.
  mkdir -p bin/runtime
  ln -sfn "$deno" bin/runtime/deno
  sandbox launcher scripts/launcher.sh >bin/containerd-driver.$$
  cp dist/containerd-driver.js bin/containerd-driver.$$.js
  mv -f bin/containerd-driver.$$.js bin/containerd-driver.js
  chmod +x bin/containerd-driver.$$
  mv -f bin/containerd-driver.$$ bin/containerd-driver
  cdrv_log "build: deno compile unavailable (offline); bundle $(du -h bin/containerd-driver.js | cut -f1) + launcher → bin/containerd-driver"
fi
[ $release = 0 ] || "$CDRV_ROOT/scripts/release.sh"
