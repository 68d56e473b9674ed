#!/usr/bin/env bash
# Writes the release artifacts to dist/ from the bundle build (bin/containerd-driver + .js, see build.sh):
#
#   containerd-driver_<version>_linux_amd64.tar.gz   launcher, bundle (3 files), Deno runtime (npm @deno/linux-x64-glibc),
#                                                    licences, README.md, VERSION; plugin/ holds a symlink
#   containerd-driver_<version>_linux_arm64.tar.gz   the same with npm @deno/linux-arm64-glibc, when npm serves it
#   containerd-driver_<version>_<arch>.deb           the same tree under /usr/lib/containerd-driver/
#   SHA256SUMS
#
# Nothing in them names a path of this machine: the launcher finds everything beside its resolved path.
# Run through `./scripts/build.sh --release`, which builds the bundle form first.
source "$(dirname "$0")/lib/common.sh"
cd "$CDRV_ROOT"

deno="$CDRV_BIN/deno"
for f in "${CDRV_BUNDLE_FILES[@]}"; do
  [ -f "bin/$f" ] || { echo "release.sh: bin/$f is missing; run ./scripts/build.sh --release" >&2; exit 1; }
done
head -1 bin/containerd-driver | grep -q '^#!/bin/sh' ||
  { echo "release.sh: bin/ holds no bundle build; run ./scripts/build.sh --release" >&2; exit 1; }
