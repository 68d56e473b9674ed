#!/bin/sh
# containerd-driver launcher (template filled in by scripts/build.sh): runs the bundled plugin under
# Deno with scoped permissions — never with all permissions. Nomad may call us through a symlink in its
# plugin_dir, so resolve our own path first.
#
# Paths the plugin may read and write: the go-plugin socket dir, containerd's socket dir, the registry
# hosts dir, Nomad's usual data dirs, and whatever CONTAINERD_DRIVER_EXTRA_PATHS (colon-separated)
# adds — set it in the Nomad agent's environment for a non-default containerd socket or data_dir.
self=$(readlink -f "$0")
dir=$(dirname "$self")
DENO=${CONTAINERD_DRIVER_DENO:-@DENO@}
export DENO_DIR=${DENO_DIR:-@DENO_DIR@}
export DENO_NO_UPDATE_CHECK=1

sockdir=${PLUGIN_UNIX_SOCKET_DIR:-${TMPDIR:-/tmp}}
paths="$sockdir,/run/containerd,/etc/containerd,/var/lib/containerd,/var/lib/nomad,/opt/nomad"
extra=$(printf '%s' "${CONTAINERD_DRIVER_EXTRA_PATHS:-}" | tr ':' ',')
[ -n "$extra" ] && paths="$paths,$extra"

# stat(1) and ls(1) look at device nodes (Deno opens nothing under /dev without its all-permissions flag);
# chcon(1) relabels bind sources for SELinux (volumes.selinuxlabel; Deno cannot set security xattrs).
# Credential helpers (docker-credential-<name>) the plugin may run: one per name in
# CONTAINERD_DRIVER_CREDENTIAL_HELPERS (comma-separated, e.g. "ecr-login,pass"); other names are refused
# by the sandbox and the pull error says to add them here.
run=mkfifo,stat,ls,chcon
for h in $(printf '%s' "${CONTAINERD_DRIVER_CREDENTIAL_HELPERS:-}" | tr ',' ' '); do
  case $h in
  *[!A-Za-z0-9._-]* | [._-]*) printf '{"@level":"warn","@message":"ignoring invalid credential helper name in CONTAINERD_DRIVER_CREDENTIAL_HELPERS","@module":"containerd-driver.launcher","name":"%s"}\n' "$(printf '%s' "$h" | tr -cd 'A-Za-z0-9._-')" >&2 ;;
  *) run="$run,docker-credential-$h" ;;
  esac
done

# The capabilities root holds here, which is what runc can grant a privileged task: Deno cannot read
# /proc without its all-permissions flag, so the plugin gets them from us.
CONTAINERD_DRIVER_CAPS=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status 2>/dev/null)
export CONTAINERD_DRIVER_CAPS

exec "$DENO" run --cached-only --no-prompt --no-config --quiet \
  --allow-env=@PERM_ENV@,CONTAINERD_DRIVER_CAPS \
  --allow-read="$paths,/etc/resolv.conf,/etc/hosts,/etc/selinux,/sys/fs/cgroup" \
  --allow-write="$paths" \
  --allow-net \
  --allow-sys=osRelease,cpus \
  --allow-run="$run" \
  "$dir/containerd-driver.js" "$@"
