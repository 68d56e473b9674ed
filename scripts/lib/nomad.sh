# Sourced after common.sh. Builds the pinned Nomad release from source into $CDRV_BIN/nomad.
#
# There is no Nomad package to install here, but the Go module proxy is reachable, so Nomad is
# built with `go build` from a small wrapper module of our own in $CDRV_CACHE (outside the repo).
# `go install github.com/hashicorp/nomad@vX` does not work: Nomad's go.mod has `replace` lines,
# and replace lines only count in the main module.
#
# The wrapper's go.mod is the release's own go.mod (and its go.sum), with three edits:
#   - module path renamed, and a require of github.com/hashicorp/nomad at the release;
#   - `replace github.com/hashicorp/nomad/api => ./api` dropped: api/ is a nested module and is not
#     in the release zip. Instead nomad/api is required at the release's own commit, as the
#     pseudo-version v0.0.0-<commit time>-<commit[:12]>;
#   - everything else (the other replaces, every require, the go line) stays as upstream has it,
#     so the dependency versions and the GODEBUG defaults are exactly those of the release.
# No `go mod tidy`: it would drop Nomad's pins and chase test-only imports of dependencies.
# `go build -mod=mod github.com/hashicorp/nomad` then builds the dependency's main package
# (it sits at the module root and cannot be imported, so the wrapper has no main of its own;
# tools.go only records the dependency for humans and tools).
#
# Build flags copy Nomad's release build: -trimpath, tags `ui codegen_generated release` (embedded
# web UI, generated msgpack codecs, no test-only drivers), -X version.GitCommit/BuildDate.
# cgo stays on when a C compiler exists: the exec driver's executor uses runc's nsenter (cgo).
#
# Only the Go module proxy is used (GOPROXY, GOSUMDB and GOFLAGS are left as configured). The Go
# build and module caches are the defaults, so a rebuild after deleting the binary is quick.
#
# The module proxy must serve nomad/api at the release commit. Not every commit is served by
# every proxy: see the error message below.

NOMAD_GO_TAGS=${NOMAD_GO_TAGS:-ui codegen_generated release}

# Every step checks its own status: `set -e` is void when a caller writes
# `cdrv_install_nomad || ...`, and a failed step must not let the next one run.
cdrv_install_nomad() {
  local bin=$CDRV_BIN/nomad want="Nomad v$NOMAD_VERSION" have="" t0=$SECONDS
  if ! cdrv_nomad_is_ours; then
    have=$(_cdrv_nomad_version "$CDRV_NOMAD_BIN")
    if [[ -z $have ]]; then
      cdrv_log "nomad: CDRV_NOMAD_BIN=$CDRV_NOMAD_BIN does not run (\`$CDRV_NOMAD_BIN version\` failed)"
      return 1
    fi
    cdrv_log "nomad: using CDRV_NOMAD_BIN=$CDRV_NOMAD_BIN ($have); nothing is built"
    return 0
  fi
  have=$(_cdrv_nomad_version "$bin")
  if [[ $have == "$want" ]]; then
    cdrv_log "nomad: $want already at $bin"
    return 0
  fi
  [[ -z $have ]] || cdrv_log "nomad: $bin reports '$have', want '$want': rebuilding"
  command -v go >/dev/null || { cdrv_log "nomad: go is not installed"; return 1; }

  # In a subshell, so that its cd and exports stay there.
  ( _cdrv_nomad_build ) || { cdrv_log "nomad: build of v$NOMAD_VERSION failed"; return 1; }

  have=$(_cdrv_nomad_version "$bin")
  if [[ $have != "$want" ]]; then
    cdrv_log "nomad: built $bin, but it reports '${have:-nothing}', want '$want'"
    return 1
  fi
  cdrv_log "nomad: $want built in $((SECONDS - t0))s: $bin"
}

# First line of `nomad version` ("Nomad vX.Y.Z"), or nothing.
_cdrv_nomad_version() {
  local out
  [[ -x $1 ]] || return 0
  out=$("$1" version 2>/dev/null) || return 0
  printf '%s' "${out%%$'\n'*}"
}

