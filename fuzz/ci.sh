#!/usr/bin/env bash
# Every fuzz target for a few seconds each, from the checked-in corpus
# (fuzz/corpus/<target>/), failing on the first crash, panic, timeout or
# out-of-memory. CI runs it (.ci/run); a long campaign is the same command
# with more seconds:   fuzz/ci.sh 3600
#
# The machine has one stable Rust toolchain and no other can be fetched, so
# libFuzzer's nightly flags are enabled with RUSTC_BOOTSTRAP on it, and the
# targets are built without a sanitizer (Rust code; a panic is the crash
# this finds). New inputs found are kept in a scratch folder, not in the
# corpus: `cargo fuzz cmin` is for the long campaign.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${1:-20}
export RUSTC_BOOTSTRAP=1
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install -q --locked cargo-fuzz@0.13.2
fi
cargo fuzz build -O --sanitizer none
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
for target in $(cargo fuzz list); do
  mkdir -p "corpus/$target" "$scratch/$target"
  start=$(date +%s)
  log="$scratch/$target.log"
  if cargo fuzz run -O --sanitizer none "$target" "$scratch/$target" "corpus/$target" -- \
      -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
      -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    echo "fuzz $target: $runs executions in $(( $(date +%s) - start )) s, no crash"
  else
    echo "fuzz $target: FAILED (the input is in fuzz/artifacts/$target/)" >&2
    tail -40 "$log" >&2
    status=1
  fi
done
exit $status
