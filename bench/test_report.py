"""bench/report.py on fixed results: what the published report claims must
follow from the numbers (ratios, misses, growth exponents, the plots)."""

import json
import subprocess
import sys
from pathlib import Path

REPORT = Path(__file__).with_name("report.py")


def write_results(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def run_report(tmp_path, rows):
    results = tmp_path / "results.jsonl"
    write_results(results, rows)
    out, ratio_png, scaling_png = tmp_path / "B.md", tmp_path / "docs" / "r.png", tmp_path / "docs" / "s.png"
    subprocess.run([sys.executable, str(REPORT), str(results), "--out", str(out), "--ratio-plot", str(ratio_png),
                    "--scaling-plot", str(scaling_png), "--writers-plot", str(tmp_path / "docs" / "w.png"),
                    "--seconds", "90"], check=True, capture_output=True)
    return out.read_text(), ratio_png, scaling_png


def table_row(text, workload):
    return next(line for line in text.splitlines() if line.startswith(f"| {workload} |"))


ROWS = [
    # paired: per-run ratios 0.5, 2.0, 0.8 -> median 0.8 (the ratio of medians would be 1.0)
    {"suite": "core", "workload": "paired write", "baseline": "raw", "gm_s": [1.0, 4.0, 1.6],
     "base_s": [2.0, 2.0, 2.0], "target": "<= 1.2"},
    {"suite": "python", "workload": "slow write", "baseline": "sqlite3", "gm_s": [3.0, 3.0, 3.0],
     "base_s": [1.0, 1.0, 1.0], "target": "<= 0.5"},
    # unpaired: ratio of medians 2 ms / 4 ms
    {"suite": "knn", "workload": "single query", "baseline": "numpy", "gm_s": [0.001, 0.002, 0.009],
     "base_s": [0.004, 0.004], "target": "<= 1.2"},
    {"suite": "knn", "workload": "graph", "gm_s": [0.25], "edges": 1234},
] + [
    {"suite": "scaling", "what": "concepts", "n": n, "dim": 8, "insert_s": 1e-5, "upsert_s": 2e-5,
     "query_s": n * 1e-7, "first_query_s": n * 1e-6, "knn_cache_bytes": n * 48, "theory_bytes": n * 44,
     "rss_file_bytes": 0, "db_bytes": n * 100}
    for n in (10_000, 50_000, 200_000)
] + [
    {"suite": "scaling", "what": "concepts", "n": 1_000_000, "dim": 8, "insert_s": 1e-5, "upsert_s": 2e-5,
     "query_s": 0.1, "first_query_s": 0.5, "first_query_snapshot_s": 0.25, "knn_cache_bytes": 48e6,
     "theory_bytes": 44e6, "rss_file_bytes": 0, "db_bytes": 1e8}
] + [
    {"suite": "scaling", "what": "episodes", "n": n, "rows": 1000, "context_query_s": 0.001,
     "peak_rss_bytes": 7e6, "anon_bytes": 2e6, "db_bytes": n * 150}
    for n in (10_000, 100_000)
]


def test_ratios_targets_and_misses(tmp_path):
    text, _, _ = run_report(tmp_path, ROWS)
    assert "| 0.800 | 0.50-2.00 | <= 1.2 met |" in table_row(text, "paired write")
    assert "| 3.000 |" in table_row(text, "slow write") and "**MISSED**" in table_row(text, "slow write")
    assert "| 0.500 | - | <= 1.2 met |" in table_row(text, "single query")
    assert "**1 target(s) missed:** python: slow write (3.00, target <= 0.5)" in text
    assert "graph: 250.0 ms, one call, 1,234 edges" in text
    assert "in 1.5 minutes" in text


def test_scaling_exponents_and_memory(tmp_path):
    text, _, _ = run_report(tmp_path, ROWS)
    assert "| k-NN query, cached | 1.00 |" in text and "as expected" in table_row(text, "k-NN query, cached")
    assert "| insert | 0.00 |" in text
    assert "| 200,000 |" in text and "| 1.09 |" in table_row(text, "200,000")
    assert "Context query: fitted exponent 0.00" in text


def test_snapshot_first_query_against_its_target(tmp_path):
    text, _, _ = run_report(tmp_path, ROWS)
    assert "| 250.0 | 2.50 |" in table_row(text, "1,000,000")
    assert "| - | - |" in table_row(text, "200,000")
    assert "2.50x a cached query (target <= 2: **MISSED**)" in text
    met = [dict(r, first_query_snapshot_s=0.15) if r.get("n") == 1_000_000 else r for r in ROWS]
    assert "1.50x a cached query (target <= 2: met)" in run_report(tmp_path, met)[0]


def test_every_miss_is_shown_and_plots_are_pngs(tmp_path):
    text, ratio_png, scaling_png = run_report(tmp_path, ROWS)
    assert "Every target is met" not in text
    for png in (ratio_png, scaling_png):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![ratios](docs/r.png)" in text


def test_all_met_is_said_and_no_rows_is_an_error(tmp_path):
    text, _, _ = run_report(tmp_path, ROWS[:1])
    assert "Every target is met." in text
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    failed = subprocess.run([sys.executable, str(REPORT), str(empty), "--out", str(tmp_path / "x.md")],
                            capture_output=True, text=True)
    assert failed.returncode != 0 and "no benchmark rows" in failed.stderr


def test_writes_per_second_are_writes_over_each_runs_time_with_a_plot(tmp_path):
    rows = ROWS + [
        {"suite": "writers", "workload": "6,000 single writes by 1 process(es)", "processes": 1, "writes": 6000,
         "gm_s": [3.0, 2.0, 6.0], "runs": 3},
        {"suite": "writers", "workload": "6,000 single writes by 2 process(es)", "processes": 2, "writes": 6000,
         "gm_s": [1.0, 1.5, 4.0], "runs": 3},
    ]
    text, _, _ = run_report(tmp_path, rows)
    assert "## Writes per second on PostgreSQL" in text
    # rates 2,000 / 3,000 / 1,000 -> median 2,000; 6,000 / 4,000 / 1,500 -> median 4,000
    assert "| 1 | 6,000 | 2,000 | 1,000-3,000 |" in text
    assert "| 2 | 6,000 | 4,000 | 1,500-6,000 |" in text
    assert "writes by 1 process(es): " not in text  # not listed again as a one-call row
    assert (tmp_path / "docs" / "w.png").stat().st_size > 1000


def test_sampler_memory_is_shown_against_its_theory(tmp_path):
    rows = ROWS + [{"suite": "replay_memory", "workload": "sampler memory at 1,000,000 episodes",
                    "memory_bytes": 90e6, "theory_bytes": 72e6, "runs": 3}]
    text, _, _ = run_report(tmp_path, rows)
    assert "sampler memory at 1,000,000 episodes: 90 MB resident as it loads (median of 3) vs 72 MB in theory: 1.25x" in text
