#!/bin/sh
# Differential test: renders tests/data/templates/cases.json with
# handlebars.js 4.7.8 (installed here with npm into a cache folder outside
# the source tree) and compares libomni's output byte for byte.
#
# usage: run_differential.sh DRIVER CASES_JSON
# Exit 77 (meson: skipped) when node or npm is absent.
#
# The cache folder is $OMNI_HANDLEBARS_CACHE, else
# $OMNI_BUILD_DIR/handlebars-4.7.8, else ${TMPDIR:-/tmp}/omni-handlebars-4.7.8.
set -eu

driver=$1
cases=$2
here=$(cd "$(dirname "$0")" && pwd)
version=4.7.8

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node or npm not found: skipping the handlebars.js differential test"
    exit 77
fi

if [ -n "${OMNI_HANDLEBARS_CACHE:-}" ]; then
    cache=$OMNI_HANDLEBARS_CACHE
elif [ -n "${OMNI_BUILD_DIR:-}" ]; then
    cache=$OMNI_BUILD_DIR/handlebars-$version
else
    cache=${TMPDIR:-/tmp}/omni-handlebars-$version
fi
pkg=$cache/node_modules/handlebars

installed=""
if [ -f "$pkg/package.json" ]; then
    installed=$(node -e 'process.stdout.write(require(process.argv[1]).version)' \
        "$pkg/package.json")
fi
if [ "$installed" != "$version" ]; then
    mkdir -p "$cache"
    [ -f "$cache/package.json" ] || printf '{"private":true}\n' > "$cache/package.json"
    echo "installing handlebars@$version into $cache"
    (cd "$cache" && npm install --no-save --no-audit --no-fund --loglevel=error \
        "handlebars@$version")
fi

expected=$cache/expected-$$.json
trap 'rm -f "$expected"' EXIT INT TERM
node "$here/render_handlebars.js" "$pkg" "$cases" "$expected"
"$driver" "$cases" "$expected"
