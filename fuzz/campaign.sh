#!/usr/bin/env bash
# The long fuzz campaign: every target (or the ones named) until it has run
# RUNS inputs (default 10,000,000) or MAX_SECONDS have passed (default no
# limit), from the checked-in corpus, then the corpus minimised back into
# fuzz/corpus/<target>/ (`cargo fuzz cmin`) so CI starts from what it found.
# Prints one table row per target; exits non-zero on any crash, whose input
# is left in fuzz/artifacts/<target>/.
#   fuzz/campaign.sh                      # all targets, 10M runs each
#   RUNS=1000000 fuzz/campaign.sh cbor    # one target, shorter
set -euo pipefail
cd "$(dirname "$0")"
RUNS=${RUNS:-10000000}
MAX_SECONDS=${MAX_SECONDS:-0}
export RUSTC_BOOTSTRAP=1
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install -q --locked cargo-fuzz@0.13.2
fi
cargo fuzz build -O --sanitizer none
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
echo "| target | executions | seconds | exec/s | crashes | corpus before | corpus after (minimised) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "$scratch/$target"
  before=$(find "corpus/$target" -type f | wc -l)
  start=$(date +%s)
  log="$scratch/$target.log"
  crashes=0
  if ! cargo fuzz run -O --sanitizer none "$target" "corpus/$target" -- \
      -runs="$RUNS" -max_total_time="$MAX_SECONDS" -timeout=10 -rss_limit_mb=2048 \
      -max_len=262144 -print_final_stats=1 >"$log" 2>&1; then
    crashes=1
    status=1
    echo "fuzz $target: CRASH (the input is in fuzz/artifacts/$target/)" >&2
    tail -40 "$log" >&2
  fi
  secs=$(( $(date +%s) - start ))
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  # Minimise in place: the smallest set of inputs with the same coverage.
  cargo fuzz cmin -O --sanitizer none "$target" "corpus/$target" -- \
      -timeout=10 -rss_limit_mb=2048 -max_len=262144 >"$scratch/$target.cmin" 2>&1 \
    || { echo "fuzz $target: cmin failed" >&2; tail -20 "$scratch/$target.cmin" >&2; status=1; }
  after=$(find "corpus/$target" -type f | wc -l)
  echo "| $target | $runs | $secs | $(( runs / (secs > 0 ? secs : 1) )) | $crashes | $before | $after |"
done
exit $status
