# Sourced after common.sh: the modern leg's containerd and runc, built from the Go module proxy (no Debian
# package has them), cached in $CDRV_STACK_DIR outside the repo. The VM of the modern leg (scripts/vm.sh,
# profile modern) sees the cache at the same path and puts $CDRV_STACK_DIR/bin first on its PATH.
#
#   containerd, containerd-shim-runc-v2, ctr   github.com/containerd/containerd/v2 v$CONTAINERD2_VERSION
#   runc                                       github.com/opencontainers/runc v$RUNC_VERSION (-tags seccomp, cgo)
CDRV_STACK_DIR=$CDRV_CACHE/stack/containerd-$CONTAINERD2_VERSION-runc-$RUNC_VERSION

# cdrv_stack_bin: the directory of the binaries (put it first on PATH to use them).
cdrv_stack_bin() { printf '%s\n' "$CDRV_STACK_DIR/bin"; }

# True when every binary is there and reports the pinned version.
_cdrv_stack_ok() {
  local b=$CDRV_STACK_DIR/bin
  [ -x "$b/containerd-shim-runc-v2" ] && [ -x "$b/ctr" ] &&
    "$b/containerd" --version 2>/dev/null | grep -qE " v?$CONTAINERD2_VERSION([+ ]|$)" &&
    "$b/runc" --version 2>/dev/null | grep -q "^runc version $RUNC_VERSION$"
}

# cdrv_install_stack: builds what is missing (about 80 s on 2 cores with a warm module cache, 2 min cold).
cdrv_install_stack() {
  if _cdrv_stack_ok; then return 0; fi
  command -v go >/dev/null || { cdrv_log "stack: go is not installed"; return 1; }
  cdrv_install_apt libseccomp-dev pkg-config
  local t0=$SECONDS tmp=$CDRV_STACK_DIR/bin.tmp
  cdrv_log "stack: building containerd $CONTAINERD2_VERSION and runc $RUNC_VERSION from the Go module proxy"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local m=github.com/containerd/containerd/v2/cmd
  if ! GOBIN=$tmp GOFLAGS=-trimpath go install "$m/containerd@v$CONTAINERD2_VERSION" \
    "$m/containerd-shim-runc-v2@v$CONTAINERD2_VERSION" "$m/ctr@v$CONTAINERD2_VERSION" >&2; then
    cdrv_log "stack: building containerd $CONTAINERD2_VERSION failed"
    return 1
  fi
  if ! GOBIN=$tmp GOFLAGS=-trimpath CGO_ENABLED=1 go install -tags seccomp \
    "github.com/opencontainers/runc@v$RUNC_VERSION" >&2; then
    cdrv_log "stack: building runc $RUNC_VERSION failed"
    return 1
  fi
  rm -rf "$CDRV_STACK_DIR/bin"
  mv "$tmp" "$CDRV_STACK_DIR/bin"
  _cdrv_stack_ok || { cdrv_log "stack: the built binaries do not report the pinned versions"; return 1; }
  cdrv_log "stack: built in $((SECONDS - t0)) s: $CDRV_STACK_DIR/bin"
}
