# Sourced after common.sh: idempotent installers; each is a no-op when the pinned version is present.

cdrv_install_deno() {
  if [ -x "$CDRV_BIN/deno" ] && "$CDRV_BIN/deno" --version 2>/dev/null | grep -q "^deno $DENO_VERSION "; then return 0; fi
  cdrv_log "installing deno $DENO_VERSION from npm"
  mkdir -p "$CDRV_CACHE/deno"
  npm install --silent --no-audit --no-fund --prefix "$CDRV_CACHE/deno" "deno@$DENO_VERSION" >&2
  local bin
  bin=$(ls -d "$CDRV_CACHE"/deno/node_modules/@deno/linux-*/deno | head -1)
  ln -sf "$bin" "$CDRV_BIN/deno"
  "$CDRV_BIN/deno" --version >&2
}

cdrv_install_codegen() {
  if [ -x "$CDRV_CACHE/tools/node_modules/.bin/buf" ] &&
    [ "$("$CDRV_CACHE/tools/node_modules/.bin/buf" --version)" = "$BUF_VERSION" ] &&
    grep -q "\"version\": \"$TS_PROTO_VERSION\"" "$CDRV_CACHE/tools/node_modules/ts-proto/package.json" 2>/dev/null &&
    grep -q "\"version\": \"$ASC_VERSION\"" "$CDRV_CACHE/tools/node_modules/assemblyscript/package.json" 2>/dev/null &&
    grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" "$CDRV_CACHE/tools/node_modules/playwright-core/package.json" 2>/dev/null; then
    return 0
  fi
  cdrv_log "installing buf $BUF_VERSION, ts-proto $TS_PROTO_VERSION, assemblyscript $ASC_VERSION, playwright-core $PLAYWRIGHT_VERSION"
  mkdir -p "$CDRV_CACHE/tools"
  npm install --silent --no-audit --no-fund --prefix "$CDRV_CACHE/tools" \
    "@bufbuild/buf@$BUF_VERSION" "ts-proto@$TS_PROTO_VERSION" "assemblyscript@$ASC_VERSION" \
    "playwright-core@$PLAYWRIGHT_VERSION" >&2
}
