"""Semantic search with gmstore: nearest concepts, batches, filters, the
similarity graph in one call, and multi-hop traversal.

    python examples/python/semantic_search.py
"""

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
from gmstore import SQLiteStorage  # noqa: E402

rng = np.random.default_rng(42)
topics = {"vision": rng.standard_normal(64), "language": rng.standard_normal(64), "control": rng.standard_normal(64)}

with tempfile.TemporaryDirectory() as d, SQLiteStorage(Path(d) / "memory.db") as store:
    with store._transaction():
        for topic, centre in topics.items():
            for i in range(200):
                store.store_concept(f"{topic}_{i:03}", centre + 0.6 * rng.standard_normal(64),
                                    metadata={"topic": topic})

    query = topics["vision"] + 0.1 * rng.standard_normal(64)
    print("nearest to a vision-like vector (cosine):")
    for cid, name, score in store.nearest_concepts(query, k=5):
        print(f"  {name:14} {score:.3f}")

    print("nearest by L2, names containing 'control' only:")
    for cid, name, dist in store.nearest_concepts(query, k=3, metric="l2", name_pattern="control"):
        print(f"  {name:14} distance {dist:.2f}")

    batch = store.nearest_concepts_batch(np.stack(list(topics.values())), k=1)
    print("best match per topic centre:", [found[0][1] for found in batch])

    edges = store.build_similarity_graph(threshold=0.85, relationship_type="similar_to")
    print(f"similarity graph: {edges} edges at cosine >= 0.85, in one call")

    start_id, start_name = next((c.id, c.name) for c in store.search_concepts("", limit=1000)
                                if store.get_concept_relationships(c.id))
    hood = store.concept_neighborhood(start_id, max_hops=2, min_strength=0.85)
    print(f"{len(hood)} concepts within 2 hops of {start_name}, e.g. {hood[:3]}")
    if hood:
        path = store.strongest_path(start_id, hood[-1][0])
        print(f"strongest path to {hood[-1][1]}: {path[0]} (product of strengths {path[1]:.3f})")
