#!/bin/bash
# Start/stop a throw-away dicomstore for the benchmarks, the counterpart of
# ../shared/bench/run_orthanc.sh: loopback only, data in DIR/data, pid in DIR/dicomstore.pid.
#
#   run_dicomstore.sh start DIR [PORT]   # DIR is wiped; creates dataset "bench" + store "bench"
#   run_dicomstore.sh stop  DIR          # SIGTERM (clean shutdown) the recorded pid only
#   DICOMSTORE=path/to/binary            # default: build/dicomstore next to this script's repo
#
# The DICOMweb root is then
#   http://127.0.0.1:PORT/v1/projects/bench/locations/local/datasets/bench/dicomStores/bench/dicomWeb
# The access log (one line per request) stays on, as in a default deployment; it goes to
# DIR/dicomstore.log, not a terminal.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${DICOMSTORE:-$HERE/../build/dicomstore}
cmd=${1:?start|stop}
dir=${2:?DIR}
port=${3:-8080}
admin="http://127.0.0.1:$port/v1/projects/bench/locations/local"

case "$cmd" in
start)
  if [ -f "$dir/dicomstore.pid" ] && kill -0 "$(cat "$dir/dicomstore.pid")" 2>/dev/null; then
    echo "already running: pid $(cat "$dir/dicomstore.pid")" >&2; exit 1
  fi
  rm -rf "$dir"; mkdir -p "$dir/data"
  # setsid: own session/process group, so we only ever signal this one pid
  setsid "$BIN" serve --listen "127.0.0.1:$port" --data "$dir/data" > "$dir/dicomstore.log" 2>&1 < /dev/null &
  echo $! > "$dir/dicomstore.pid"
  for _ in $(seq 1 200); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then  # any HTTP answer = listening
      curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' \
           "$admin/datasets?datasetId=bench"
      curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' \
           "$admin/datasets/bench/dicomStores?dicomStoreId=bench"
      echo "dicomstore pid $(cat "$dir/dicomstore.pid") on 127.0.0.1:$port, data in $dir/data"; exit 0
    fi
    kill -0 "$(cat "$dir/dicomstore.pid")" 2>/dev/null || { cat "$dir/dicomstore.log" >&2; exit 1; }
    sleep 0.05
  done
  echo "dicomstore did not come up" >&2; cat "$dir/dicomstore.log" >&2; exit 1
  ;;
stop)
  [ -f "$dir/dicomstore.pid" ] || { echo "no pid file in $dir" >&2; exit 0; }
  pid=$(cat "$dir/dicomstore.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && { echo "dicomstore $pid did not stop, sending KILL" >&2; kill -KILL "$pid"; }
  fi
  rm -f "$dir/dicomstore.pid"; echo "stopped $pid"
  ;;
*) echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2 ;;
esac
