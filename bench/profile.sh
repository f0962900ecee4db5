#!/bin/bash
# CPU profiles of dicomstore's hot paths with perf (sampling, cpu-clock, user + kernel, DWARF
# call graphs), for docs/PERFORMANCE.md. Not part of `make bench`.
#
#   DICOMSTORE=/path/to/dicomstore bash bench/profile.sh      # reports in $RES (/tmp/bench-results/profile)
#
# Use a binary with debug info for readable call graphs and inlined frames, e.g.
#   cmake -S . -B build-prof -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDICOMSTORE_TESTS=OFF
#   cmake --build build-prof --target dicomstore     # same -O2 as Release, plus -g
# Workloads, each recorded separately on one server loaded with the full small corpus:
#   stow-small-b20c4  4,000 small instances, 20 per request, 4 clients (empty store)
#   stow-small-b1c1   1,000 small instances, 1 per request, 1 client
#   (then the rest of the corpus is loaded unprofiled, to 20,000 instances)
#   qido-<type>       the QIDO searches of qido.py, one profile per type
#   stow-large-b20c4  400 large instances, 20 per request, 4 clients (second, empty store)
#   stow-large-b1c1   200 large instances, 1 per request, 1 client
#   wado-large        60 whole-study retrieves (26 MB each) at 1 and 4 clients, + metadata
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"   # HERE ROOT PY SHARED BIN CORPUS; netns
RES=${RES:-/tmp/bench-results/profile}
FREQ=${FREQ:-299}
DIR=$(mktemp -d /tmp/dicomstore-prof.XXXXXX)
PORT=8080
BASE=http://127.0.0.1:$PORT/v1/projects/bench/locations/local/datasets/bench/dicomStores/bench/dicomWeb
mkdir -p "$RES"
trap 'DICOMSTORE=$BIN "$HERE/run_dicomstore.sh" stop "$DIR" > /dev/null 2>&1; rm -rf "$DIR"' EXIT

# prof NAME CMD...: perf-record the server while CMD runs, then write the self-time and the
# inclusive (children) reports, top entries only.
prof() {
  local name=$1; shift
  set +o pipefail   # `| head` closes the pipe early; that is not a failure
  perf record -q -e cpu-clock -F "$FREQ" --call-graph dwarf,8192 -p "$PID" -o "$DIR/$name.data" 2> /dev/null &
  local perf_pid=$!
  sleep 0.3
  "$@" > "$RES/$name.client.jsonl"
  kill -INT $perf_pid; wait $perf_pid || true
  perf report -i "$DIR/$name.data" --no-children --sort sym --percent-limit 0.7 --stdio -g none \
      2> /dev/null | grep -v '^$' | head -60 > "$RES/$name.self.txt"
  perf report -i "$DIR/$name.data" --children --sort sym --percent-limit 1 --stdio -g none \
      2> /dev/null | grep -v '^$' > "$RES/$name.children.txt"
  # the same, readable: template arguments and parameter lists dropped, only frames that
  # name our code, DCMTK, SQLite, OpenSSL, allocation or a system call / ext4 / tcp
  "$PY" "$HERE/perf_short.py" < "$RES/$name.children.txt" > "$RES/$name.hot.txt"
  perf report -i "$DIR/$name.data" --no-children --sort dso --stdio -g none \
      2> /dev/null | grep -v '^$' | head -20 > "$RES/$name.dso.txt"
  rm -f "$DIR/$name.data"
  echo "profile $name: $RES/$name.{hot,self,children,dso}.txt" >&2
  set -o pipefail
}

B=("$PY" "$SHARED/dicomweb_bench.py" --base "$BASE" --corpus "$CORPUS/small")
DICOMSTORE=$BIN "$HERE/run_dicomstore.sh" start "$DIR" $PORT >&2
PID=$(cat "$DIR/dicomstore.pid")
prof stow-small-b20c4 "${B[@]}" stow --offset 0 --count 4000 --batch 20 --concurrency 4
prof stow-small-b1c1 "${B[@]}" stow --offset 4000 --count 1000 --batch 1 --concurrency 1
"${B[@]}" stow --offset 5000 --batch 20 --concurrency 4 > /dev/null
for q in studies_by_patient_id studies_by_patient_name_prefix studies_by_date_range series_by_modality \
         studies_by_accession series_in_study instances_in_series; do
  prof "qido-$q" "$PY" "$HERE/qido.py" --base "$BASE" --corpus "$CORPUS/small" --dialect google \
       --n 300 --warmup 10 --only $q
done
prof wado "${B[@]}" wado --studies 50 --concurrency 4 --n 200 --warmup 5
DICOMSTORE=$BIN "$HERE/run_dicomstore.sh" stop "$DIR" > /dev/null

B=("$PY" "$SHARED/dicomweb_bench.py" --base "$BASE" --corpus "$CORPUS/large")
DICOMSTORE=$BIN "$HERE/run_dicomstore.sh" start "$DIR" $PORT >&2
PID=$(cat "$DIR/dicomstore.pid")
prof stow-large-b20c4 "${B[@]}" stow --offset 0 --count 400 --batch 20 --concurrency 4
prof stow-large-b1c1 "${B[@]}" stow --offset 400 --count 200 --batch 1 --concurrency 1
"${B[@]}" stow --offset 600 --batch 20 --concurrency 4 > /dev/null
prof wado-large "${B[@]}" wado --studies 60 --concurrency 1 4 --n 20 --warmup 2
DICOMSTORE=$BIN "$HERE/run_dicomstore.sh" stop "$DIR" > /dev/null
