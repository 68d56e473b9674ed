# Sourced after common.sh: second OCI runtimes for the modern (cgroup v2) test leg, built or unpacked into
# $CDRV_CACHE/stack (outside the repo; the SELinux/modern VM sees the cache at the same path). Functions
# only; nothing runs on source. Each installer is a no-op when the pinned version is already there.
#
#   cdrv_install_gvisor   runsc + containerd-shim-runsc-v1 into $(cdrv_gvisor_bin)
#   cdrv_gvisor_bin       prints that directory (put it first on containerd's PATH)
#
# gVisor: its `go` branch is the Go-buildable one (the master branch builds with Bazel only); the module
# proxy serves it as a pseudo-version of gvisor.dev/gvisor. Its go.mod has no replace lines, so
# `go install pkg@version` builds it as the main module would, with upstream's exact dependency versions.
# The shim's main package is gvisor.dev/gvisor/shim: `go install` names it `shim`, containerd looks for
# `containerd-shim-runsc-v1` on its PATH, so it is installed into a temp dir and renamed. runsc prints the
# version stamped with -X (otherwise "VERSION_MISSING"); that line is what marks a finished install.
# Pure Go (CGO_ENABLED=0), like upstream's release builds. Only the Go module proxy is used.

GVISOR_VERSION=v0.0.0-20260527191743-a81fd9dd382e
GVISOR_MODULE=gvisor.dev/gvisor

cdrv_gvisor_bin() { printf '%s\n' "$CDRV_CACHE/stack/gvisor-$GVISOR_VERSION/bin"; }

# Every step checks its own status: `set -e` is void when a caller writes `cdrv_install_gvisor || ...`.
cdrv_install_gvisor() {
  local bin t0=$SECONDS have
  bin=$(cdrv_gvisor_bin)
  have=$(_cdrv_runsc_version "$bin/runsc")
  if [ "$have" = "$GVISOR_VERSION" ] && [ -x "$bin/containerd-shim-runsc-v1" ]; then
    cdrv_log "gvisor: $GVISOR_VERSION already in $bin"
    return 0
  fi
  command -v go >/dev/null || { cdrv_log "gvisor: go is not installed"; return 1; }
  cdrv_log "gvisor: building runsc and containerd-shim-runsc-v1 $GVISOR_VERSION from the Go module proxy"
  # In a subshell, so that its exports and its temp dir's trap stay there.
  (_cdrv_gvisor_build "$bin") || { cdrv_log "gvisor: build of $GVISOR_VERSION failed"; return 1; }
  have=$(_cdrv_runsc_version "$bin/runsc")
  if [ "$have" != "$GVISOR_VERSION" ]; then
    cdrv_log "gvisor: built $bin/runsc, but it reports '${have:-nothing}', want '$GVISOR_VERSION'"
    return 1
  fi
  cdrv_log "gvisor: $GVISOR_VERSION built in $((SECONDS - t0)) s: $bin"
}

# The version `runsc --version` reports (its first line is "runsc version <v>"), or nothing.
_cdrv_runsc_version() {
  local out
  [ -x "$1" ] || return 0
  out=$("$1" --version 2>/dev/null) || return 0
  out=${out%%$'\n'*}
  printf '%s' "${out#runsc version }"
}

_cdrv_gvisor_build() {
  local bin=$1 tmp
  export GOWORK=off CGO_ENABLED=0
  mkdir -p "$bin" || return 1
  tmp=$(mktemp -d "$bin/.build.XXXXXX") || return 1
  # shellcheck disable=SC2064 # expanded now: $tmp is local, gone when the subshell exits
  trap "rm -rf '$tmp'" EXIT
  # Outside any module: `go install pkg@version` must not see a go.mod of the current directory.
  cd "$tmp" || return 1
  GOBIN=$tmp go install -trimpath -ldflags "-X $GVISOR_MODULE/runsc/version.version=$GVISOR_VERSION" \
    "$GVISOR_MODULE/runsc@$GVISOR_VERSION" "$GVISOR_MODULE/shim@$GVISOR_VERSION" || return 1
  # The shim first: runsc's version is the "installed" mark checked above.
  mv -f "$tmp/shim" "$bin/containerd-shim-runsc-v1" && mv -f "$tmp/runsc" "$bin/runsc"
}
