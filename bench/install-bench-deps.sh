#!/usr/bin/env bash
# Installs the Debian packages `make bench` needs on top of scripts/install-deps.sh:
# the peer server (Orthanc + its DICOMweb plugin), the corpus generator's Python deps,
# fio (fsync'd write bandwidth reference), and perf for the profiles in docs/PERFORMANCE.md.
# Idempotent: packages already present are skipped, so a warm machine pays nothing.
set -euo pipefail

PACKAGES=(
  orthanc orthanc-dicomweb          # the peer server (run_orthanc.sh starts its own instance)
  python3-pydicom python3-numpy     # gen_corpus.py (numpy tiles the "large" 512x512 images)
  dcmtk                             # dcmdump, used by limits.sh-style checks
  fio                               # fsync'd sequential write bandwidth
  curl iproute2 util-linux procps   # readiness probes, `ip link set lo up`, `unshare --net`
  linux-perf                        # profiles (bench/profile.sh); optional for the table itself
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-bench-deps: installing ${missing[*]}" >&2
# policy-rc.d in containers denies starting the orthanc service; that is fine, we never use it.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
