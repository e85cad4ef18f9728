#!/usr/bin/env bash
# The server's figures with a load generator that is not ours (wrk, from Debian's packages,
# installed here if it is missing): append throughput with 1, 8 and 64 concurrent clients
# beside the raw durability barrier rate of this disk (dd: 1 KiB writes, each synced), and read
# latency (p50/p99) of a one-subject `state` and of `history`, idle and under a write load of
# 64 clients. Bounded: DURATION seconds per run (default 10). Figures go in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null
fi
cargo build --release --locked --quiet
BIN=$PWD/target/release/sanctions-ledger
WORK=$(mktemp -d "$PWD/target/server-load.XXXXXX")
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
"$BIN" --ledger "$WORK/ledger" quickstart >/dev/null
TOKEN=$("$BIN" --ledger "$WORK/ledger" --json token create --name bench --scope append |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')
# The bundled dataset's first designation, with a new event id and new subject ids in every
# request (new listings, as a real stream of designations has; one listing designated thousands
# of times over would measure that listing's growing history instead).
head -1 data/xinjiang-2021.jsonl | python3 -c '
import json, sys
event = json.load(sys.stdin)
event["id"] = "__ID__"
for subject in event["subjects"]:
    subject["id"] = subject["id"] + "-__ID__"
print(json.dumps(event))' >"$WORK/event.json"
"$BIN" --ledger "$WORK/ledger" --json serve --listen 127.0.0.1:0 >"$WORK/serve.json" 2>"$WORK/serve.err" &
SERVER=$!
for _ in $(seq 50); do [ -s "$WORK/serve.json" ] && break; sleep 0.1; done
URL=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["listening"])' "$WORK/serve.json")
echo "server $URL, wrk $(wrk --version 2>&1 | head -1 | cut -d' ' -f2), ${DURATION}s per run, $(nproc) cores"

echo "== raw durability barrier: dd, 1 KiB per write, each synced (O_DSYNC)"
dd if=/dev/zero of="$WORK/raw" bs=1024 count=2000 oflag=dsync 2>&1 | tail -1

append() { # clients
  local threads=$(( $1 < 4 ? $1 : 4 ))
  wrk -t"$threads" -c"$1" -d"${DURATION}s" --latency -s benches/wrk_append.lua "$URL" -- "$TOKEN" "$WORK/event.json" "c$1-$RANDOM" |
    grep -E "Requests/sec|Non-2xx|Socket errors|50%|99%" | sed "s/^/  append, $1 client(s): /"
}
read_latency() { # label path
  wrk -t1 -c1 -d"${DURATION}s" --latency "$URL$2" |
    grep -E "Requests/sec|Non-2xx|50%|99%" | sed "s/^/  $1: /"
}
echo "== append throughput"
for clients in 1 8 64; do append "$clients"; done
echo "== reads, idle"
read_latency "state (one subject), idle" "/v1/state?as_of=2021-03-22&subject=xj-wang-junzheng"
read_latency "history, idle" "/v1/history/xj-wang-junzheng?today=2026-12-01"
echo "== reads under a write load of 64 clients"
wrk -t4 -c64 -d"$(( 2 * DURATION + 4 ))s" -s benches/wrk_append.lua "$URL" -- "$TOKEN" "$WORK/event.json" "load-$RANDOM" >"$WORK/load.txt" &
LOAD=$!
sleep 2
read_latency "state (one subject), under load" "/v1/state?as_of=2021-03-22&subject=xj-wang-junzheng"
read_latency "history, under load" "/v1/history/xj-wang-junzheng?today=2026-12-01"
wait "$LOAD"
grep -E "Requests/sec|Non-2xx" "$WORK/load.txt" | sed "s/^/  the write load: /"
kill -TERM "$SERVER"
wait "$SERVER" || true
"$BIN" --ledger "$WORK/ledger" verify --json | python3 -c 'import json, sys; v = json.load(sys.stdin); print("== after the runs: verify", v["verdict"], v["records"], "records")'