_cdrv_nomad_build() {
  local mod=github.com/hashicorp/nomad dir=$CDRV_CACHE/nomad-build/v$NOMAD_VERSION
  mkdir -p "$dir" && cd "$dir" || return 1
  export GOWORK=off
  if command -v "$(go env CC)" >/dev/null 2>&1; then
    export CGO_ENABLED=1
  else
    export CGO_ENABLED=0
    cdrv_log "nomad: no C compiler: CGO_ENABLED=0 (Nomad's own exec driver will not work)"
  fi

  # Outside any module while we query the proxy.
  rm -f go.mod go.sum tools.go || return 1
  cdrv_log "nomad: downloading $mod@v$NOMAD_VERSION"
  go mod download "$mod@v$NOMAD_VERSION" >&2 || return 1
  local fields gomod srcdir commit ctime
  fields=$(go list -m \
    -f '{{.GoMod}}|{{.Dir}}|{{with .Origin}}{{.Hash}}{{end}}|{{with .Time}}{{.UTC.Format "20060102150405"}}{{end}}' \
    "$mod@v$NOMAD_VERSION") || return 1
  IFS='|' read -r gomod srcdir commit ctime <<<"$fields"
  if [[ -n $commit && $commit != "$NOMAD_COMMIT" ]]; then
    cdrv_log "nomad: v$NOMAD_VERSION is commit $commit, but NOMAD_COMMIT=$NOMAD_COMMIT"
    return 1
  fi
  if [[ -z $ctime || ! -f $gomod ]]; then
    cdrv_log "nomad: the proxy gave no go.mod or commit time for v$NOMAD_VERSION"
    return 1
  fi

  # nomad/api at the release commit: the pseudo-version is computed (the tag's commit time and
  # the short hash); a proxy that resolves raw commits is asked second.
  local api_ver=v0.0.0-$ctime-${NOMAD_COMMIT:0:12}
  if ! go mod download "$mod/api@$api_ver" 2>/dev/null; then
    if ! api_ver=$(go list -m -f '{{.Version}}' "$mod/api@$NOMAD_COMMIT" 2>/dev/null) ||
      ! go mod download "$mod/api@$api_ver" 2>/dev/null; then
      cdrv_log "nomad: the module proxy does not serve $mod/api at v$NOMAD_VERSION's commit"
      cdrv_log "nomad: (tried v0.0.0-$ctime-${NOMAD_COMMIT:0:12} and @$NOMAD_COMMIT)."
      cdrv_log "nomad: an api of another commit would build a Nomad that is not the release: refusing."
      cdrv_log "nomad: pin a release whose api commit the proxy serves (v1.6.3 is known to work here)."
      return 1
    fi
  fi

  # A local-directory replace other than ./api would need the same treatment as api.
  local locals
  locals=$(awk '/=>[ \t]*\.\.?\// { sub(/^replace[ \t]+/, ""); print $1 }' "$gomod" | grep -vx "$mod/api")
  if [[ -n $locals ]]; then
    cdrv_log "nomad: v$NOMAD_VERSION's go.mod has local replaces this script does not handle: $locals"
    return 1
  fi

  cdrv_log "nomad: wrapper module in $dir (api $api_ver)"
  cp "$gomod" go.mod && chmod u+w go.mod || return 1
  if [[ -f $srcdir/go.sum ]]; then
    cp "$srcdir/go.sum" go.sum && chmod u+w go.sum || return 1
  fi
  go mod edit -module=cdrv.local/nomad-build -dropreplace="$mod/api" \
    -require="$mod@v$NOMAD_VERSION" -require="$mod/api@$api_ver" || return 1
  printf '%s\n' '//go:build tools' '' \
    '// Package tools records that this module exists to build '"$mod"' (scripts/lib/nomad.sh).' \
    'package tools' '' 'import _ "'"$mod"'"' >tools.go || return 1
  local r
  while IFS= read -r r; do cdrv_log "nomad: replace $r"; done < <(awk '
    /^replace[ \t]*\(/ { b = 1; next }
    b && /^\)/ { b = 0; next }
    b { sub(/^[ \t]+/, ""); print; next }
    /^replace[ \t]/ { sub(/^replace[ \t]+/, ""); print }' go.mod)

  cdrv_log "nomad: go build (tags: $NOMAD_GO_TAGS; cgo $CGO_ENABLED); a first build takes minutes"
  local ldflags="-X $mod/version.GitCommit=$NOMAD_COMMIT"
  ldflags+=" -X $mod/version.BuildDate=${ctime:0:4}-${ctime:4:2}-${ctime:6:2}T${ctime:8:2}:${ctime:10:2}:${ctime:12:2}Z"
  local tmp=$CDRV_BIN/.nomad.tmp.$BASHPID
  if ! go build -mod=mod -trimpath -tags "$NOMAD_GO_TAGS" -ldflags "$ldflags" -o "$tmp" "$mod" >&2; then
    rm -f "$tmp"
    return 1
  fi
  mv -f "$tmp" "$CDRV_BIN/nomad" || { rm -f "$tmp"; return 1; }
}
