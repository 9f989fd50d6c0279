#!/usr/bin/env bash
# Capacity through HAProxy (deploy/haproxy.cfg) in front of one issuer node
# and in front of two on one PostgreSQL, on loopback, each figure beside the
# same request sent straight to one node without the proxy, all in one run
# (docs/capacity.md):
#  - the citizen's first fetch (GET /v1/retrieve/{code}, every request a
#    code never fetched, so each also writes its first-fetch record);
#  - a lab's single submission (POST /v1/credentials, each a new sample:
#    signed and committed);
#  - the trust list (GET /v1/trust-list), which the proxy serves from its
#    cache.
# Everything shares this machine's cores: PostgreSQL, the nodes, HAProxy and
# wrk. Say so when quoting a figure.
# Needs wrk, haproxy, psql and a PostgreSQL server whose admin URL is in
# ISSUER_BENCH_POSTGRES_URL (a new database is made in it and dropped).
# Usage: ISSUER_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
#          issuer/bench/nodes.sh [N codes imported, default 300000] [seconds, default 8]
set -euo pipefail
N=${1:-300000}
SECS=${2:-8}
PG=${ISSUER_BENCH_POSTGRES_URL:?give the PostgreSQL admin URL in ISSUER_BENCH_POSTGRES_URL}
for tool in wrk haproxy psql curl; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done
root=$(cd "$(dirname "$0")/../.." && pwd)
cargo build --release -q -p issuer --manifest-path "$root/Cargo.toml"
bin="$root/target/release/issuer"
work=$(mktemp -d /tmp/issuer-nodes.XXXXXX)
cd "$work"
db="issuer_capacity_$$"
psql "$PG" -q -c "CREATE DATABASE $db"
export ISSUER_DATABASE_URL="${PG%/*}/$db"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$PG" -q -c "DROP DATABASE IF EXISTS $db" || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" init --data a --node node-a 2>/dev/null
sampled=$(date -u -d '-1 hour' +%Y-%m-%dT%H:00:00Z)
awk -v n="$N" -v at="$sampled" 'BEGIN {
  print "sample_id,name,dob,test_type,result,sampled_at"
  for (i = 0; i < n; i++) printf "CP-%07d,Person %d,1980-01-01,naat,negative,%s\n", i, i, at
}' > results.csv
echo "== import $N results into PostgreSQL (for the codes to fetch)"
/usr/bin/time -f "%e s" "$bin" import results.csv --data a 2>&1 | grep -Ev "^credential ids|^\{" | tail -1
tail -n +2 results.csv.codes.csv | cut -d, -f5 | shuf > all-codes.txt
"$bin" anchor show --data a > anchor.pem
"$bin" init --data b --join --node node-b --anchor anchor.pem --code-secret a/code-secret 2>/dev/null
ISSUER_BENCH_TOKEN=$("$bin" tokens create --lab "Bench Lab" --data a)
export ISSUER_BENCH_TOKEN
serve() {
  # No per-lab limit: this measures what the nodes can do, not the policy.
  "$bin" serve --data "$1" --listen "$2" --poll-seconds 1 --trusted-proxy 127.0.0.1/32 \
    --lab-rate 1000000 2>"$1.log" &
  pids+=($!)
}
serve a 127.0.0.1:18781
serve b 127.0.0.1:18782
for url in http://127.0.0.1:18781 http://127.0.0.1:18782; do
  for _ in $(seq 100); do curl -sf -o /dev/null "$url/healthz" && break; sleep 0.2; done
  curl -sf -o /dev/null "$url/healthz" || { echo "$url/healthz never said ok" >&2; exit 1; }
done
proxy=""
start_proxy() {
  if [ -n "$proxy" ]; then kill "$proxy"; wait "$proxy" 2>/dev/null || true; fi
  ISSUER_PROXY_BIND=127.0.0.1:18780 ISSUER_NODE_A="$1" ISSUER_NODE_B="$2" \
    haproxy -f "$root/deploy/haproxy.cfg" >haproxy.log 2>&1 &
  proxy=$!
  pids+=("$proxy")
  for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:18780/proxy-healthz && break; sleep 0.1; done
  sleep 2.5 # the health checks mark the servers up
}
cp "$root/issuer/bench/fetch.lua" "$root/issuer/bench/submit.lua" .
slice=0
total=$(wc -l < all-codes.txt)
rate() { awk '/Requests\/sec/ {printf "%d", $2}'; }
p99() { awk '$1 == "99%" {print $2}'; }
non2xx() { awk '/Non-2xx/ {n = $NF} END {print n + 0}'; }
requests() { awk '/requests in/ {print $1}'; }
stored() { "$bin" stats --data a --lab "Bench Lab" | awk '{print $3}'; }
measure() { # label url
  local label=$1 url=$2 out
  # Fresh codes for each fetch run: a third of them.
  sed -n "$((slice * total / 3 + 1)),$(((slice + 1) * total / 3))p" all-codes.txt > codes.txt
  slice=$((slice + 1))
  out=$(wrk -t1 -c64 -d"${SECS}s" --latency -s fetch.lua "$url" -- once)
  printf "| %s | first fetch | %s | %s | %s |\n" "$label" "$(rate <<<"$out")" "$(p99 <<<"$out")" "$(non2xx <<<"$out")"
  local was now
  was=$(stored)
  out=$(wrk -t1 -c64 -d"${SECS}s" --latency -s submit.lua "$url" -- "$slice$RANDOM")
  now=$(stored)
  printf "| %s | submission | %s | %s | %s (%s sent, %s stored) |\n" "$label" "$(rate <<<"$out")" "$(p99 <<<"$out")" "$(non2xx <<<"$out")" "$(requests <<<"$out")" "$((now - was))"
  out=$(wrk -t1 -c64 -d"${SECS}s" --latency "$url/v1/trust-list")
  printf "| %s | trust list | %s | %s | %s |\n" "$label" "$(rate <<<"$out")" "$(p99 <<<"$out")" "$(non2xx <<<"$out")"
}
echo "| path | request | requests/s | p99 | non-2xx |"
echo "|---|---|---:|---:|---:|"
measure "node A, no proxy" http://127.0.0.1:18781
start_proxy 127.0.0.1:18781 127.0.0.1:18781
measure "proxy, one node" http://127.0.0.1:18780
start_proxy 127.0.0.1:18781 127.0.0.1:18782
measure "proxy, two nodes" http://127.0.0.1:18780
echo "== each node's count of what it answered (GET /metrics)"
for url in http://127.0.0.1:18781 http://127.0.0.1:18782; do
  echo "$url: $(curl -s "$url/metrics" | awk '/^issuer_http_requests_total/ {s += $NF} END {print s}') requests"
done
echo "== credentials stored by the submissions: $(stored)"
credentials=$(psql "$ISSUER_DATABASE_URL" -tAq -c "SELECT count(*) FROM credentials")
bytes=$(psql "$ISSUER_DATABASE_URL" -tAq -c "SELECT pg_database_size(current_database())")
echo "== database: $credentials credentials, $((bytes / 1048576)) MB, $((bytes / credentials)) bytes a credential (indexes and files included)"
