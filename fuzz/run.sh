#!/usr/bin/env bash
# Runs the fuzz targets one after another (see fuzz/README.md).
#   fuzz/run.sh BUILD_DIR SECONDS DICOM_CORPUS [target...]
# Each target's growing corpus is kept in BUILD_DIR/fuzz-corpus/<target> (the checked-in
# seeds stay untouched); crashes land in BUILD_DIR/fuzz-artifacts/<target>/. Any
# reproducers in fuzz/regressions/<target>/ are part of the input, so a regression crashes
# the run straight away. FUZZ_ARGS adds libFuzzer flags.
set -euo pipefail
build=$1 seconds=$2 dicom_corpus=$3
shift 3
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(multipart request_target label_filter json instance)
here=$(cd "$(dirname "$0")" && pwd)
failed=()

export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:max_allocation_size_mb=512}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for t in "${targets[@]}"; do
  corpus=$build/fuzz-corpus/$t
  artifacts=$build/fuzz-artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  inputs=("$corpus")
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=8192 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  # Extra libFuzzer flags, e.g. FUZZ_ARGS="-fork=1 -ignore_crashes=1" to keep going past a
  # known crash, or "-jobs=2".
  read -r -a extra <<< "${FUZZ_ARGS:-}"
  args+=("${extra[@]}")
  if [ "$t" = instance ]; then
    inputs+=("$dicom_corpus")
    args+=(-max_len=65536)
  else
    inputs+=("$here/seeds/$t")
    args+=(-max_len=4096 -dict="$here/dicts/$t.dict")
  fi
  [ -d "$here/regressions/$t" ] && inputs+=("$here/regressions/$t")
  echo "=== fuzz_$t for ${seconds}s"
  "$build/fuzz_$t" "${args[@]}" "${inputs[@]}" || failed+=("$t")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]} (reproducers in $build/fuzz-artifacts/)" >&2
  exit 1
fi
