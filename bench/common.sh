# Sourced by run.sh, scale.sh and profile.sh (after `set -euo pipefail`): the private network
# namespace and the settings they share.
#
# Everything runs inside a private network namespace that only has loopback: neither server
# (Orthanc cannot bind to 127.0.0.1 only) is reachable from outside, and nothing we start can
# reach out. Same approach as ../shared/bench/run_suite.sh. The calling script is executed
# again inside the namespace (NETNS=0 skips it).
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
if [ "${NETNS:-1}" = 1 ] && [ -z "${IN_NETNS:-}" ]; then
  exec unshare --net env IN_NETNS=1 bash "$0" "$@"
fi
[ -n "${IN_NETNS:-}" ] && ip link set lo up

PY=/usr/bin/python3                    # system python: has pydicom (the pyenv one does not)
SHARED=$(cd "${SHARED_BENCH:-$ROOT/../shared/bench}" && pwd)
export SHARED_BENCH=$SHARED             # the Python tools import dicomweb_bench.py from there
BIN=$(realpath "${DICOMSTORE:-$ROOT/build/dicomstore}")
CORPUS=${CORPUS:-/tmp/bench-corpus}
