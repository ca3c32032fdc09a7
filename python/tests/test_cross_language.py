"""C writes, Python reads, and the other way round, through the real C
compiler and the real library."""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from gmstore import SQLiteStorage, library_path

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tool(tmp_path_factory):
    cc = shutil.which(os.environ.get("CC", "cc"))
    assert cc, "a C compiler is needed for the cross-language tests"
    out = tmp_path_factory.mktemp("c")
    # the very library this package loaded, under its SONAME for the loader
    shutil.copy2(library_path(), out / "libgmstore.so.0")
    exe = out / "experience_tool"
    subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", f"-I{REPO / 'include'}",
                    str(REPO / "tests" / "c" / "experience_tool.c"), "-o", str(exe),
                    str(out / "libgmstore.so.0"), f"-Wl,-rpath,{out}"], check=True)
    return exe


def run(tool, *args):
    return subprocess.run([str(tool), *map(str, args)], check=True, capture_output=True, text=True).stdout


def test_c_writes_python_reads(tool, tmp_path):
    db = tmp_path / "x.db"
    run(tool, "write", db, "from_c")
    with SQLiteStorage(db) as store:
        x = store.get_episodes_by_context("from_c")[0].experience()
    assert x["label"] == "from C"
    assert x["observation"].dtype == np.float32 and x["observation"].shape == (2, 3)
    np.testing.assert_array_equal(x["observation"], np.arange(6, dtype=np.float32).reshape(2, 3))
    assert x["action"] == 7 and x["action"].dtype == np.int64


def test_python_writes_c_reads(tool, tmp_path):
    db = tmp_path / "y.db"
    obs = np.random.default_rng(7).standard_normal((3, 4))
    with SQLiteStorage(db) as store:
        store.store_episode({"obs": obs, "steps": np.int32(12), "mask": np.array([True, False]), "note": "py"},
                            0.9, "from_py")
    out = run(tool, "read", db, "from_py").splitlines()
    lines = {line.split()[0]: line.split()[1:] for line in out if not line.startswith("values")}
    assert lines["obs"][:2] == ["13", "[3,4]"]
    np.testing.assert_array_equal(np.array(lines["obs"][2:], dtype=np.float64), obs.ravel())
    assert lines["steps"] == ["9", "[]", "12"]
    assert lines["mask"] == ["1", "[2]", "1", "0"]
    assert '"note":"py"' in [line for line in out if line.startswith("values")][0]


def test_simulator_episodes_read_back_as_arrays(tmp_path):
    sim = REPO / "target" / "c" / "simulator"
    if not sim.exists():
        pytest.fail("build the simulator first (make demo or make test builds it)")
    db = tmp_path / "sim.db"
    subprocess.run([str(sim), str(db)], check=True, capture_output=True)
    with SQLiteStorage(db) as store:
        episodes = store.get_episodes_by_context("grid_level_0", limit=100)
        assert episodes
        for e in episodes:
            x = e.experience()
            obs = x["observation"]
            assert obs.dtype == np.float32 and obs.ndim == 3 and obs.shape[1:] == (8, 8)
            assert obs.shape[0] == e.metadata["steps"]
            assert x["strategy"] == e.metadata["strategy"]
            assert np.all(obs.max(axis=(1, 2)) == 1.0), "each step marks the agent"
