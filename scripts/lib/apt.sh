# Sourced after common.sh: Debian packages the tests need (containerd, runc, registries, image tools).
# Functions only; nothing runs on source.

CDRV_APT_PACKAGES=(
  containerd runc containernetworking-plugins
  docker-registry apache2-utils skopeo umoci
  busybox-static tini jq iproute2 iptables
  redis-server redis-tools openssl curl file
  chromium
)

# Daemons shipped by those packages: we start our own copies, never the system services.
CDRV_APT_DAEMONS=(containerd docker-registry redis-server)

_cdrv_apt_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

# pgrep refuses patterns longer than 15 chars (the comm limit): one name at a time.
_cdrv_apt_daemon_pids() {
  local d
  for d in "${CDRV_APT_DAEMONS[@]}"; do pgrep -x "$d" || true; done | tr '\n' ' '
}

# cdrv_install_apt [extra-package...]
# Installs whatever of CDRV_APT_PACKAGES (plus extras) is missing. No-op (no apt-get update) when all
# are installed. Package maintainer scripts are prevented from starting services through a temporary
# /usr/sbin/policy-rc.d that exits 101 (an existing policy-rc.d is saved and put back).
cdrv_install_apt() {
  local missing=() p
  for p in "${CDRV_APT_PACKAGES[@]}" "$@"; do
    _cdrv_apt_installed "$p" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  if [ "$(id -u)" != 0 ]; then
    cdrv_log "cdrv_install_apt: missing ${missing[*]} and not root"
    return 1
  fi
  cdrv_log "apt: installing ${missing[*]}"
  local before
  before=$(_cdrv_apt_daemon_pids)
  # Subshell so the EXIT trap restores policy-rc.d whatever happens (set -e, errors, signals).
  (
    policy=/usr/sbin/policy-rc.d
    backup=$policy.cdrv-backup.$$
    restore() {
      rm -f "$policy"
      if [ -e "$backup" ]; then mv -f "$backup" "$policy"; fi
    }
    trap restore EXIT
    trap 'exit 130' INT TERM
    if [ -e "$policy" ]; then cp -a "$policy" "$backup"; fi
    printf '#!/bin/sh\n# written by cdrv_install_apt: do not start services\nexit 101\n' >"$policy.tmp.$$"
    chmod 755 "$policy.tmp.$$"
    mv -f "$policy.tmp.$$" "$policy"
    export DEBIAN_FRONTEND=noninteractive
    apt_opts=(-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 -q)
    apt-get "${apt_opts[@]}" update >&2
    apt-get "${apt_opts[@]}" install -y --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >&2
  )
  # Belt and braces: report any packaged daemon that appeared during the install (we did not start it).
  local after pid
  after=$(_cdrv_apt_daemon_pids)
  for pid in $after; do
    case " $before " in *" $pid "*) continue ;; esac
    # Ours (started by cdrv_*_start) carry a config path of their own; system services do not.
    local cmd
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
    case $cmd in
      *--config*/config.toml* | *docker-registry\ serve\ */config.yml*) ;;
      *) cdrv_log "apt: WARNING: a packaged service started during install: pid $pid ($cmd)" ;;
    esac
  done
  for p in "${missing[@]}"; do
    _cdrv_apt_installed "$p" || { cdrv_log "apt: $p still not installed"; return 1; }
  done
}
