#!/bin/bash
# dicomstore vs Orthanc, the same DICOMweb workload on both in one run, one comparison table.
#
#   bash bench/run.sh full     # `make bench`: 20,000 small + 1,200 large instances, ~11 min (REPS=3: ~32)
#   bash bench/run.sh quick    # `make bench-quick`: 3,000 small + 300 large, one rep, < 3 min
#
# Steps (per server, Orthanc first, each phase on a fresh empty server):
#   small: STOW 1/req 1 client, 20/req 1 client, 1/req 4 clients, 20/req 4 clients on disjoint
#          slices, then the rest at 20/req 4 clients ("bulk load"), so the store ends holding the
#          whole corpus; disk; QIDO; WADO; VmHWM; restart-to-ready; stop; disk after stop.
#   large: the same four STOW configs, disk, WADO, VmHWM, stop, disk after stop.
#   big:   one ~1 GB STOW request into a fresh server, its peak RSS (dicomstore only in quick).
# plus the fsync'd sequential write bandwidth of the disk the servers write to (fio), and the
# ceiling of STOW large on this machine (bench/loadgen/stow_sink: receive + write + fdatasync).
# Server data dirs are only deleted at the end: this machine's ext4 has no journal, and there
# every inode allocation skips inodes freed in the last 1-6 minutes (ext4 recently_deleted()),
# so an `rm -rf` of 20,000 files makes the next phase's file creation several times slower.
# Results: raw JSONL in $RES (default /tmp/bench-results/<mode>), the table on stdout and in
# bench/results/latest.json (full) or latest-quick.json (quick).
# Clients: the STOW rows (bulk load included) and whole-study WADO are driven by the native
# load generator (bench/loadgen, via bench/native_load.py; built here, Release); QIDO,
# metadata, single-instance WADO and disk by the Python tools. CLIENT=python drives those rows
# with ../shared/bench/dicomweb_bench.py instead (the client used before; to compare clients).
#
# Environment: CORPUS (/tmp/bench-corpus), RES, DICOMSTORE (binary, default build/dicomstore),
# SHARED_BENCH (../shared/bench from the repo root), REPS (1; >1 = median of reps),
# NETNS=0 to skip the private network namespace, CLIENT (native | python), LOADGEN_BUILD
# (build/loadgen).
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"   # HERE ROOT PY SHARED BIN CORPUS; netns
MODE=${1:-full}
RES=${RES:-/tmp/bench-results/$MODE}
REPS=${REPS:-1}
WORK=$(mktemp -d /tmp/dicomstore-bench.XXXXXX)   # server data dirs; removed at exit
# STOW request bodies, written before each timed step: on tmpfs when there is one, so that
# they are not flushed to the servers' disk while the servers are measured
if ! BODIES=$(mktemp -d /dev/shm/dicomstore-bench-bodies.XXXXXX 2> /dev/null); then
  BODIES=$WORK/bodies && mkdir "$BODIES"
fi
CLIENT=${CLIENT:-native}
OPORT=8042 DPORT=8080 SPORT=8081

case "$MODE" in
full)
  SMALL=small LARGE=large SMALL_STUDIES=1000 LARGE_STUDIES=24
  S1=1000 S2=2000 S3=2000 S4=2000          # small STOW slices: b1c1 b20c1 b1c4 b20c4
  L1=200 L2=300 L3=300 L4=400              # large STOW slices
  QN=200 QW=10 WS=100 WN=200 WW=10 LWS=30 LWN=100 LWW=5
  BIG_BYTES=1e9 BIG_SERVERS="orthanc dicomstore" FIO_SIZE=2G FIO_RUNS=3 SETTLE_MIB=4096
  JSON_OUT=$ROOT/bench/results/latest.json ;;
quick)
  SMALL=small-quick LARGE=large-quick SMALL_STUDIES=150 LARGE_STUDIES=6
  S1=150 S2=300 S3=300 S4=300
  L1=40 L2=60 L3=60 L4=140
  QN=20 QW=3 WS=20 WN=20 WW=3 LWS=6 LWN=20 LWW=3
  BIG_BYTES=5e8 BIG_SERVERS="dicomstore" FIO_SIZE=1G FIO_RUNS=1 SETTLE_MIB=1024
  JSON_OUT=$ROOT/bench/results/latest-quick.json ;;
