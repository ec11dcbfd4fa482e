#!/bin/sh
# Installs libomni into a temporary root with `meson install`, then builds
# and runs a small C program against the installed library through
# pkg-config (headers, libomni.pc, SONAME libomni.so.0).
set -eu
build="${1:-build}"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --destdir "$root" --quiet >/dev/null
pc=$(find "$root" -name libomni.pc | head -n 1)
[ -n "$pc" ] || { echo "libomni.pc not installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$root"
libdir=$(pkg-config --variable=libdir libomni)
[ -e "$root$libdir/libomni.so.0" ] || [ -e "$libdir/libomni.so.0" ] || { echo "libomni.so.0 missing"; exit 1; }
cc -std=c11 -Wall -Wextra -Werror -o "$root/hello" "$(dirname "$0")/hello.c" \
   $(pkg-config --cflags --libs libomni)
out=$(LD_LIBRARY_PATH="$(dirname "$(find "$root" -name 'libomni.so.0' | head -n 1)")" "$root/hello")
expected="libomni $(pkg-config --modversion libomni) ok"
if [ "$out" != "$expected" ]; then
  echo "installed program printed '$out', expected '$expected'"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "$out"
echo "1 passed, 0 failed"
