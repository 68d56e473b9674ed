#!/usr/bin/env bash
# Regenerates src/gen/ from proto/ with buf + ts-proto (pinned, installed into the cache).
source "$(dirname "$0")/lib/common.sh"
source "$CDRV_ROOT/scripts/lib/install.sh"
cdrv_install_codegen
cd "$CDRV_ROOT/proto"
rm -rf "$CDRV_ROOT/src/gen"
PATH=$CDRV_CACHE/tools/node_modules/.bin:$PATH buf generate
# generated files are not ours to lint or format
find "$CDRV_ROOT/src/gen" -name '*.ts' -exec sed -i '1s|^|// deno-lint-ignore-file\n|' {} +
cdrv_log "codegen: $(find "$CDRV_ROOT/src/gen" -name '*.ts' | wc -l) files in src/gen"
