#!/usr/bin/env bash
# Reproduces the issuer figures in BENCHMARKS.md on loopback:
#  1. `issuer import` of N test results (default 1,000,000) into SQLite, timed,
#     and the same number of credentials issued with nothing read or stored
#     (wallet-core's sign_rate example), for the ratio of the two;
#  2. wrk against GET /v1/retrieve/{code}: first with codes never fetched
#     before, each once (every request also records a first fetch), then
#     with codes fetched in that run (re-fetches within the grace period);
#  3. oha at a fixed 23,300 requests/s (the target rate) with latency
#     measured from when each request was due, so a stall shows in p99
#     instead of slowing the load generator down, on codes never fetched
#     before (skipped, with a note, where oha is not installed);
#  4. wrk against GET /v1/trust-list, plain and with If-None-Match (304).
# Needs wrk (Debian package `wrk`); step 3 needs oha (`cargo install oha`).
# Usage: issuer/bench/run.sh [N] [seconds]
set -euo pipefail
N=${1:-1000000}
SECS=${2:-15}
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
cargo build --release -q -p issuer --manifest-path "$root/Cargo.toml"
cargo build --release -q -p wallet-core --example sign_rate --manifest-path "$root/Cargo.toml"
bin="$root/target/release/issuer"
work=$(mktemp -d /tmp/issuer-bench.XXXXXX)
cd "$work"
sampled=$(date -u -d '-1 hour' +%Y-%m-%dT%H:00:00Z)
awk -v n="$N" -v at="$sampled" 'BEGIN {
  print "sample_id,name,dob,test_type,result,sampled_at"; srand(1)
  for (i = 0; i < n; i++)
    printf "LT-%07d,Person %d,19%02d-0%d-1%d,naat,negative,%s\n", i, i, 30 + int(rand() * 70), 1 + int(rand() * 9), int(rand() * 10), at
}' > results.csv
echo "== import $N results into SQLite ($work)"
/usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB max RSS" -o import.time "$bin" import results.csv 2>&1 | grep -Ev "^credential ids|^\{"
cat import.time
# The signing the import cannot avoid, on the same cores in the same run:
# this machine's speed drifts, so the ratio is what compares across runs.
echo "== the same number of credentials issued alone (encode + sign, nothing read or stored)"
"$root/target/release/examples/sign_rate" "$N" | tee sign.txt
awk 'NR == FNR { import = $1; next } { for (i = 1; i < NF; i++) if ($i == "in") alone = $(i + 1) }
  END { printf "import / issuing alone = %.2f\n", import / alone }' import.time sign.txt
ls -l issuer-data/issuer.db | awk '{printf "database: %.0f MB\n", $5 / 1048576}'
# All codes in random order: wrk takes the first 60 % in order, oha draws
# from the last 40 %.
tail -n +2 results.csv.codes.csv | cut -d, -f5 | shuf > all-codes.txt
total=$(wc -l < all-codes.txt)
head -n $((total * 6 / 10)) all-codes.txt > codes.txt
tail -n +$((total * 6 / 10 + 1)) all-codes.txt | sed 's|^|http://127.0.0.1:18765/v1/retrieve/|' > paced-urls.txt
"$bin" serve --listen 127.0.0.1:18765 2>serve.log &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1:18765/healthz && break; sleep 0.2; done
cp "$root/issuer/bench/fetch.lua" .
wrk_lines="Requests/sec|Non-2xx|Socket errors|^ +(50|90|99)%"
echo "== citizen fetch, each code's first fetch ($(wc -l < codes.txt) codes, each once)"
wrk -t1 -c64 -d"${SECS}s" --latency -s fetch.lua http://127.0.0.1:18765 -- once | grep -E "$wrk_lines|requests in"
echo "== citizen fetch, codes fetched in the run before (within their grace period)"
wrk -t1 -c64 -d"${SECS}s" --latency -s fetch.lua http://127.0.0.1:18765 -- again 100000 | grep -E "$wrk_lines"
if command -v oha >/dev/null; then
  echo "== citizen fetch held at 23,300 requests/s, latency from when each was due ($(wc -l < paced-urls.txt) codes never fetched, drawn at random)"
  oha -z "${SECS}s" -c 64 -q 23300 --latency-correction -w --no-tui --urls-from-file paced-urls.txt \
    | grep -E "Success rate|Requests/sec|Slowest|^ +(50.00|99.00|99.90)% in|^ +\[[0-9]+\] [0-9]+ responses|^ +\[[0-9]+\] .*[a-z]"
else
  echo "== (oha is not installed: cargo install oha; skipping the run at a fixed 23,300 requests/s)"
fi
echo "== trust list"
wrk -t1 -c64 -d"${SECS}s" --latency http://127.0.0.1:18765/v1/trust-list | grep -E "$wrk_lines"
etag=$(curl -sI http://127.0.0.1:18765/v1/trust-list | tr -d '\r' | awk 'tolower($1) == "etag:" {print $2}')
echo "== trust list, If-None-Match (304)"
wrk -t1 -c64 -d"${SECS}s" --latency -H "If-None-Match: $etag" http://127.0.0.1:18765/v1/trust-list | grep -E "$wrk_lines"
echo "== server's own count (GET /metrics)"
curl -s http://127.0.0.1:18765/metrics | grep -E "^issuer_http_requests_total"
rm -rf "$work"
