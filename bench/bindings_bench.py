"""Per-call cost of gm_get_episode from C#/Mono and LuaJIT against C, in
one run: each round runs the C loop, the C# loop and the LuaJIT loop on the
same file, one after the other, and the ratio is taken per round (medians
reported). Built by `make bench` (target/c/get_episode_bench,
target/cs/GetEpisodeBench.exe)."""

import argparse
import os
import statistics
import subprocess
import tempfile

from results_file import emit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, env=None) -> dict:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, **(env or {})}).stdout
    # seconds per 1,000 calls, so the report's milliseconds read as us/call
    return {name: float(ns) * 1e-6 for name, ns in (line.split() for line in out.splitlines())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--calls", type=int, default=200_000)
    args = ap.parse_args()
    lib = os.path.join(ROOT, "target", "release")
    env = {"LD_LIBRARY_PATH": lib, "GMSTORE_LIB": os.path.join(lib, "libgmstore.so")}
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "bindings.db")
        subprocess.run(["target/c/get_episode_bench", db, "prepare"], check=True, cwd=ROOT)
        n = str(args.calls)
        rounds = []
        for _ in range(args.runs):
            times = run(["target/c/get_episode_bench", db, n])
            times.update(run(["mono", "target/cs/GetEpisodeBench.exe", db, n], env))
            times.update(run(["luajit", "bench/bindings/get_episode.lua", db, n], env))
            rounds.append(times)
    rows = [
        ("csharp_view", "gm_get_episode x1,000, C# (Mono) EpisodeView", "<= 1.2"),
        ("lua_view", "gm_get_episode x1,000, LuaJIT episode_view", "<= 1.2"),
        ("csharp_copy", "gm_get_episode x1,000, C# GetEpisode (copied to managed objects)", None),
        ("lua_copy", "gm_get_episode x1,000, LuaJIT get_episode (copied to a table)", None),
    ]
    print("| workload | binding (ms) | C (ms) | ratio (median) |")
    print("|---|---:|---:|---:|")
    for key, workload, target in rows:
        gm = [r[key] for r in rounds]
        base = [r["c"] for r in rounds]
        ratio = statistics.median(g / b for g, b in zip(gm, base))
        print(f"| {workload} | {statistics.median(gm) * 1e3:.2f} | {statistics.median(base) * 1e3:.2f} | {ratio:.3f} |")
        emit({"suite": "bindings", "workload": workload, "baseline": "the same loop in C", "gm_s": gm, "base_s": base,
              "target": target, "runs": args.runs})


if __name__ == "__main__":
    main()
