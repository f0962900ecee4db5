#!/bin/bash
# A/B of whole-study WADO-RS retrieve between two dicomstore binaries (e.g. before and after a
# change), with Orthanc alongside: one store loaded once and served by each binary in turn,
# back to back, so both see the same machine. Raw JSON lines (dicomweb_bench.py wado, labels
# A-rN, B-rN, O-rN) go to OUT; summarise them with
#   python3 bench/wado_ab.py OUT
#
#   bash bench/wado_ab.sh OUT BIN_A BIN_B [ROUNDS=5] [STUDIES=40]
#
# Environment: CORPUS (/tmp/bench-corpus/large-quick, made by `make bench-quick`),
# SHARED_BENCH (../shared/bench), ORTHANC=0 to leave Orthanc out.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${IN_NETNS:-}" ]; then exec unshare --net env IN_NETNS=1 bash "$0" "$@"; fi
ip link set lo up
OUT=$(realpath "$1") A=$(realpath "$2") B=$(realpath "$3") ROUNDS=${4:-5} STUDIES=${5:-40}
SHARED=$(cd "${SHARED_BENCH:-$HERE/../../shared/bench}" && pwd)
CORPUS=${CORPUS:-/tmp/bench-corpus/large-quick}
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/wado-ab.XXXXXX)
DPORT=8080 OPORT=8042 PID=
DBASE=http://127.0.0.1:$DPORT/v1/projects/bench/locations/local/datasets/bench/dicomStores/bench/dicomWeb
OBASE=http://127.0.0.1:$OPORT/dicom-web

start() {  # BIN: serve the one data dir
  setsid "$1" serve --listen 127.0.0.1:$DPORT --data "$WORK/data" > "$WORK/dicomstore.log" 2>&1 < /dev/null &
  PID=$!
  for _ in $(seq 1 200); do curl -s -o /dev/null http://127.0.0.1:$DPORT/ && return 0; sleep 0.05; done
  echo "dicomstore did not come up" >&2; exit 1
}
stop() { kill -TERM "$PID"; wait "$PID" || true; PID=; }
cleanup() {
  [ -n "$PID" ] && kill -TERM "$PID" 2> /dev/null
  [ -f "$WORK/orthanc/orthanc.pid" ] && "$SHARED/run_orthanc.sh" stop "$WORK/orthanc" > /dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
wado() {  # BASE PID LABEL: warm up, then the measured retrieves at 1 and 4 clients
  "$PY" "$SHARED/dicomweb_bench.py" --base "$1" --corpus "$CORPUS" --server-pid "$2" --label warm \
      wado --studies 6 --concurrency 4 --n 1 --warmup 0 > /dev/null
  "$PY" "$SHARED/dicomweb_bench.py" --base "$1" --corpus "$CORPUS" --server-pid "$2" --out "$OUT" \
      --label "$3" wado --studies "$STUDIES" --concurrency 1 4 --n 1 --warmup 0 > /dev/null
}

mkdir -p "$WORK/data"
start "$A"
admin=http://127.0.0.1:$DPORT/v1/projects/bench/locations/local
curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' "$admin/datasets?datasetId=bench"
curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' \
     "$admin/datasets/bench/dicomStores?dicomStoreId=bench"
"$PY" "$SHARED/dicomweb_bench.py" --base "$DBASE" --corpus "$CORPUS" --label load \
    stow --batch 20 --concurrency 4 > /dev/null
stop
if [ "${ORTHANC:-1}" = 1 ]; then  # loaded once, idle while dicomstore is measured
  "$SHARED/run_orthanc.sh" start "$WORK/orthanc" $OPORT > /dev/null
  OPID=$(cat "$WORK/orthanc/orthanc.pid")
  for _ in $(seq 1 200); do curl -s -o /dev/null "$OBASE/studies" && break; sleep 0.1; done
  "$PY" "$SHARED/dicomweb_bench.py" --base "$OBASE" --corpus "$CORPUS" --label load \
      stow --batch 20 --concurrency 4 > /dev/null
fi
for r in $(seq 1 "$ROUNDS"); do
  [ "${ORTHANC:-1}" = 1 ] && wado "$OBASE" "$OPID" "O-r$r"
  start "$A"; wado "$DBASE" "$PID" "A-r$r"; stop
  start "$B"; wado "$DBASE" "$PID" "B-r$r"; stop
  echo "round $r of $ROUNDS done" >&2
done
