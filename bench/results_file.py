"""Where the Python benchmarks append their rows for bench/report.py."""

import json
import os


def emit(row: dict) -> None:
    """Appends a result row to the JSON Lines file named by GM_BENCH_JSON
    (set by `make bench`); does nothing when it is unset."""
    path = os.environ.get("GM_BENCH_JSON")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")
