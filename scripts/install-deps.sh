#!/usr/bin/env bash
# Installs every Debian package Parley needs to build, test and run, then the web UI's npm packages
# (web/package-lock.json). Idempotent: packages that are already installed are skipped, and
# `npm ci` runs only when web/node_modules is missing or older than the lockfile, so a second run
# costs a dpkg query and nothing else.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang clang-format clang-tidy libclang-rt-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev
  libhowardhinnant-date-dev
  libsqlite3-dev
  libabsl-dev
  libsodium-dev libssl-dev openssl ca-certificates
  libjemalloc-dev
  libsofia-sip-ua-dev sip-tester baresip-core
  libspandsp-dev libsndfile1-dev libspeexdsp-dev libespeak-ng-dev espeak-ng-data
  wrk nginx-light python3
  chromium
)
# Node.js for the web UI: Debian's own (18) unless a node is already on PATH (some machines carry
# a newer one, which must not be replaced).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The web UI's packages, exactly as locked. npm writes node_modules/.package-lock.json on every
# install, so its age tells whether the lockfile changed since.
web="$(cd "$(dirname "$0")/.." && pwd)/web"
if [ ! -f "$web/node_modules/.package-lock.json" ] ||
   [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
  echo "install-deps: npm ci in web/"
  (cd "$web" && npm ci --no-audit --no-fund)
fi
