#!/usr/bin/env bash
# make demo-fleet: 4 simulator processes write to one PostgreSQL store at
# once, then the merged report. Runs inside scripts/pg_throwaway.sh, which
# starts a throwaway server and stops it afterwards.
set -euo pipefail
store="$GMSTORE_TEST_PG store=fleet_demo"
names=(sim1 sim2 sim3 sim4)
echo "== 4 simulators writing to one PostgreSQL store at once =="
pids=()
for name in "${names[@]}"; do
  GM_SIM_NAME=$name target/c/simulator "$store" > "target/c/$name.out" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
for name in "${names[@]}"; do
  echo "  $name: $(grep -c 'episode ' "target/c/$name.out" || true) report lines, exit 0"
done
echo
target/c/fleet_report "$store" "${names[@]}"
