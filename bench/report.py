"""Writes BENCHMARKS.md and its plots from the JSON Lines that `make bench`
collects (every suite appends rows to one file).

    python bench/report.py RESULTS.jsonl --out BENCHMARKS.md \
        --ratio-plot docs/benchmarks.png --scaling-plot docs/scaling.png \
        [--seconds 512]

A row with a baseline becomes a ratio (gmstore time / baseline time in the
same run, lower is better). Paired suites, where each run times both sides
once, report the median of the per-run ratios and their range; the k-NN
suite times many single queries per side, so it reports the ratio of the
medians. A target a figure misses is printed as MISSED, never dropped.
Rows from the scaling suite become growth tables with fitted exponents.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

SUITE_TITLES = {
    "core": "Rust API and C ABI vs raw rusqlite",
    "python": "Python package vs the seed's sqlite3 + pickle code",
    "knn": "k-NN vs numpy",
    "backup": "Backup vs a plain file copy",
    "bindings": "Game-engine bindings vs C, per call",
    "postgres": "C ABI on PostgreSQL vs the raw postgres crate",
    "replay": "Replay sampling vs cpprb",
}
# Suites whose rows hold one timing per run for each side, taken together.
PAIRED = {"core", "python", "backup", "bindings", "postgres", "replay"}


@dataclass
class Ratio:
    suite: str
    workload: str
    baseline: str
    gm: list[float]
    base: list[float]
    target: Optional[str]

    @property
    def value(self) -> float:
        if self.suite in PAIRED and len(self.gm) == len(self.base):
            return statistics.median(g / b for g, b in zip(self.gm, self.base))
        return statistics.median(self.gm) / statistics.median(self.base)

    @property
    def spread(self) -> str:
        if self.suite not in PAIRED or len(self.gm) != len(self.base):
            return "-"
        ratios = [g / b for g, b in zip(self.gm, self.base)]
        return f"{min(ratios):.2f}-{max(ratios):.2f}"

    @property
    def verdict(self) -> Optional[bool]:
        """True if the target is met, False if missed, None without one."""
        if not self.target:
            return None
        op, bound = self.target.split()
        return self.value <= float(bound) if op == "<=" else self.value < float(bound)


def ms(values: list[float]) -> str:
    med = statistics.median(values) * 1e3
    if len(values) == 1:
        return f"{med:.1f}"
    return f"{med:.1f} ({min(values) * 1e3:.1f}-{max(values) * 1e3:.1f})"


def command_output(*cmd: str) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> list[tuple[str, str]]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))
    import numpy
    import gmstore
    from gmstore import _native

    return [
        ("CPU", f"{cpu}, {os.cpu_count()} logical cores"),
        ("Memory", mem),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("gmstore", gmstore.version()),
        ("SQLite (bundled)", _native.lib().gm_sqlite_version().decode()),
        ("rustc", command_output("rustc", "--version")),
        ("Python", platform.python_version()),
        ("numpy", numpy.__version__),
    ]


def ratio_table(rows: list[Ratio]) -> list[str]:
    out = ["| workload | gmstore ms, median (range) | baseline ms, median (range) | baseline | ratio | "
           "ratio range | target |",
           "|---|---:|---:|---|---:|---|---|"]
    for r in rows:
        verdict = {None: "-", True: f"{r.target} met", False: f"{r.target} **MISSED**"}[r.verdict]
        out.append(f"| {r.workload} | {ms(r.gm)} | {ms(r.base)} | {r.baseline} | {r.value:.3f} | "
                   f"{r.spread} | {verdict} |")
    return out


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares exponent b of y = a * x^b."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def growth_verdict(exponent: float, expected: float) -> str:
    if abs(exponent - expected) <= 0.25:
        return "as expected"
    return "faster than expected" if exponent > expected else "slower growth than expected"


SNAPSHOT_TARGET_N, SNAPSHOT_TARGET = 1_000_000, 2.0


def snapshot_target_line(concepts: list[dict]) -> list[str]:
    """Issue 18's bar for the snapshot: at a million concepts the first
    query of a fresh handle costs at most twice a cached query."""
    at = [r for r in concepts if r["n"] == SNAPSHOT_TARGET_N and "first_query_snapshot_s" in r]
    if not at:
        return []
    ratio = at[0]["first_query_snapshot_s"] / at[0]["query_s"]
    verdict = "met" if ratio <= SNAPSHOT_TARGET else "**MISSED**"
    return ["", f"First query after open from a snapshot file at {SNAPSHOT_TARGET_N:,} concepts: "
                f"{ratio:.2f}x a cached query (target <= {SNAPSHOT_TARGET:g}: {verdict}). The writer saved "
                "the snapshot, then changed one concept, so each fresh handle also applied the change log."]


def scaling_section(rows: list[dict]) -> list[str]:
    concepts = sorted((r for r in rows if r["what"] == "concepts"), key=lambda r: r["n"])
    episodes = sorted((r for r in rows if r["what"] == "episodes"), key=lambda r: r["n"])
    out: list[str] = []
    if concepts:
        dim = concepts[0]["dim"]
        out += [f"### Concepts ({dim}-d float32)", "",
                "| concepts | insert (us/op) | upsert of an existing name (us/op) | k-NN query, cached (ms) | "
                "first query after open (ms) | first query, snapshot file (ms) | snapshot first / cached | "
                "k-NN cache RSS (MB) | theory N x (4d + 12) (MB) | cache / theory |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in concepts:
            snap = r.get("first_query_snapshot_s")
            snap_cells = "- | -" if snap is None else f"{snap * 1e3:.1f} | {snap / r['query_s']:.2f}"
            out.append(f"| {r['n']:,} | {r['insert_s'] * 1e6:.1f} | {r['upsert_s'] * 1e6:.1f} | "
                       f"{r['query_s'] * 1e3:.2f} | {r['first_query_s'] * 1e3:.1f} | {snap_cells} | "
                       f"{r['knn_cache_bytes'] / 1e6:.0f} | {r['theory_bytes'] / 1e6:.0f} | "
                       f"{r['knn_cache_bytes'] / r['theory_bytes']:.2f} |")
        out += snapshot_target_line(concepts)
        if len(concepts) > 1:
            ns = [r["n"] for r in concepts]
            fits = [("k-NN query, cached", "query_s", 1.0, "O(N d): one pass over the matrix"),
                    ("first query after open", "first_query_s", 1.0, "O(N d): the matrix is read once"),
                    ("insert", "insert_s", 0.0, "O(log N): B-tree descent"),
                    ("upsert", "upsert_s", 0.0, "O(log N): B-tree descent")]
            out += ["", "| measure | fitted exponent b (time ~ N^b) | expected | verdict |", "|---|---:|---|---|"]
            for label, key, expected, why in fits:
                b = slope(ns, [r[key] for r in concepts])
                out.append(f"| {label} | {b:.2f} | {why} | {growth_verdict(b, expected)} |")
    if episodes:
        out += ["", "### Episodes (64-byte experiences, 10 contexts)", "",
                "| episodes in the store | 1,000-row context query (ms) | peak RSS of a process querying it (MB) | "
                "anonymous RSS (MB) | database file (MB) |",
                "|---:|---:|---:|---:|---:|"]
        for r in episodes:
            out.append(f"| {r['n']:,} | {r['context_query_s'] * 1e3:.2f} | {r['peak_rss_bytes'] / 1e6:.1f} | "
                       f"{r['anon_bytes'] / 1e6:.1f} | {r['db_bytes'] / 1e6:.0f} |")
        out += ["", "Memory against theory: gmstore keeps no episode in memory, so a process's RSS is the "
                    "program's code and heap plus SQLite's page cache, at most 2 MiB per connection "
                    "by default (a writer and a reader here), whatever the size of the file."]
        if len(episodes) > 1:
            b = slope([r["n"] for r in episodes], [r["context_query_s"] for r in episodes])
            out += ["", f"Context query: fitted exponent {b:.2f}; expected O(log N + k) for k rows read "
                        f"through the (context_hash, timestamp) index, so close to 0: "
                        f"{growth_verdict(b, 0.0)}."]
    return out


def ratio_plot(rows: list[Ratio], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 0.32 * len(rows) + 1.6))
    names = [r.workload for r in rows]
    # A workload measured against two baselines gets the baseline in its label.
    labels = [f"{r.suite}: {r.workload}" + (f" (vs {r.baseline})" if names.count(r.workload) > 1 else "")
              for r in rows][::-1]
    values = [r.value for r in rows][::-1]
    colours = [{None: "#9e9e9e", True: "#2e7d32", False: "#c62828"}[r.verdict] for r in rows][::-1]
    ax.barh(range(len(rows)), values, color=colours)
    for i, r in enumerate(rows[::-1]):
        if r.target:
            bound = float(r.target.split()[1])
            ax.plot([bound, bound], [i - 0.4, i + 0.4], color="black", linewidth=2)
    ax.axvline(1.0, color="#424242", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel("gmstore time / baseline time in the same run (log scale; lower is better; "
                  "black tick = target)")
    ax.set_title("gmstore benchmarks: green met, red MISSED, grey no target")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def scaling_plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    concepts = sorted((r for r in rows if r["what"] == "concepts"), key=lambda r: r["n"])
    episodes = sorted((r for r in rows if r["what"] == "episodes"), key=lambda r: r["n"])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    if concepts:
        ns = [r["n"] for r in concepts]
        ax = axes[0]
        for key, label in (("query_s", "k-NN query, cached"), ("first_query_s", "first query after open")):
            ys = [r[key] * 1e3 for r in concepts]
            ax.loglog(ns, ys, "o-", label=label)
            ax.loglog(ns, [ys[0] * n / ns[0] for n in ns], ":", color="grey")
        ax.set_title("k-NN time vs concepts (dotted: O(N))")
        ax.set_xlabel("concepts")
        ax.set_ylabel("ms")
        ax.legend()
        ax = axes[1]
        for key, label in (("insert_s", "insert"), ("upsert_s", "upsert of an existing name")):
            ax.semilogx(ns, [r[key] * 1e6 for r in concepts], "o-", label=label)
        ax.set_ylim(bottom=0)
        ax.set_title("concept write cost vs concepts")
        ax.set_xlabel("concepts")
        ax.set_ylabel("us per operation")
        ax.legend()
    if episodes:
        ax = axes[2]
        ax.semilogx([r["n"] for r in episodes], [r["context_query_s"] * 1e3 for r in episodes], "o-")
        ax.set_ylim(bottom=0)
        ax.set_title("1,000-row context query vs episodes")
        ax.set_xlabel("episodes in the store")
        ax.set_ylabel("ms")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def writers_section(rows: list[dict], plot_link: str) -> list[str]:
    out = ["", "## Writes per second on PostgreSQL", "", f"![writes per second]({plot_link})", "",
           "Single-row writes (`store_episode`, a commit each) to one server store by 1, 2 and 4 "
           "processes at once, each through its own handle; writes per second over the wall time of "
           "all of them, median and range of the runs.", "",
           "| processes | writes | writes/s (median) | range |", "|---:|---:|---:|---|"]
    for row in sorted(rows, key=lambda r: r["processes"]):
        rates = [row["writes"] / t for t in row["gm_s"]]
        out.append(f"| {row['processes']} | {row['writes']:,} | {statistics.median(rates):,.0f} | "
                   f"{min(rates):,.0f}-{max(rates):,.0f} |")
    return out


def writers_plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(rows, key=lambda r: r["processes"])
    procs = [r["processes"] for r in rows]
    rates = [[r["writes"] / t for t in r["gm_s"]] for r in rows]
    medians = [statistics.median(x) for x in rates]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(procs, medians, marker="o", label="median")
    ax.fill_between(procs, [min(x) for x in rates], [max(x) for x in rates], alpha=0.25, label="range of runs")
    ax.set_xticks(procs)
    ax.set_xlabel("writer processes")
    ax.set_ylabel("writes per second (all processes)")
    ax.set_ylim(bottom=0)
    ax.set_title("Single writes to one PostgreSQL store")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def load(path: Path) -> tuple[list[Ratio], list[dict], list[dict], list[dict]]:
    ratios, scaling, single, writers = [], [], [], []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row["suite"] == "scaling":
            scaling.append(row)
        elif row["suite"] == "writers":
            writers.append(row)
        elif row.get("base_s"):
            ratios.append(Ratio(row["suite"], row["workload"], row["baseline"], row["gm_s"], row["base_s"],
                                row.get("target")))
        else:
            single.append(row)
    return ratios, scaling, single, writers


def render(ratios, scaling, single, writers, args) -> str:
    out = ["# gmstore benchmarks", "",
           f"Generated by `make bench` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
           + (f" in {args.seconds / 60:.1f} minutes" if args.seconds else "")
           + ". Do not edit by hand: run `make bench` and commit the result.", "",
           "Every figure is a ratio: gmstore's time divided by the baseline's time, both measured in the "
           "same run on the same machine (lower is better; below 1 gmstore is faster). Times are medians "
           "over the runs, with the range of the runs in brackets; the ratio range shows the spread of the "
           "per-run ratios. This machine has 2 noisy cores, so read single runs with care.", "",
           "## Machine", "", "| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in machine()]
    missed = [r for r in ratios if r.verdict is False]
    out += ["", "## Ratios", "", f"![ratios]({args.ratio_plot_link})", ""]
    if missed:
        out += [f"**{len(missed)} target(s) missed:** " + "; ".join(f"{r.suite}: {r.workload} "
                                                                    f"({r.value:.2f}, target {r.target})"
                                                                    for r in missed) + ".", ""]
    else:
        out += ["Every target is met.", ""]
    for suite, title in SUITE_TITLES.items():
        rows = [r for r in ratios if r.suite == suite]
        if rows:
            out += [f"### {title}", ""] + ratio_table(rows) + [""]
    for row in single:
        if "memory_bytes" in row:
            out += [f"- {row['workload']}: {row['memory_bytes'] / 1e6:.0f} MB resident as it loads "
                    f"(median of {row['runs']}) vs {row['theory_bytes'] / 1e6:.0f} MB in theory: "
                    f"{row['memory_bytes'] / row['theory_bytes']:.2f}x."]
            continue
        extra = f", {row['edges']:,} edges" if "edges" in row else ""
        out += [f"- {row['workload']}: {ms(row['gm_s'])} ms, one call{extra}."]
    if scaling:
        out += ["", "## Scaling", "", f"![scaling]({args.scaling_plot_link})", ""] + scaling_section(scaling)
    if writers:
        out += writers_section(writers, args.writers_plot_link)
    notes = Path(__file__).with_name("NOTES.md")
    if notes.exists():
        out += ["", notes.read_text().strip()]
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    ap.add_argument("--ratio-plot", type=Path, default=Path("docs/benchmarks.png"))
    ap.add_argument("--scaling-plot", type=Path, default=Path("docs/scaling.png"))
    ap.add_argument("--writers-plot", type=Path, default=Path("docs/writers.png"))
    ap.add_argument("--seconds", type=float, default=0.0, help="wall time of the whole run")
    args = ap.parse_args()
    ratios, scaling, single, writers = load(args.results)
    if not ratios:
        sys.exit(f"{args.results}: no benchmark rows")
    args.ratio_plot.parent.mkdir(parents=True, exist_ok=True)
    ratio_plot(ratios, args.ratio_plot)
    if scaling:
        scaling_plot(scaling, args.scaling_plot)
    if writers:
        writers_plot(writers, args.writers_plot)
    base = args.out.resolve().parent
    args.ratio_plot_link = os.path.relpath(args.ratio_plot.resolve(), base)
    args.scaling_plot_link = os.path.relpath(args.scaling_plot.resolve(), base)
    args.writers_plot_link = os.path.relpath(args.writers_plot.resolve(), base)
    args.out.write_text(render(ratios, scaling, single, writers, args))
    print(f"wrote {args.out}, {args.ratio_plot}" + (f", {args.scaling_plot}" if scaling else ""))


if __name__ == "__main__":
    main()
