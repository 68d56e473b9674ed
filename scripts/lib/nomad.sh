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

cdrv_install_nomad() {
  local bin=$CDRV_BIN/nomad want="Nomad v$NOMAD_VERSION" have=""
  if [[ -x $bin ]]; then
    have=$("$bin" version 2>/dev/null || true)
    have=${have%%$'\n'*}
    if [[ $have == "$want" ]]; then
      cdrv_log "nomad: $want already at $bin"
      return 0
    fi
    cdrv_log "nomad: $bin reports '${have:-nothing}', want '$want': rebuilding"
  fi
  command -v go >/dev/null || { cdrv_log "nomad: go is not installed"; return 1; }

  local dir=$CDRV_CACHE/nomad-build/v$NOMAD_VERSION
  local t0=$SECONDS
  mkdir -p "$dir"
  (
    set -euo pipefail
    cd "$dir"
    export GOWORK=off
    local mod=github.com/hashicorp/nomad
    if command -v "$(go env CC)" >/dev/null 2>&1; then
      export CGO_ENABLED=1
    else
      export CGO_ENABLED=0
      cdrv_log "nomad: no C compiler: CGO_ENABLED=0 (Nomad's own exec driver will not work)"
    fi

    # Outside any module while we query the proxy.
    rm -f go.mod go.sum tools.go
    cdrv_log "nomad: downloading $mod@v$NOMAD_VERSION"
    go mod download "$mod@v$NOMAD_VERSION" >&2
    local fields gomod srcdir commit ctime
    fields=$(go list -m -f '{{.GoMod}}|{{.Dir}}|{{with .Origin}}{{.Hash}}{{end}}|{{with .Time}}{{.UTC.Format "20060102150405"}}{{end}}' \
      "$mod@v$NOMAD_VERSION")
    IFS='|' read -r gomod srcdir commit ctime <<<"$fields"
    if [[ -n $commit && $commit != "$NOMAD_COMMIT" ]]; then
      cdrv_log "nomad: v$NOMAD_VERSION is commit $commit, but NOMAD_COMMIT=$NOMAD_COMMIT"
      exit 1
    fi
    [[ -n $ctime ]] || { cdrv_log "nomad: proxy gave no commit time for v$NOMAD_VERSION"; exit 1; }

    # nomad/api at the release commit. The pseudo-version is computed (commit time of the tag,
    # short hash); a proxy that resolves raw commits is asked second.
    local api_ver=v0.0.0-$ctime-${NOMAD_COMMIT:0:12}
    if ! go mod download "$mod/api@$api_ver" 2>/dev/null; then
      api_ver=$(go list -m -f '{{.Version}}' "$mod/api@$NOMAD_COMMIT" 2>/dev/null) &&
        go mod download "$mod/api@$api_ver" 2>/dev/null || {
        cdrv_log "nomad: the module proxy does not serve $mod/api at v$NOMAD_VERSION's commit"
        cdrv_log "nomad: (tried v0.0.0-$ctime-${NOMAD_COMMIT:0:12} and @$NOMAD_COMMIT)."
        cdrv_log "nomad: An api of another commit builds a Nomad that is not the release: refusing."
        cdrv_log "nomad: Pin a release whose api commit the proxy serves (v1.10.5 is known to work here)."
        exit 1
      }
    fi

    # Local-directory replaces other than ./api would need the same treatment as api.
    local locals
    locals=$(awk '/=>[ \t]*\.\.?\// { sub(/^replace[ \t]+/, ""); print $1 }' "$gomod" | grep -vx "$mod/api" || true)
    if [[ -n $locals ]]; then
      cdrv_log "nomad: go.mod of v$NOMAD_VERSION has local replaces this script does not handle: $locals"
      exit 1
    fi

    cdrv_log "nomad: wrapper module in $dir (api $api_ver)"
    cp "$gomod" go.mod
    chmod u+w go.mod
    if [[ -f $srcdir/go.sum ]]; then cp "$srcdir/go.sum" go.sum && chmod u+w go.sum; fi
    go mod edit -module=cdrv.local/nomad-build -dropreplace="$mod/api" \
      -require="$mod@v$NOMAD_VERSION" -require="$mod/api@$api_ver"
    cat >tools.go <<EOF
//go:build tools

// Package tools records that this module exists to build $mod (scripts/lib/nomad.sh).
package tools

import _ "$mod"
EOF
    local r
    while IFS= read -r r; do cdrv_log "nomad: replace $r"; done < <(awk '
      /^replace[ \t]*\(/ { b = 1; next }
      b && /^\)/ { b = 0; next }
      b { sub(/^[ \t]+/, ""); print; next }
      /^replace[ \t]/ { sub(/^replace[ \t]+/, ""); print }' go.mod)

    cdrv_log "nomad: go build (tags: $NOMAD_GO_TAGS; cgo $CGO_ENABLED); the first build takes minutes"
    local ldflags="-X $mod/version.GitCommit=$NOMAD_COMMIT"
    ldflags+=" -X $mod/version.BuildDate=${ctime:0:4}-${ctime:4:2}-${ctime:6:2}T${ctime:8:2}:${ctime:10:2}:${ctime:12:2}Z"
    local tmp=$CDRV_BIN/.nomad.tmp.$$
    trap 'rm -f "$tmp"' EXIT
    go build -mod=mod -trimpath -tags "$NOMAD_GO_TAGS" -ldflags "$ldflags" -o "$tmp" "$mod" >&2
    mv -f "$tmp" "$CDRV_BIN/nomad"
  ) || return 1

  have=$("$bin" version 2>/dev/null || true)
  have=${have%%$'\n'*}
  if [[ $have != "$want" ]]; then
    cdrv_log "nomad: built $bin, but it reports '${have:-nothing}', want '$want'"
    return 1
  fi
  cdrv_log "nomad: $want built in $((SECONDS - t0))s: $bin"
}
