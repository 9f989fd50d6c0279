#!/usr/bin/env bash
# Reproduces the issuer figures in BENCHMARKS.md on loopback:
#  1. `issuer import` of N test results (default 1,000,000) into SQLite, timed,
#     and the same number of credentials issued with nothing read or stored
#     (wallet-core's sign_rate example), for the ratio of the two;
#  2. wrk against GET /v1/retrieve/{code} with 100,000 codes never fetched
#     before (so every code's first fetch also records it), then again with
#     the same codes (re-fetches within the grace period);
#  3. wrk against GET /v1/trust-list, plain and with If-None-Match (304).
# Needs wrk (Debian package `wrk`). Usage: issuer/bench/run.sh [N] [seconds]
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
tail -n +2 results.csv.codes.csv | cut -d, -f5 | shuf -n 100000 > codes.txt
"$bin" serve --listen 127.0.0.1:18765 2>serve.log &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1:18765/healthz && break; sleep 0.2; done
cp "$root/issuer/bench/fetch.lua" .
echo "== citizen fetch, first fetch of each code"
wrk -t1 -c64 -d"${SECS}s" --latency -s fetch.lua http://127.0.0.1:18765 | grep -E "Requests/sec|Non-2xx|Socket errors|^ +(50|90|99)%"
echo "== citizen fetch, the same codes again (within their grace period)"
wrk -t1 -c64 -d"${SECS}s" --latency -s fetch.lua http://127.0.0.1:18765 | grep -E "Requests/sec|Non-2xx|Socket errors|^ +(50|90|99)%"
echo "== trust list"
wrk -t1 -c64 -d"${SECS}s" --latency http://127.0.0.1:18765/v1/trust-list | grep -E "Requests/sec|Non-2xx|Socket errors|^ +(50|90|99)%"
etag=$(curl -sI http://127.0.0.1:18765/v1/trust-list | tr -d '\r' | awk 'tolower($1) == "etag:" {print $2}')
echo "== trust list, If-None-Match (304)"
wrk -t1 -c64 -d"${SECS}s" --latency -H "If-None-Match: $etag" http://127.0.0.1:18765/v1/trust-list | grep -E "Requests/sec|Non-2xx|Socket errors|^ +(50|90|99)%"
echo "== server's own count (GET /metrics)"
curl -s http://127.0.0.1:18765/metrics | grep -E "^issuer_http_requests_total"
rm -rf "$work"
