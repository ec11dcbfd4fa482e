#!/bin/sh
# Installs the Debian packages libomni needs to build and test, and only the
# missing ones (apt-get runs only when something is missing). Idempotent.
# Usage: scripts/deps.sh [build|check]   (check adds test-only tools)
set -eu
mode="${1:-build}"

pkgs="gcc pkg-config meson ninja-build libcjson-dev libssl-dev libcurl4-openssl-dev
      libuv1-dev libsqlite3-dev tzdata"
if [ "$mode" = check ]; then
  pkgs="$pkgs libcriterion-dev clang libclang-rt-14-dev binutils python3 python3-pytest
        python3-phonenumbers libnghttp2-dev"
fi
# Node-API headers: Debian's nodejs ships them with libnode-dev; NodeSource's
# nodejs ships /usr/include/node itself.
if command -v node >/dev/null 2>&1 && [ ! -f /usr/include/node/node_api.h ]; then
  if dpkg-query -W -f='${Status}' nodejs 2>/dev/null | grep -q 'install ok installed' &&
     ! dpkg-query -W -f='${Version}' nodejs | grep -q nodesource; then
    pkgs="$pkgs libnode-dev"
  fi
fi

missing=""
for p in $pkgs; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done
# python3-pytest is only needed when the python on PATH has no pytest.
case "$missing" in
  *python3-pytest*)
    if python3 -c 'import pytest' >/dev/null 2>&1; then
      missing=$(echo "$missing" | sed 's/ python3-pytest//')
    fi ;;
esac

if [ -n "$missing" ]; then
  echo "deps: installing$missing"
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages and not root; run as root: apt-get install$missing" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing
fi