*) echo "usage: $0 full|quick" >&2; exit 2 ;;
esac

T0=$(date +%s)
LOG=$RES/steps.log     # the JSON lines every tool prints go here, not to the terminal
mkdir -p "$RES" "$(dirname "$JSON_OUT")"
rm -f "$RES"/*.jsonl "$LOG"
say() { printf '[%4ds] %s\n' $(( $(date +%s) - T0 )) "$*" | tee -a "$LOG" >&2; }

# ------------------------------------------------------------------ corpora
# gen_corpus.py is deterministic (seed 42): a corpus whose summary.json matches the wanted
# profile/seed/study count is reused as is, anything else is regenerated.
ensure_corpus() {  # NAME PROFILE STUDIES
  local dir=$CORPUS/$1
  if [ -f "$dir/summary.json" ] && $PY - "$dir/summary.json" "$2" "$3" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
ok = s.get("profile") == sys.argv[2] and s.get("seed") == 42 and s.get("studies") == int(sys.argv[3])
sys.exit(0 if ok else 1)
EOF
  then return 0; fi
  say "generating corpus $dir ($2, $3 studies)"
  $PY "$SHARED/gen_corpus.py" --profile "$2" --studies "$3" --out "$dir" --force > /dev/null
}
ensure_corpus $SMALL small $SMALL_STUDIES
ensure_corpus $LARGE large $LARGE_STUDIES
# ------------------------------------------------------------------ load generator
# (and stow_sink and mem_settle, which every run uses)
LOADGEN_BUILD=${LOADGEN_BUILD:-$ROOT/build/loadgen}
{ cmake -S "$HERE/loadgen" -B "$LOADGEN_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release &&
  cmake --build "$LOADGEN_BUILD"; } >> "$LOG" 2>&1 || { say "loadgen build failed (see $LOG)"; exit 1; }
ninst() { $PY -c "import json,sys;print(json.load(open(sys.argv[1]))['instances'])" "$CORPUS/$1/summary.json"; }
NSMALL=$(ninst $SMALL) NLARGE=$(ninst $LARGE)

# ------------------------------------------------------------------ servers
# start_server NAME DIR sets PID BASE DATA DIALECT PIDFILE SLOG and EXEC (argv to restart it)
start_server() {
  case $1 in
  orthanc)
    "$SHARED/run_orthanc.sh" start "$2" $OPORT >> "$LOG"
    PIDFILE=$2/orthanc.pid BASE=http://127.0.0.1:$OPORT/dicom-web DATA=$2/db DIALECT=orthanc
    SLOG=$2/orthanc.log EXEC=(/usr/sbin/Orthanc "$2/orthanc.json") ;;
  dicomstore)
    DICOMSTORE=$BIN "$HERE/run_dicomstore.sh" start "$2" $DPORT >> "$LOG"
    PIDFILE=$2/dicomstore.pid DATA=$2/data DIALECT=google SLOG=$2/dicomstore.log
    BASE=http://127.0.0.1:$DPORT/v1/projects/bench/locations/local/datasets/bench/dicomStores/bench/dicomWeb
    EXEC=("$BIN" serve --listen 127.0.0.1:$DPORT --data "$2/data") ;;
  esac
  PID=$(cat "$PIDFILE")
}
stop_server() {  # NAME DIR
  if [ "$1" = orthanc ]; then "$SHARED/run_orthanc.sh" stop "$2" >> "$LOG"
  else DICOMSTORE=$BIN "$HERE/run_dicomstore.sh" stop "$2" >> "$LOG"; fi
}
cleanup() {
  for f in "$WORK"/*/*.log; do  # server logs survive the run (crashes, slow starts)
    [ -f "$f" ] && cp "$f" "$RES/$(basename "$(dirname "$f")")-$(basename "$f")"
  done
  for d in "$WORK"/*/; do
    [ -f "$d/orthanc.pid" ] && "$SHARED/run_orthanc.sh" stop "$d" > /dev/null 2>&1
    [ -f "$d/dicomstore.pid" ] && "$HERE/run_dicomstore.sh" stop "$d" > /dev/null 2>&1
  done
  # the data (~10k-40k files) is deleted in the background: the measurements are over, and
  # the caller need not wait for it
  mv "$WORK" "$WORK.trash" && (rm -rf "$WORK.trash" > /dev/null 2>&1 &)
  rm -rf "$BODIES"
}
trap cleanup EXIT

# ------------------------------------------------------------------ memory
# The same memory state before every phase. This VM's host backs guest memory lazily and takes
# back what the guest leaves free: the first write into a page it does not back costs a host
# fault, about 12 us per 4 KiB page here against 2 us for a backed one (bench/loadgen/
# mem_settle.cc). A server storing new data needs new page-cache pages, and nothing is deleted
# until the end (above), so the page cache grows through the run; once it outgrew what the host
# kept backed, every later phase paid the fault on each page it wrote (a REPS=3 run measured
# STOW large 20/4 at 499, then 235 and 237 MB/s, and fio's first run of each rep at about a
# third of its later ones). So before each phase: write back and drop the clean page cache
# (the data stays on disk, and each phase reads only what it wrote itself), then touch and free
# SETTLE_MIB of memory so that the host backs it; the phase's page cache reuses those pages.
# Each settle writes the cost per page it found and the cost after it to machine.jsonl.
settle_memory() {  # LABEL
  sync
  if [ -w /proc/sys/vm/drop_caches ]; then echo 1 > /proc/sys/vm/drop_caches; fi
  "$LOADGEN_BUILD/mem_settle" "$SETTLE_MIB" "$1" >> "$RES/machine.jsonl"
}

# ------------------------------------------------------------------ phases
phase_small() {  # SERVER OUT
  local s=$1 out=$2 dir=$WORK/$1-small-$r
  settle_memory "$s-small-$r"
  start_server "$s" "$dir"
  local B=("$PY" "$SHARED/dicomweb_bench.py" --base "$BASE" --corpus "$CORPUS/$SMALL" --server-pid "$PID" --out "$out")
  local L=("${B[@]}")   # STOW and WADO: the load client
  if [ "$CLIENT" = native ]; then L=("$PY" "$HERE/native_load.py" --loadgen "$LOADGEN_BUILD/loadgen" --tmp "$BODIES" "${B[@]:2}"); fi
  say "$s small: STOW 1/req 1 client, 20/req 1 client, 1/req 4 clients, 20/req 4 clients"
  local o=0
  "${L[@]}" --label small stow --offset $o --count $S1 --batch 1 --concurrency 1 >> "$LOG"; o=$((o + S1))
  "${L[@]}" --label small stow --offset $o --count $S2 --batch 20 --concurrency 1 >> "$LOG"; o=$((o + S2))
  "${L[@]}" --label small stow --offset $o --count $S3 --batch 1 --concurrency 4 >> "$LOG"; o=$((o + S3))
  "${L[@]}" --label small stow --offset $o --count $S4 --batch 20 --concurrency 4 >> "$LOG"; o=$((o + S4))
  say "$s small: bulk load to $NSMALL instances (20/req, 4 clients)"
  "${L[@]}" --label small-bulk stow --offset $o --batch 20 --concurrency 4 >> "$LOG"
  "${B[@]}" --label small disk --storage-dir "$DATA" --instances "$NSMALL" >> "$LOG"
  say "$s small: QIDO ($QN queries per type)"
  "$PY" "$HERE/qido.py" --base "$BASE" --corpus "$CORPUS/$SMALL" --dialect $DIALECT --server-pid "$PID" \
      --n $QN --warmup $QW --label small --out "$out" >> "$LOG"
  say "$s small: WADO"
  "${L[@]}" --label small wado --studies $WS --concurrency 1 4 --n $WN --warmup $WW >> "$LOG"
  "${B[@]}" --label small-end disk --storage-dir "$DATA" --instances "$NSMALL" >> "$LOG"  # VmHWM
  say "$s small: restart-to-ready"
  "$PY" "$HERE/restart_time.py" --pidfile "$PIDFILE" --probe "$BASE/studies?limit=1" --log "$SLOG" \
      --label small --out "$out" -- "${EXEC[@]}" >> "$LOG"
  say "$s small: stop"
  stop_server "$s" "$dir"
  "$PY" "$SHARED/dicomweb_bench.py" --corpus "$CORPUS/$SMALL" --out "$out" --label small-stopped \
      disk --storage-dir "$DATA" --instances "$NSMALL" >> "$LOG"
}

phase_large() {  # SERVER OUT
  local s=$1 out=$2 dir=$WORK/$1-large-$r
  settle_memory "$s-large-$r"
  start_server "$s" "$dir"
  local B=("$PY" "$SHARED/dicomweb_bench.py" --base "$BASE" --corpus "$CORPUS/$LARGE" --server-pid "$PID" --out "$out")
  local L=("${B[@]}")
  if [ "$CLIENT" = native ]; then L=("$PY" "$HERE/native_load.py" --loadgen "$LOADGEN_BUILD/loadgen" --tmp "$BODIES" "${B[@]:2}"); fi
  say "$s large: STOW x4, WADO"
  local o=0
  "${L[@]}" --label large stow --offset $o --count $L1 --batch 1 --concurrency 1 >> "$LOG"; o=$((o + L1))
  "${L[@]}" --label large stow --offset $o --count $L2 --batch 20 --concurrency 1 >> "$LOG"; o=$((o + L2))
  "${L[@]}" --label large stow --offset $o --count $L3 --batch 1 --concurrency 4 >> "$LOG"; o=$((o + L3))
  "${L[@]}" --label large stow --offset $o --count $L4 --batch 20 --concurrency 4 >> "$LOG"
  "${B[@]}" --label large disk --storage-dir "$DATA" --instances "$NLARGE" >> "$LOG"
  "${L[@]}" --label large wado --studies $LWS --concurrency 1 4 --n $LWN --warmup $LWW >> "$LOG"
  "${B[@]}" --label large-end disk --storage-dir "$DATA" --instances "$NLARGE" >> "$LOG"
  stop_server "$s" "$dir"
  "$PY" "$SHARED/dicomweb_bench.py" --corpus "$CORPUS/$LARGE" --out "$out" --label large-stopped \
      disk --storage-dir "$DATA" --instances "$NLARGE" >> "$LOG"
}

phase_big() {  # SERVER OUT: one ~1 GB request into a fresh server; VmHWM = this request's peak
  local s=$1 out=$2 dir=$WORK/$1-big-$r
  settle_memory "$s-big-$r"
  start_server "$s" "$dir"
  say "$s: one $BIG_BYTES-byte STOW request"
  "$PY" "$HERE/big_stow.py" --base "$BASE" --corpus "$CORPUS/$LARGE" --server-pid "$PID" \
      --bytes "$BIG_BYTES" --label big --out "$out" >> "$LOG"
  stop_server "$s" "$dir"
}

# The ceiling of the STOW large 20/req 4 clients row on this machine right now: the same
# requests from the same client into bench/loadgen/stow_sink, which only receives, writes and
# fdatasyncs each request (no parse, no index).
phase_ceiling() {  # OUT
  [ "$CLIENT" = native ] || return 0
  local dir=$WORK/sink-$r
  settle_memory "sink-$r"
  mkdir -p "$dir"
  "$LOADGEN_BUILD/stow_sink" $SPORT "$dir" > "$dir/sink.log" 2>&1 &
  local spid=$!
  sleep 0.3
  say "ceiling: STOW large 20/req 4 clients into stow_sink"
  "$PY" "$HERE/native_load.py" --loadgen "$LOADGEN_BUILD/loadgen" --tmp "$BODIES" \
      --base "http://127.0.0.1:$SPORT/dicom-web" --corpus "$CORPUS/$LARGE" --server-pid $spid \
      --out "$1" --label ceiling stow --offset 0 --count $L4 --batch 20 --concurrency 4 >> "$LOG"
  kill $spid; wait $spid 2> /dev/null || true
  rm -rf "$dir"
}

# fsync'd sequential write bandwidth of the file system the servers write to (as limits.sh:
# fio, 1 MiB writes of non-zero data, one fsync at the end; dd from /dev/zero is too noisy).
fsync_bandwidth() {  # OUT
  settle_memory "fio-$r"
  say "fio: sequential write $FIO_SIZE + fsync, $FIO_RUNS run(s)"
  mkdir -p "$WORK/fio"
  for _ in $(seq 1 $FIO_RUNS); do
    fio --name=seqw --directory="$WORK/fio" --rw=write --bs=1M --size=$FIO_SIZE --end_fsync=1 \
        --ioengine=psync --refill_buffers --output-format=json |
      $PY -c 'import json,sys;w=json.load(sys.stdin)["jobs"][0]["write"]
print(json.dumps(dict(cmd="fsync_write", label="machine", mb_per_s=round(w["bw_bytes"]/1e6,1), seconds=w["runtime"]/1000)))' >> "$1"
    rm -f "$WORK"/fio/seqw*
  done
}

# Per-file ceiling of a file-per-instance store right now: create + write 38 KB + fsync + close
# of 2,000 files (as limits.sh), kept until the end for the reason above.
file_create_rate() {  # OUT
  say "machine: create+fsync rate of 38 KB files"
  $PY - "$WORK/files-$(date +%s)" >> "$1" <<'EOF'
import json, os, sys, time
d = sys.argv[1]; os.makedirs(d)
buf = os.urandom(38000); n = 2000; t = time.perf_counter()
for k in range(n):
    fd = os.open(os.path.join(d, "%05d" % k), os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    os.write(fd, buf); os.fsync(fd); os.close(fd)
dt = time.perf_counter() - t
print(json.dumps(dict(cmd="file_create", label="machine", files_per_s=round(n / dt, 1), seconds=round(dt, 2))))
EOF
}

# The binary as the results name it: relative to the repository when it is inside it, else
# only its file name (results are committed; no path of the machine that ran them).
binary_label() {
  case "$1" in
    "$ROOT"/*) echo "${1#"$ROOT"/}" ;;
    *) basename "$1" ;;
  esac
}

{
  echo "{\"cmd\":\"env\",\"label\":\"env\",\"mode\":\"$MODE\",\"reps\":$REPS,\"date\":\"$(date -Is)\","
  echo "\"git\":\"$(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD -- src CMakeLists.txt 2>/dev/null || echo -dirty)\","
  echo "\"cpu\":\"$(lscpu | sed -n 's/^Model name: *//p')\",\"nproc\":$(nproc),"
  echo "\"mem_gib\":$(free -g | awk '/^Mem:/{print $2}'),\"kernel\":\"$(uname -r)\","
  echo "\"client\":\"$CLIENT\","
  echo "\"fs\":\"$(findmnt -n -T "$WORK" -o FSTYPE)\",\"loadavg_start\":\"$(cut -d' ' -f1-3 /proc/loadavg)\","
  echo "\"orthanc\":\"$(dpkg-query -W -f='${Version}' orthanc) + dicomweb $(dpkg-query -W -f='${Version}' orthanc-dicomweb)\","
  echo "\"dicomstore\":\"$(binary_label "$BIN") ($("$BIN" --version 2>&1 | head -1), built $(date -r "$BIN" -Is))\","
  echo "\"small_corpus\":\"$SMALL ($NSMALL instances)\",\"large_corpus\":\"$LARGE ($NLARGE instances)\"}"
} | tr -d '\n' > "$RES/env.json"

for r in $(seq 1 "$REPS"); do
  file_create_rate "$RES/machine.jsonl"
  for s in orthanc dicomstore; do
    phase_small $s "$RES/$s.jsonl"
    phase_large $s "$RES/$s.jsonl"
    case " $BIG_SERVERS " in *" $s "*) phase_big $s "$RES/$s.jsonl" ;; esac
  done
  phase_ceiling "$RES/machine.jsonl"
  fsync_bandwidth "$RES/machine.jsonl"
done
say "done; raw results in $RES"
echo "$(cut -d' ' -f1-3 /proc/loadavg)" > "$RES/loadavg_end"

"$PY" "$HERE/compare.py" --res "$RES" --json-out "$JSON_OUT"