version=$("$deno" eval --no-config 'import { PLUGIN_VERSION } from "./src/version.ts"; console.log(PLUGIN_VERSION)')
commit=$(cdrv_commit)
# Archive timestamps: the commit's, so two builds of one commit give the same tree.
epoch=$(git log -1 --format=%ct 2>/dev/null || date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/cdrv-release.XXXXXX")
trap 'rm -rf "$work"' EXIT
out=dist
mkdir -p "$out"
rm -f "$out"/containerd-driver_*.tar.gz "$out"/containerd-driver_*.deb "$out/SHA256SUMS"

# runtime_dir ARCH: a directory holding the npm package of Deno's runtime for ARCH at DENO_VERSION, and
# writes its integrity to $work/integrity-ARCH; fails when npm does not serve it.
runtime_dir() {
  local npmarch=$1 pkg="@deno/linux-$1-glibc"
  if [ "$npmarch" = x64 ] && [ -x "$CDRV_CACHE/deno/node_modules/$pkg/deno" ]; then
    sed -n "/\"node_modules\/@deno\/linux-x64-glibc\"/,/}/s/.*\"integrity\": \"\([^\"]*\)\".*/\1/p" \
      "$CDRV_CACHE/deno/package-lock.json" >"$work/integrity-$npmarch"
    echo "$CDRV_CACHE/deno/node_modules/$pkg"
    return
  fi
  local cache="$CDRV_CACHE/deno-runtime/$npmarch-$DENO_VERSION"
  if [ ! -x "$cache/package/deno" ]; then
    mkdir -p "$cache"
    # npm pack checks the tarball against the registry's integrity.
    (cd "$cache" && npm pack --silent --json "$pkg@$DENO_VERSION" >pack.json 2>/dev/null) || return 1
    tar -xzf "$cache"/*.tgz -C "$cache"
  fi
  sed -n 's/.*"integrity": "\([^"]*\)".*/\1/p' "$cache/pack.json" | head -1 >"$work/integrity-$npmarch"
  echo "$cache/package"
}

# licences DEST: the project's LICENSE (Apache-2.0), Deno's, and each npm package the bundle
# inlines (named in it as npm:<package>/<version>/), from DENO_DIR's npm cache.
licences() {
  local dest=$1 pkg ver dir f
  mkdir -p "$dest"
  cp LICENSE "$dest/containerd-driver.LICENSE" || { cdrv_log "release: the repo's LICENSE is missing"; return 1; }
  cp "$CDRV_CACHE/deno/node_modules/deno/LICENSE" "$dest/deno.LICENSE"
  grep -oh 'npm:\(@[a-z0-9._-]*/\)\?[a-z0-9._-]*/[0-9][^/]*/' "${CDRV_BUNDLE_FILES[@]/#/bin/}" | sort -u |
    while read -r ref; do
      ref=${ref#npm:}
      ref=${ref%/}
      pkg=${ref%/*}
      ver=${ref##*/}
      dir="$DENO_DIR/npm/registry.npmjs.org/$pkg/$ver"
      f=$(find "$dir" -maxdepth 1 -type f -iregex '.*/\(licen[cs]e\|copying\)\(\.[a-z]*\)?' | head -1)
      if [ -n "$f" ]; then
        cp "$f" "$dest/${pkg//\//__}@$ver.LICENSE"
      else
        # The package ships no licence text: say what its package.json declares and where the text is.
        "$deno" eval --no-config "const p = JSON.parse(Deno.readTextFileSync('$dir/package.json'));
          console.log(p.name + ' ' + p.version + ' ships no licence file in its npm package.');
          console.log('Its package.json declares: ' + p.license);
          console.log('Upstream: ' + (p.repository?.url ?? p.homepage ?? '(none named)'));" \
          >"$dest/${pkg//\//__}@$ver.LICENSE-NOTE"
      fi
    done
}

# tree ARCH NPMARCH DEST: the installed tree, identical in the tarball and the .deb.
tree() {
  local arch=$1 npmarch=$2 dest=$3 rt
  rt=$(runtime_dir "$npmarch") || return 1
  mkdir -p "$dest/runtime" "$dest/plugin"
  install -m 0755 bin/containerd-driver "$dest/containerd-driver"
  for f in "${CDRV_BUNDLE_FILES[@]}"; do install -m 0644 "bin/$f" "$dest/$f"; done
  install -m 0755 "$rt/deno" "$dest/runtime/deno"
  {
    echo "npm package: @deno/linux-$npmarch-glibc@$DENO_VERSION"
    echo "npm integrity: $(cat "$work/integrity-$npmarch")"
    echo "sha256 of deno: $(sha256sum "$dest/runtime/deno" | cut -d' ' -f1)"
  } >"$dest/runtime/SOURCE"
  ln -s ../containerd-driver "$dest/plugin/containerd-driver"
  licences "$dest/LICENSES"
  sed -e "s|@VERSION@|$version|g" -e "s|@ARCH@|$arch|g" -e "s|@DENO_VERSION@|$DENO_VERSION|g" \
    -e "s|@DENO_PACKAGE@|@deno/linux-$npmarch-glibc|g" scripts/release-readme.md >"$dest/README.md"
  printf 'containerd-driver %s\ncommit %s\ndeno %s\n' "$version" "$commit" "$DENO_VERSION" >"$dest/VERSION"
}

# tarball ARCH NPMARCH: dist/containerd-driver_<version>_linux_<arch>.tar.gz
tarball() {
  local name="containerd-driver_${version}_linux_$1"
  tree "$1" "$2" "$work/$name" || return 1
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$work" -cf - "$name" |
    gzip -n >"$out/$name.tar.gz"
  cdrv_log "release: $out/$name.tar.gz ($(du -h "$out/$name.tar.gz" | cut -f1))"
}

# deb ARCH: dist/containerd-driver_<version>_<arch>.deb from the tarball's tree.
deb() {
  local arch=$1 name="containerd-driver_${version}_linux_$1" root="$work/deb-$1"
  mkdir -p "$root/usr/lib" "$root/DEBIAN"
  cp -a "$work/$name" "$root/usr/lib/containerd-driver"
  cat >"$root/DEBIAN/control" <<EOF
Package: containerd-driver
Version: $version
Architecture: $arch
Maintainer: $(git log --reverse --format='%an <%ae>' 2>/dev/null | head -1)
Section: admin
Priority: optional
Recommends: containerd, runc
Installed-Size: $(du -sk "$root/usr" | cut -f1)
Description: Nomad task driver for containerd (with its own Deno runtime)
 Point the Nomad agent's plugin_dir at /usr/lib/containerd-driver/plugin, or copy the
 symlink there into your plugin_dir. See /usr/lib/containerd-driver/README.md.
EOF
  find "$root" -exec touch -h -d "@$epoch" {} +
  dpkg-deb --root-owner-group -Zgzip -z6 --build "$root" "$out/containerd-driver_${version}_$arch.deb" >/dev/null
  cdrv_log "release: $out/containerd-driver_${version}_$arch.deb"
}

tarball amd64 x64
deb amd64
if tarball arm64 arm64; then
  deb arm64
else
  cdrv_log "release: npm does not serve @deno/linux-arm64-glibc@$DENO_VERSION: no arm64 artifacts"
fi
(cd "$out" && sha256sum -- *.tar.gz *.deb >SHA256SUMS)
cdrv_log "release: $(cd "$out" && ls | tr '\n' ' ')"
