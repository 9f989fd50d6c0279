#!/usr/bin/env bash
# Builds the browser apps into web/dist: the module (web/, for
# wasm32-unknown-unknown) through wasm-bindgen, the pages, and the service
# worker stamped with this build's version and files. `issuer serve`
# serves web/dist at /verify and /wallet; any static web server can too.
set -euo pipefail
cd "$(dirname "$0")/.."
# wasm-bindgen-cli must be exactly the version Cargo.lock pins.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
WB=""
for candidate in wasm-bindgen "target/tools/bin/wasm-bindgen"; do
  if command -v "$candidate" >/dev/null 2>&1 && [ "$("$candidate" --version | awk '{print $2}')" = "$WB_VERSION" ]; then
    WB=$candidate
    break
  fi
done
if [ -z "$WB" ]; then
  echo "installing wasm-bindgen-cli $WB_VERSION into target/tools (once; a few minutes)" >&2
  # Its own lock file first; where the registry lacks a version that file
  # names, the newest compatible dependencies.
  cargo install -q --root target/tools wasm-bindgen-cli --version "$WB_VERSION" --locked 2>/dev/null || {
    echo "wasm-bindgen-cli's locked dependencies are not all in the registry: installing with the newest compatible ones" >&2
    cargo install -q --root target/tools wasm-bindgen-cli --version "$WB_VERSION"
  }
  WB=target/tools/bin/wasm-bindgen
fi
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
# Binaryen's optimiser makes the modules a third smaller: the one npm
# installs in web/node_modules (cd web && npm ci), or one on the PATH from
# version 116 (older ones, Debian 12's 108 among them, break wasm-bindgen's
# reference-typed table).
find_wasm_opt() {
  WASM_OPT=""
  for candidate in web/node_modules/.bin/wasm-opt wasm-opt; do
    if command -v "$candidate" >/dev/null 2>&1; then
      v=$("$candidate" --version | awk '{print $3}')
      if [ "${v:-0}" -ge 116 ] 2>/dev/null; then WASM_OPT=$candidate; return; fi
    fi
  done
}
find_wasm_opt
# Where npm is, the pinned binaryen comes from web/package-lock.json (once).
if [ -z "$WASM_OPT" ] && command -v npm >/dev/null 2>&1; then
  echo "installing binaryen's wasm-opt with npm ci in web/ (once)" >&2
  if npm ci --prefix web --no-audit --no-fund --loglevel=error >&2; then find_wasm_opt; fi
fi
if [ -z "$WASM_OPT" ]; then
  echo "no wasm-opt from version 116 (cd web && npm ci): the modules are built unoptimised, a third larger" >&2
fi
OUT=web/dist
rm -rf "$OUT.new"
cp -r web/www "$OUT.new"
# Two modules: the page's (every decision) and the QR reader's (the Web
# Worker's), each built with only its half of the crate.
for part in device:health_web scan:health_scan; do
  feature=${part%%:*}
  name=${part##*:}
  cargo build -q -p health-web --lib --target wasm32-unknown-unknown --profile web-release \
    --no-default-features --features "$feature"
  "$WB" --target web --no-typescript --out-name "$name" --out-dir "$OUT.new/app" \
    target/wasm32-unknown-unknown/web-release/health_web.wasm
  if [ -n "$WASM_OPT" ]; then
    "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-reference-types --enable-multivalue \
      --enable-mutable-globals "$OUT.new/app/${name}_bg.wasm" -o "$OUT.new/app/${name}_bg.opt.wasm"
    mv "$OUT.new/app/${name}_bg.opt.wasm" "$OUT.new/app/${name}_bg.wasm"
  fi
done
# The service worker caches exactly this build's files, under its hash.
FILES=$(cd "$OUT.new" && find . -type f ! -name sw.js | sed 's|^\./||' | sort)
VERSION=$(cd "$OUT.new" && echo "$FILES" | xargs sha256sum | sha256sum | cut -c1-16)
LIST=$(echo "$FILES" | awk 'BEGIN {printf "["} {printf "%s\"%s\"", (NR>1?", ":""), $0} END {printf "]"}')
sed -i -e "s|__VERSION__|$VERSION|" -e "s|__FILES__|$LIST|" "$OUT.new/sw.js"
# Each file also precompressed (gzip -9, and brotli where node is here to
# make it), so a server sends a phone the smallest form it accepts.
for f in $(cd "$OUT.new" && find . -type f | sed 's|^\./||'); do
  gzip -9 -n -c "$OUT.new/$f" > "$OUT.new/$f.gz"
done
if command -v node >/dev/null 2>&1; then
  (cd "$OUT.new" && node -e '
    const fs = require("fs"), zlib = require("zlib");
    for (const f of process.argv.slice(1)) {
      const out = zlib.brotliCompressSync(fs.readFileSync(f), { params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: fs.statSync(f).size } });
      fs.writeFileSync(f + ".br", out);
    }' $(find . -type f ! -name '*.gz' | sed 's|^\./||'))
else
  echo "no node: the apps are precompressed with gzip only" >&2
fi
rm -rf "$OUT"
mv "$OUT.new" "$OUT"
for name in health_web health_scan; do
  WASM=$OUT/app/${name}_bg.wasm
  echo "web/dist: $name module $(stat -c %s "$WASM") bytes ($(stat -c %s "$WASM.gz") gzipped$( [ -f "$WASM.br" ] && echo ", $(stat -c %s "$WASM.br") brotli"))" >&2
done
echo "web/dist: version $VERSION" >&2
