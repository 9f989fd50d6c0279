#!/usr/bin/env bash
# What a browser downloads: the wasm32 module of wallet-core's stand-in for
# the browser apps (examples/wasm_size.rs), built with each feature set in
# one run. Custom sections are dropped before measuring (wasm-bindgen
# consumes its own metadata section, and names are not shipped), so the
# figures are the code and data a browser fetches: bytes, gzipped bytes,
# and the gzipped ratio to the minimal build.
#   wallet-core/bench/wasm-size.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
out=target/wasm32-unknown-unknown/wasm-release/examples/wasm_size.wasm
shipped=$(mktemp)
trap 'rm -f "$shipped"' EXIT
build() {
  cargo build -q -p wallet-core --example wasm_size --target wasm32-unknown-unknown \
    --profile wasm-release --no-default-features ${1:+--features "$1"}
  python3 - "$out" "$shipped" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
assert data[:4] == b"\0asm", "not a wasm module"
kept, i = bytearray(data[:8]), 8
while i < len(data):
    start, section = i, data[i]
    i += 1
    size = shift = 0
    while True:
        b = data[i]; i += 1
        size |= (b & 0x7F) << shift; shift += 7
        if b < 0x80:
            break
    i += size
    if section != 0:  # 0: a custom section (names, producers, wasm-bindgen metadata)
        kept += data[start:i]
open(sys.argv[2], "wb").write(kept)
PY
  echo "$(stat -c %s "$shipped") $(gzip -9 -c "$shipped" | wc -c)"
}
read -r min_raw min_gz < <(build "")
printf '| features | bytes | gzipped | / minimal (gzipped) |\n|---|---:|---:|---:|\n'
printf '| (none: --no-default-features) | %s | %s | 1.00 |\n' "$min_raw" "$min_gz"
for features in qr-render qr-scan qr-read sheet "qr-read,qr-png,sheet"; do
  read -r raw gz < <(build "$features")
  label=$features
  [ "$features" = "qr-read,qr-png,sheet" ] && label="default (qr-read, qr-png, sheet)"
  printf '| %s | %s | %s | %s |\n' "$label" "$raw" "$gz" \
    "$(awk -v a="$gz" -v b="$min_gz" 'BEGIN { printf "%.2f", a / b }')"
done
