#!/bin/sh
# containerd-driver launcher (a template: scripts/sandbox.ts fills the @PERM_*@ lists, @V8_FLAGS@ and @RUNTIME_ENV@ from
# src/driver/sandbox.ts, the one definition of the plugin's permissions): runs the bundled plugin under Deno
# with scoped permissions — never with all permissions. It names no path of the machine that built it: the
# runtime and the bundle are found beside its own resolved path (Nomad may call it through a symlink).
#
#   <dir>/containerd-driver        this launcher
#   <dir>/containerd-driver.js     the bundle's entry (go-plugin; runs first, prints the handshake line)
#   <dir>/containerd-driver.*.js   its chunks: the driver (loaded after the line) and what both share
#   <dir>/runtime/deno             the Deno runtime (CONTAINERD_DRIVER_DENO overrides it)
#
# The go-plugin socket lives in a private directory (0700) made here for this process alone, under
# PLUGIN_UNIX_SOCKET_DIR when the host names one, else $XDG_RUNTIME_DIR or /run when writable, else $TMPDIR;
# it is the only directory of that parent the plugin may touch. The plugin removes it when it exits; the
# ones a killed plugin left are removed at the next start. Deno's caches go to containerd-driver.cache
# beside them. Other paths the plugin may read and write: the definition's, plus
# CONTAINERD_DRIVER_EXTRA_PATHS (colon-separated; e.g. a Nomad data_dir under /tmp).
self=$(readlink -f "$0")
dir=$(dirname "$self")
DENO=${CONTAINERD_DRIVER_DENO:-$dir/runtime/deno}
export DENO_NO_UPDATE_CHECK=1

log() { # level message: one hclog JSON line on stderr
  printf '{"@level":"%s","@message":"%s","@module":"containerd-driver.launcher","@timestamp":"%s"}\n' \
    "$1" "$2" "$(date +%Y-%m-%dT%H:%M:%S.%6N%:z)" >&2
}

if [ ! -x "$DENO" ]; then
  log error "no Deno runtime at $DENO: install the release archive whole, or set CONTAINERD_DRIVER_DENO"
  exit 1
fi

base=${PLUGIN_UNIX_SOCKET_DIR:-}
if [ -z "$base" ]; then
  for b in "${XDG_RUNTIME_DIR:-}" /run "${TMPDIR:-/tmp}"; do
    if [ -n "$b" ] && [ -d "$b" ] && [ -w "$b" ]; then
      base=$b
      break
    fi
  done
fi
# Stale private dirs of ours: named containerd-driver.<pid>.*, owned by us, their plugin gone.
for d in "$base"/containerd-driver.[0-9]*.*; do
  [ -d "$d" ] && [ ! -L "$d" ] && [ -O "$d" ] || continue
  pid=${d##*/containerd-driver.}
  pid=${pid%%.*}
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'containerd-driver'; then
    continue
  fi
  rm -rf "$d"
done
# This process's PID is the plugin's: exec keeps it.
if ! sockdir=$(mktemp -d "$base/containerd-driver.$$.XXXXXX"); then
  log error "cannot make a private socket directory under $base"
  exit 1
fi
export CONTAINERD_DRIVER_SOCKET_DIR="$sockdir"
# Deno's own caches (V8 code cache; written by the runtime, not granted to the plugin) in a dir of ours
# beside the socket dirs that outlives one plugin: a cold cache costs about 0.7 s per start. When that
# name is taken by something we do not own, the private dir holds them, gone with it.
cache="$base/containerd-driver.cache"
[ -e "$cache" ] || [ -L "$cache" ] || mkdir -m 0700 "$cache" 2>/dev/null
if [ -d "$cache" ] && [ ! -L "$cache" ] && [ -O "$cache" ]; then
  export DENO_DIR="$cache"
else
  export DENO_DIR="$sockdir/deno"
fi

paths="$sockdir,@PERM_RW@"
extra=$(printf '%s' "${CONTAINERD_DRIVER_EXTRA_PATHS:-}" | tr ':' ',')
[ -n "$extra" ] && paths="$paths,$extra"

# Credential helpers (docker-credential-<name>) the plugin may run: one per name in
# CONTAINERD_DRIVER_CREDENTIAL_HELPERS (comma-separated, e.g. "ecr-login,pass"); other names are refused
# by the sandbox and the pull error says to add them here.
run=@PERM_RUN@
for h in $(printf '%s' "${CONTAINERD_DRIVER_CREDENTIAL_HELPERS:-}" | tr ',' ' '); do
  case $h in
  *[!A-Za-z0-9._-]* | [._-]*) log warn "ignoring invalid credential helper name $(printf '%s' "$h" | tr -cd 'A-Za-z0-9._-') in CONTAINERD_DRIVER_CREDENTIAL_HELPERS" ;;
  *) run="$run,docker-credential-$h" ;;
  esac
done

# The capabilities root holds here, which is what runc can grant a privileged task: Deno cannot read
# /proc without its all-permissions flag, so the plugin gets them from us.
CONTAINERD_DRIVER_CAPS=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status 2>/dev/null)
export CONTAINERD_DRIVER_CAPS

# glibc malloc settings for the Deno runtime (from the definition's RUNTIME_ENV: why is written there).
@RUNTIME_ENV@

exec "$DENO" run --cached-only --no-prompt --no-config --quiet @V8_FLAGS@ \
  --allow-env=@PERM_ENV@ \
  --allow-read="$paths,@PERM_RO@" \
  --allow-write="$paths" \
  --allow-net \
  --allow-sys=@PERM_SYS@ \
  --allow-run="$run" \
  "$dir/containerd-driver.js" "$@"
