#!/usr/bin/env bash
# Builds bin/containerd-driver: codegen (proto → src/gen), AssemblyScript (assembly → wasm), then
# `deno compile` with scoped permissions; when denort cannot be had (offline), `deno bundle` plus a
# launcher script that runs the bundle with the same scoped permissions. Never with all permissions.
#
#   ./scripts/build.sh            build (installs Deno and the codegen tools into the cache if needed)
#   ./scripts/build.sh --no-codegen   skip codegen (src/gen is committed)
source "$(dirname "$0")/lib/common.sh"
source "$CDRV_ROOT/scripts/lib/install.sh"
cd "$CDRV_ROOT"

codegen=1
for a in "$@"; do
  case $a in
  --no-codegen) codegen=0 ;;
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

# The permissions the plugin runs with. Paths that depend on the host come from the environment at
# launch time (see launcher.sh); these are the fixed parts.
PERM_ENV="NOMAD_PLUGIN_MAGIC_COOKIE,PLUGIN_PROTOCOL_VERSIONS,PLUGIN_UNIX_SOCKET_DIR,PLUGIN_CLIENT_CERT,TMPDIR"
PERM_ENV="$PERM_ENV,CONTAINERD_DRIVER_LOG_LEVEL,CONTAINERD_DRIVER_EXTRA_PATHS,CONTAINERD_DRIVER_CREDENTIAL_HELPERS"
# Credential helpers: the launcher (bundle path) reads CONTAINERD_DRIVER_CREDENTIAL_HELPERS at each start;
# a `deno compile` binary has its permissions fixed at build time, so it takes the variable's value now.
PERM_RUN=mkfifo
for h in $(printf '%s' "${CONTAINERD_DRIVER_CREDENTIAL_HELPERS:-}" | tr ',' ' '); do
  case $h in
  *[!A-Za-z0-9._-]* | [._-]*) echo "build.sh: invalid credential helper name '$h'" >&2; exit 2 ;;
  *) PERM_RUN="$PERM_RUN,docker-credential-$h" ;;
  esac
done
PERM_ENV="$PERM_ENV,GRPC_TRACE,GRPC_VERBOSITY,GRPC_NODE_TRACE,GRPC_NODE_VERBOSITY,GRPC_NODE_USE_ALTERNATIVE_RESOLVER,GRPC_NODE_DEBUG_SEND_ERROR_DETAILS"
PERM_ENV="$PERM_ENV,GRPC_SSL_CIPHER_SUITES,GRPC_DEFAULT_SSL_ROOTS_FILE_PATH,GRPC_EXPERIMENTAL_ENABLE_OUTLIER_DETECTION"
PERM_ENV="$PERM_ENV,grpc_proxy,https_proxy,http_proxy,no_proxy,no_grpc_proxy,HTTP_PROXY,HTTPS_PROXY,NO_PROXY"

# A compiled binary cannot read its paths from the environment at launch: it gets the launcher's
# defaults (see launcher.sh) with /tmp as the socket dir.
PERM_PATHS=/tmp,/run/containerd,/etc/containerd,/var/lib/containerd,/var/lib/nomad,/opt/nomad

# Everything is written beside its final name and renamed into place, so a running test or agent
# never sees a half-written plugin.
if [ "${CDRV_TRY_COMPILE:-1}" = 1 ] &&
  timeout 120 "$deno" compile --quiet --cached-only --no-prompt -o bin/containerd-driver.compiled.$$ \
    --allow-env="$PERM_ENV" --allow-read="$PERM_PATHS,/etc/resolv.conf,/etc/hosts,/etc/selinux,/sys/fs/cgroup" \
    --allow-write="$PERM_PATHS" --allow-net --allow-sys=osRelease,cpus --allow-run="$PERM_RUN,stat,ls,chcon" \
    mod.ts >/dev/null 2>&1; then
  mv bin/containerd-driver.compiled.$$ bin/containerd-driver
  cdrv_log "build: deno compile → bin/containerd-driver"
else
  rm -f bin/containerd-driver.compiled.$$
  # The output name must end in .js: deno bundle only adds its createRequire shim (which the npm
  # CommonJS modules need) for .js outputs.
  "$deno" bundle --quiet --platform deno -o dist/containerd-driver.$$.js mod.ts
  mv -f dist/containerd-driver.$$.js dist/containerd-driver.js
  sed -e "s|@DENO@|$deno|" -e "s|@DENO_DIR@|$DENO_DIR|" -e "s|@PERM_ENV@|$PERM_ENV|" \
    scripts/launcher.sh >bin/containerd-driver.$$
  cp dist/containerd-driver.js bin/containerd-driver.$$.js
  mv -f bin/containerd-driver.$$.js bin/containerd-driver.js
  chmod +x bin/containerd-driver.$$
  mv -f bin/containerd-driver.$$ bin/containerd-driver
  cdrv_log "build: deno compile unavailable (offline); bundle $(du -h bin/containerd-driver.js | cut -f1) + launcher → bin/containerd-driver"
fi
