#!/usr/bin/env bash
# Installs every Debian package dicomstore needs to build, test and run.
# Idempotent: packages already present are skipped, so a warm machine pays nothing.
# Works as root or through sudo.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  libdcmtk-dev dcmtk libopenjp2-7-dev
  libboost-dev libsqlite3-dev sqlite3 libpq-dev
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libcli11-dev libabsl-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libicu-dev libedit-dev zlib1g-dev libjpeg62-turbo-dev libpng-dev libjemalloc-dev
  nodejs npm python3-pydicom curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node may come from outside apt (a preinstalled toolchain); accept a working node+npm.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
