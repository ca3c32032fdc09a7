#!/usr/bin/env bash
# `make bench`: every benchmark suite, then BENCHMARKS.md and its plots.
# Each suite appends JSON Lines to one file; bench/report.py turns them
# into the report. Runs: GM_BENCH_RUNS (default 5) for the paired suites.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUNS=${GM_BENCH_RUNS:-5}
out=target/bench
rm -rf "$out" && mkdir -p "$out"
export GM_BENCH_JSON="$PWD/$out/results.jsonl"
start=$(date +%s)

suite() {
  local name=$1; shift
  local t0; t0=$(date +%s)
  echo "== $name"
  "$@" | tee "$out/$name.txt"
  echo "   ($name: $(( $(date +%s) - t0 )) s)"
}

suite core env GM_BENCH_RUNS="$RUNS" cargo bench --quiet --bench core
suite backup env GM_BENCH_RUNS=3 cargo bench --quiet --bench backup
suite scaling cargo bench --quiet --bench scaling
suite python "$PY" bench/python_bench.py --runs "$RUNS"
suite knn "$PY" bench/knn_bench.py --runs "$RUNS"
suite bindings "$PY" bench/bindings_bench.py --runs "$RUNS"
"$PY" -c "import cpprb" 2>/dev/null || "$PY" -m pip install -q "cpprb>=11"
suite replay "$PY" bench/replay_bench.py --runs "$RUNS"
suite postgres scripts/pg_throwaway.sh env GM_BENCH_RUNS="$RUNS" cargo bench --quiet --bench postgres
suite postgres_python scripts/pg_throwaway.sh "$PY" bench/pg_bench.py --runs "$RUNS"
"$PY" -c "import psycopg" 2>/dev/null || "$PY" -m pip install -q "psycopg[binary]>=3.1"
suite postgres_psycopg scripts/pg_throwaway.sh "$PY" bench/pg_python_bench.py --runs "$RUNS"

"$PY" bench/report.py "$GM_BENCH_JSON" --out BENCHMARKS.md \
  --ratio-plot docs/benchmarks.png --scaling-plot docs/scaling.png --writers-plot docs/writers.png \
  --seconds "$(( $(date +%s) - start ))"
