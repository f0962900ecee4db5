#!/bin/bash
# `make bench-scale`: dicomstore alone with INSTANCES (default 1,000,000) small instances, then
# the QIDO latencies of bench-quick/bench and the restart time at that size.
#
#   INSTANCES=100000 bash bench/scale.sh     # a reduced run
#   KEEP=1 ...   keep the store in $SCALE_DIR afterwards (default: removed)
#
# The instances are synth.py copies of the 20,000-instance small corpus with new UIDs,
# patient ids and accession numbers, streamed to the server: a million files of ~38 KB are
# 38 GB, which would not fit next to the store itself (~49 KB/instance) on a 64 GB disk.
# The store needs INSTANCES x ~50 KB in $SCALE_DIR; the script checks free space first.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"   # HERE ROOT PY SHARED BIN CORPUS; netns
INSTANCES=${INSTANCES:-1000000}
SCALE_DIR=${SCALE_DIR:-/tmp/bench-scale}
RES=${RES:-/tmp/bench-results/scale}
PORT=8080
T0=$(date +%s)
say() { printf '[%5ds] %s\n' $(( $(date +%s) - T0 )) "$*" >&2; }

# the source corpus (deterministic; reused when present, as in run.sh)
if ! $PY -c "import json,sys;s=json.load(open(sys.argv[1]));sys.exit(0 if (s['profile'],s['seed'],s['studies'])==('small',42,1000) else 1)" \
     "$CORPUS/small/summary.json" 2>/dev/null; then
  say "generating corpus $CORPUS/small"
  $PY "$SHARED/gen_corpus.py" --profile small --out "$CORPUS/small" --force > /dev/null
fi

# disk: ~49.3 KB allocated per instance measured at 20k (blobs + index), plus 15% headroom
need_kb=$(( INSTANCES * 57 ))
mkdir -p "$(dirname "$SCALE_DIR")"
avail_kb=$(df -Pk "$(dirname "$SCALE_DIR")" | awk 'NR==2{print $4}')
if [ "$avail_kb" -lt "$need_kb" ]; then
  echo "bench-scale: $INSTANCES instances need ~$((need_kb / 1048576)) GiB in $(dirname "$SCALE_DIR"), only $((avail_kb / 1048576)) GiB free;" >&2
  echo "  run a reduced size, e.g. INSTANCES=$(( avail_kb / 57 / 100000 * 100000 )) make bench-scale" >&2
  exit 1
fi

mkdir -p "$RES"; rm -f "$RES/scale.jsonl"
OUT=$RES/scale.jsonl
cleanup() {
  [ -f "$SCALE_DIR/dicomstore.pid" ] && DICOMSTORE=$BIN "$HERE/run_dicomstore.sh" stop "$SCALE_DIR" > /dev/null 2>&1
  [ -n "${KEEP:-}" ] || rm -rf "$SCALE_DIR"
}
trap cleanup EXIT

DICOMSTORE=$BIN "$HERE/run_dicomstore.sh" start "$SCALE_DIR" $PORT >&2
PID=$(cat "$SCALE_DIR/dicomstore.pid")
BASE=http://127.0.0.1:$PORT/v1/projects/bench/locations/local/datasets/bench/dicomStores/bench/dicomWeb
EXEC=("$BIN" serve --listen 127.0.0.1:$PORT --data "$SCALE_DIR/data")
RESTART=("$PY" "$HERE/restart_time.py" --pidfile "$SCALE_DIR/dicomstore.pid" --probe "$BASE/studies?limit=1"
         --log "$SCALE_DIR/dicomstore.log" --out "$OUT")
mkdir -p "$SCALE_DIR/corpus"

say "loading $INSTANCES instances (20/req, 4 clients)"
$PY "$HERE/scale.py" load --base "$BASE" --corpus "$CORPUS/small" --instances "$INSTANCES" \
    --manifest "$SCALE_DIR/corpus/manifest.jsonl" --server-pid "$PID" --out "$OUT" >&2

# restart first: a cold(er) start, then QIDO on a just-restarted server, as after a deploy
say "restart-to-ready x3 after clean stop, x1 after SIGKILL"
for _ in 1 2 3; do "${RESTART[@]}" --label scale -- "${EXEC[@]}" > /dev/null; done
"${RESTART[@]}" --label scale-kill --signal KILL -- "${EXEC[@]}" > /dev/null
PID=$(cat "$SCALE_DIR/dicomstore.pid")

say "QIDO (200 queries per type after 10 warm-up)"
$PY "$HERE/qido.py" --base "$BASE" --corpus "$SCALE_DIR/corpus" --dialect google --server-pid "$PID" \
    --n 200 --warmup 10 --label scale --out "$OUT" > /dev/null
DICOMSTORE=$BIN "$HERE/run_dicomstore.sh" stop "$SCALE_DIR" > /dev/null
$PY "$SHARED/dicomweb_bench.py" --out "$OUT" --label scale-stopped disk --storage-dir "$SCALE_DIR/data" \
    --instances "$INSTANCES" > /dev/null
say "done; raw results in $OUT"
NOTE="git $(cd "$ROOT" && git rev-parse --short HEAD), $(date -Is), load avg $(cut -d' ' -f1-3 /proc/loadavg)"
$PY "$HERE/scale.py" report --res "$RES" --note "$NOTE" --json-out "$ROOT/bench/results/scale-latest.json"
