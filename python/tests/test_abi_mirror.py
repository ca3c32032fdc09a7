"""The Python mirror of the C ABI cannot drift from the header: every
ctypes struct and every ``struct`` format the package packs by hand is
compared with what the real C compiler makes of include/gmstore.h, and the
declared function table with the library's exported ``gm_*`` symbols."""

import ctypes
import re
import struct
import subprocess
from pathlib import Path

import pytest

from gmstore import _native as n
from gmstore import experience, replay, storage

REPO = Path(__file__).resolve().parents[2]
HEADER = REPO / "include" / "gmstore.h"

# ctypes class -> C typedef
STRUCTS = {
    n.Options: "gm_options", n.EpisodeInput: "gm_episode_input", n.LearningEventInput: "gm_learning_event_input",
    n.Episode: "gm_episode", n.EpisodeList: "gm_episode_list", n.Concept: "gm_concept",
    n.ConceptList: "gm_concept_list", n.Relationship: "gm_relationship", n.RelationshipList: "gm_relationship_list",
    n.LearningEvent: "gm_learning_event", n.LearningEventList: "gm_learning_event_list", n.Strategy: "gm_strategy",
    n.StrategyList: "gm_strategy_list", n.Value: "gm_value", n.Stats: "gm_stats", n.Tensor: "gm_tensor",
    n.TensorEpisodeInput: "gm_tensor_episode_input", n.Buffer: "gm_buffer", n.TensorInfo: "gm_tensor_info",
    n.Experience: "gm_experience", n.SearchFilter: "gm_search_filter", n.Neighbor: "gm_neighbor",
    n.NeighborList: "gm_neighbor_list", n.Reached: "gm_reached", n.ReachedList: "gm_reached_list",
    n.PathResult: "gm_path", n.StrategyQuery: "gm_strategy_query", n.StrategySummary: "gm_strategy_summary",
    n.StrategySummaryList: "gm_strategy_summary_list", n.SuggestOptions: "gm_suggest_options",
    n.Suggestion: "gm_suggestion", n.SamplerConfig: "gm_sampler_config", n.Sample: "gm_sample",
    n.PriorityUpdate: "gm_priority_update", n.RetentionPolicy: "gm_retention_policy", n.Evictions: "gm_evictions",
    n.RetentionStatus: "gm_retention_status", n.Pruned: "gm_pruned",
}
# hand-packed formats -> (C typedef, its fields in the format's order)
PACKED = {
    "experience._TENSOR": (experience._TENSOR, "gm_tensor"),
    "storage._EPISODE": (storage._EPISODE, "gm_episode"),
}


@pytest.fixture(scope="module")
def compiler_view(tmp_path_factory):
    """{typedef: (sizeof, {field: offsetof})} as the C compiler lays them out."""
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "gmstore.h"', "int main(void) {"]
    for cls, cname in STRUCTS.items():
        lines.append(f'printf("{cname} size %zu\\n", sizeof({cname}));')
        for field, *_ in cls._fields_:
            lines.append(f'printf("{cname} {field} %zu\\n", offsetof({cname}, {field}));')
    lines.append("return 0; }")
    d = tmp_path_factory.mktemp("abi")
    (d / "layout.c").write_text("\n".join(lines))
    subprocess.run(["cc", "-Wall", "-Werror", "-I", str(HEADER.parent), str(d / "layout.c"), "-o", str(d / "layout")],
                   check=True)
    view: dict = {}
    for line in subprocess.run([str(d / "layout")], check=True, capture_output=True, text=True).stdout.splitlines():
        cname, what, value = line.split()
        size, offsets = view.setdefault(cname, [0, {}])
        if what == "size":
            view[cname][0] = int(value)
        else:
            offsets[what] = int(value)
    return view


def test_every_header_struct_is_mirrored():
    declared = set(re.findall(r"typedef struct (gm_\w+) \{", HEADER.read_text()))
    assert declared == set(STRUCTS.values())


@pytest.mark.parametrize("cls", list(STRUCTS), ids=lambda c: STRUCTS[c])
def test_ctypes_struct_matches_the_compiler(cls, compiler_view):
    size, offsets = compiler_view[STRUCTS[cls]]
    assert ctypes.sizeof(cls) == size
    assert {f: getattr(cls, f).offset for f, *_ in cls._fields_} == offsets


@pytest.mark.parametrize("name", list(PACKED))
def test_packed_formats_match_the_compiler(name, compiler_view):
    fmt, cname = PACKED[name]
    cls = next(c for c, v in STRUCTS.items() if v == cname)
    size, offsets = compiler_view[cname]
    assert fmt.size == size
    # the offset of each value the format packs, in order, padding skipped
    codes = re.findall(r"\d*[a-zA-Z?]", fmt.format.lstrip("<"))
    starts = [struct.calcsize("<" + "".join(codes[:i])) for i, c in enumerate(codes) if not c.endswith("x")]
    assert starts == [offsets[f] for f, *_ in cls._fields_][:len(starts)]
    assert len(starts) == len([f for f, *_ in cls._fields_ if f != "reserved"])


@pytest.mark.parametrize("dtype,cname", [(replay.SAMPLE_DTYPE, "gm_sample"),
                                         (replay.UPDATE_DTYPE, "gm_priority_update")])
def test_numpy_records_match_the_compiler(dtype, cname, compiler_view):
    # The sampler passes numpy record arrays straight to the library.
    size, offsets = compiler_view[cname]
    assert dtype.itemsize == size
    assert {f: dtype.fields[f][1] for f in dtype.names} == offsets


def test_function_table_matches_the_exports():
    library = n.library_path()
    exported = subprocess.run(["nm", "-D", "--defined-only", library], check=True, capture_output=True,
                              text=True).stdout
    symbols = {line.split()[-1] for line in exported.splitlines() if " T gm_" in line}
    assert set(n._SIGNATURES) == symbols


def test_status_codes_and_enumerated_constants_match_the_header():
    # Every named value is an enum constant (C#, LuaJIT see those; not macros).
    header = HEADER.read_text()
    found = re.findall(r"^\s+(GM_\w+) = (\d+),$", header, re.M)
    assert len(found) >= 44
    for name, value in found:
        assert getattr(n, name) == int(value), name
    assert not re.search(r"#define (GM_ERR_|GM_OK|GM_DTYPE_|GM_METRIC_)", header)
