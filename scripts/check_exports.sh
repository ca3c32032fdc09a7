#!/usr/bin/env bash
# Checks that a shared library exports only gm_* symbols and has a SONAME.
set -euo pipefail
lib=${1:?usage: check_exports.sh libgmstore.so}
others=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^gm_' || true)
if [ -n "$others" ]; then
  echo "$lib exports symbols other than gm_*:"; echo "$others"; exit 1
fi
count=$(nm -D --defined-only "$lib" | grep -c ' gm_')
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libgmstore.so.0" ] || { echo "$lib: SONAME is '$soname', expected libgmstore.so.0"; exit 1; }
echo "exports: $count gm_* symbols, nothing else; SONAME $soname"
