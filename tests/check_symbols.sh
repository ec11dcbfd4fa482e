#!/bin/sh
# Fails when libomni exports a dynamic symbol that is not part of the
# public omni_ API (or an internal omni__ one). Usage: check_symbols.sh LIB
set -eu
lib="$1"
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//')
count=$(printf '%s\n' "$syms" | grep -c . || true)
bad=$(printf '%s\n' "$syms" | grep -v '^omni_' | grep -v '^OMNI_0$' || true)
internal=$(printf '%s\n' "$syms" | grep '^omni__' || true)
soname=$(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
status=0
if [ -n "$bad" ]; then echo "symbols outside the omni_ prefix:"; echo "$bad"; status=1; fi
if [ -n "$internal" ]; then echo "internal symbols exported:"; echo "$internal"; status=1; fi
if [ "$soname" != "libomni.so.0" ]; then echo "SONAME is '$soname', expected libomni.so.0"; status=1; fi
if [ "$count" -lt 20 ]; then echo "only $count symbols exported"; status=1; fi
if [ $status -eq 0 ]; then echo "$count exported symbols, all omni_; SONAME $soname"; echo "1 passed, 0 failed"; fi
exit $status
