"""Every code example of the seed document, run against the gmstore package.

The example code is the seed's, unchanged but for the import lines
(`from src.storage import SQLiteStorage` becomes `from gmstore import ...`).
Where an example relies on something the seed does not define (a logger,
the EpisodicMemory base class, `invalid_data`, episode files) this script
provides a minimal stand-in, marked as such. It runs in a temporary folder,
and ends with a cross-language round trip: episodes written by the C
simulator read back here as numpy arrays.

    python examples/python/seed_examples.py
"""

import logging
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))

from gmstore import SQLiteStorage  # was: from src.storage import SQLiteStorage  # noqa: E402
from gmstore import SQLiteStorageError  # was: from src.storage.sqlite_storage import ...  # noqa: E402

logging.basicConfig(level=logging.INFO, format="%(message)s")
logger = logging.getLogger("seed_examples")  # stand-in: the seed uses a logger it does not define

workdir = tempfile.mkdtemp(prefix="gmstore_seed_")
os.chdir(workdir)
print(f"running the seed's examples in {workdir}")

# ---- Configuration -----------------------------------------------------------
# Basic setup
sqlite_store = SQLiteStorage(db_path="godly_ai.db")

# Advanced configuration
sqlite_store = SQLiteStorage(
    db_path="./data/godly_ai.db",
    backup_interval=3600,      # Backup every hour
    max_backups=24,           # Keep 24 backups (1 day)
    enable_wal=True,          # Enable WAL mode for better concurrency
    connection_timeout=30.0   # 30 second timeout
)

# ---- store_episode ---------------------------------------------------------------
episode_id = sqlite_store.store_episode(
    experience_data={
        "observation": np.random.rand(84, 84, 3),
        "action": "move_forward",
        "reward": 1.0,
        "next_observation": np.random.rand(84, 84, 3)
    },
    performance_score=0.85,
    context_hash="navigation_task_level_1",
    timestamp=time.time(),  # Optional, defaults to current time
    metadata={"difficulty": "medium", "episode_length": 150}
)
print(f"Stored episode with ID: {episode_id}")

# ---- retrieve_episode ------------------------------------------------------------
episode = sqlite_store.retrieve_episode(episode_id)
if episode:
    print(f"Episode {episode.id}: score={episode.performance_score}")
    print(f"Context: {episode.context_hash}")
    print(f"Metadata: {episode.metadata}")

# ---- get_episodes_by_context -----------------------------------------------------
episodes = sqlite_store.get_episodes_by_context(
    context_hash="navigation_task_level_1",
    limit=50,
    min_score=0.7  # Only episodes with score >= 0.7
)

for episode in episodes:
    print(f"Episode {episode.id}: {episode.performance_score}")

# ---- get_recent_episodes ---------------------------------------------------------
recent_episodes = sqlite_store.get_recent_episodes(
    time_window=3600.0,  # Last hour
    limit=100
)

print(f"Found {len(recent_episodes)} recent episodes")

# ---- store_concept ---------------------------------------------------------------
concept_id = sqlite_store.store_concept(
    name="neural_network",
    embedding=np.random.rand(512),  # 512-dimensional embedding
    metadata={
        "category": "machine_learning",
        "confidence": 0.95,
        "source": "wikipedia"
    },
    creation_time=time.time()  # Optional
)

# ---- retrieve_concept ------------------------------------------------------------
concept = sqlite_store.retrieve_concept(concept_id)
if concept:
    embedding = sqlite_store._deserialize_array(concept.embedding)
    print(f"Concept: {concept.name}")
    print(f"Embedding shape: {embedding.shape}")
    print(f"Access count: {concept.access_count}")

# ---- retrieve_concept_by_name ----------------------------------------------------
concept = sqlite_store.retrieve_concept_by_name("neural_network")
if concept:
    print(f"Concept accessed {concept.access_count} times")

# ---- search_concepts -------------------------------------------------------------
# Find all concepts containing "neural"
neural_concepts = sqlite_store.search_concepts("neural", limit=10)

for concept in neural_concepts:
    print(f"Found: {concept.name} (accessed {concept.access_count} times)")

# ---- add_concept_relationship ----------------------------------------------------
# stand-in: the seed's example assumes three concepts exist
concept1_id = concept_id
concept2_id = sqlite_store.store_concept("deep_learning", np.random.rand(512))
concept3_id = sqlite_store.store_concept("machine_learning", np.random.rand(512))

# Add relationship between concepts
success = sqlite_store.add_concept_relationship(
    source_id=concept1_id,
    target_id=concept2_id,
    relationship_type="similar_to",
    strength=0.8
)

# Add different relationship types
sqlite_store.add_concept_relationship(
    source_id=concept1_id,
    target_id=concept3_id,
    relationship_type="part_of",
    strength=0.9
)

# ---- get_concept_relationships ---------------------------------------------------
# Get all relationships
relationships = sqlite_store.get_concept_relationships(concept_id)

# Get specific relationship type
similar_relationships = sqlite_store.get_concept_relationships(
    concept_id,
    relationship_type="similar_to"
)

for target_id, rel_type, strength in relationships:
    print(f"Relationship: {rel_type} -> {target_id} (strength: {strength})")

# ---- store_learning_event --------------------------------------------------------
event_id = sqlite_store.store_learning_event(
    task_type="image_classification",
    performance_delta=0.15,  # 15% improvement
    strategy_used="adam_optimizer",
    parameters={
        "learning_rate": 0.001,
        "batch_size": 32,
        "epochs": 10
    },
    timestamp=time.time()  # Optional
)

# ---- get_learning_events_by_task -------------------------------------------------
events = sqlite_store.get_learning_events_by_task(
    task_type="image_classification",
    limit=50,
    min_performance_delta=0.05  # Only improvements >= 5%
)

for event in events:
    print(f"Strategy: {event.strategy_used}, Delta: {event.performance_delta}")

# ---- get_best_strategies ---------------------------------------------------------
best_strategies = sqlite_store.get_best_strategies(
    task_type="image_classification",
    limit=5
)

for strategy, avg_delta, usage_count in best_strategies:
    print(f"{strategy}: {avg_delta:.3f} avg improvement ({usage_count} uses)")

# ---- create_backup ---------------------------------------------------------------
backup_path = sqlite_store.create_backup()
print(f"Backup created: {backup_path}")

# Create backup with custom path
custom_backup = sqlite_store.create_backup("./backups/manual_backup.db")

# ---- vacuum_database -------------------------------------------------------------
success = sqlite_store.vacuum_database()
if success:
    print("Database vacuumed successfully")

# ---- get_database_stats ----------------------------------------------------------
stats = sqlite_store.get_database_stats()
print(f"Episodes: {stats['episodes_count']}")
print(f"Concepts: {stats['concepts_count']}")
print(f"Learning events: {stats['learning_events_count']}")
print(f"Database size: {stats['db_size_mb']:.1f} MB")
print(f"Schema version: {stats['schema_version']}")

# ---- auto_backup_if_needed -------------------------------------------------------
backup_path = sqlite_store.auto_backup_if_needed()
if backup_path:
    print(f"Automatic backup created: {backup_path}")

# ---- Error handling: transaction errors --------------------------------------------
invalid_data = {"observation": {1, 2, 3}}  # stand-in: a set cannot be stored
try:
    episode_id = sqlite_store.store_episode(
        experience_data=invalid_data,
        performance_score=0.8,
        context_hash="test"
    )
except (SQLiteStorageError, TypeError) as e:  # a TypeError: the data never reaches the store
    print(f"Transaction failed: {e}")
try:
    sqlite_store.store_episode(experience_data={"x": 1}, performance_score=float("nan"), context_hash="test")
except SQLiteStorageError as e:
    print(f"Transaction failed: {e}")

# ---- Connection management ---------------------------------------------------------
# Use context manager for automatic cleanup
with SQLiteStorage("test.db") as storage:
    episode_id = storage.store_episode(
        experience_data={"test": "data"},
        performance_score=0.5,
        context_hash="test_context"
    )
# Connection automatically closed


# ---- Performance optimization: batch operations -------------------------------------
def store_multiple_episodes(episodes_data):
    """Store multiple episodes efficiently."""
    with sqlite_store._transaction() as conn:
        for episode_data in episodes_data:
            conn.execute("""
                INSERT INTO episodes (timestamp, experience_data, performance_score, context_hash, metadata)
                VALUES (?, ?, ?, ?, ?)
            """, (
                episode_data['timestamp'],
                pickle.dumps(episode_data['experience']),
                episode_data['score'],
                episode_data['context'],
                json.dumps(episode_data.get('metadata', {}))
            ))


import json  # noqa: E402  (the seed's example uses json without importing it)

store_multiple_episodes([
    {"timestamp": time.time(), "experience": {"step": i}, "score": 0.5 + i / 10, "context": "batch_demo"}
    for i in range(5)
])
batch = sqlite_store.get_episodes_by_context("batch_demo")
print(f"batch stored {len(batch)} episodes; their pickled experience is read only on request: "
      f"{batch[0].experience(allow_pickle=True)}")


# ---- Query optimization ----------------------------------------------------------------
def get_top_episodes_by_context(context_hash, limit=10):
    """Get top performing episodes for a context."""
    episodes = sqlite_store.get_episodes_by_context(
        context_hash=context_hash,
        limit=limit,
        min_score=0.8  # Pre-filter for better performance
    )

    # Sort by performance score (already indexed)
    return sorted(episodes, key=lambda e: e.performance_score, reverse=True)


print(f"top episodes: {[e.id for e in get_top_episodes_by_context('batch_demo')]}")

# ---- Index usage -----------------------------------------------------------------------
# Queries that use indexes efficiently:

# 1. Context-based queries (uses idx_episodes_context_hash)
episodes = sqlite_store.get_episodes_by_context("navigation_task")

# 2. Time-based queries (uses idx_episodes_timestamp)
recent = sqlite_store.get_recent_episodes(time_window=3600)

# 3. Concept name searches (uses idx_concepts_name)
concept = sqlite_store.retrieve_concept_by_name("neural_network")

# 4. Learning event analysis (uses idx_learning_events_task_type)
events = sqlite_store.get_learning_events_by_task("classification")


# ---- Best practice 1: transactions for related operations ---------------------------------
def store_episode_with_concepts(episode_data, related_concepts):
    """Store episode and update related concepts atomically."""
    with sqlite_store._transaction() as conn:
        # Store episode
        episode_id = sqlite_store.store_episode(**episode_data)

        # Update related concepts
        for concept_name in related_concepts:
            concept = sqlite_store.retrieve_concept_by_name(concept_name)
            if concept:
                # Update access count is handled automatically
                pass


store_episode_with_concepts(
    {"experience_data": {"observation": np.zeros((4, 4))}, "performance_score": 0.9, "context_hash": "atomic"},
    ["neural_network", "deep_learning"])
print(f"neural_network accessed {sqlite_store.retrieve_concept(concept1_id).access_count} times")


# ---- Best practice 2: regular maintenance ---------------------------------------------------
def daily_maintenance():
    """Perform daily database maintenance."""
    # Create backup
    sqlite_store.auto_backup_if_needed()

    # Vacuum database weekly
    import datetime
    if datetime.datetime.now().weekday() == 0:  # Monday
        sqlite_store.vacuum_database()

    # Check database health
    stats = sqlite_store.get_database_stats()
    if stats['db_size_mb'] > 1000:  # > 1GB
        logger.warning(f"Database size: {stats['db_size_mb']:.1f} MB")


daily_maintenance()


# ---- Best practice 3: efficient concept management ------------------------------------------
def build_concept_graph():
    """Build concept relationship graph efficiently."""
    # Get all concepts
    all_concepts = sqlite_store.search_concepts("", limit=10000)

    # Build similarity matrix
    concept_embeddings = {}
    for concept in all_concepts:
        embedding = sqlite_store._deserialize_array(concept.embedding)
        concept_embeddings[concept.id] = embedding

    # Add relationships based on similarity
    for concept1_id, embedding1 in concept_embeddings.items():
        for concept2_id, embedding2 in concept_embeddings.items():
            if concept1_id != concept2_id:
                similarity = np.dot(embedding1, embedding2)
                if similarity > 0.8:  # High similarity threshold
                    sqlite_store.add_concept_relationship(
                        concept1_id, concept2_id, "similar_to", similarity
                    )


# stand-in data: the example's np.dot is a cosine similarity only for unit
# vectors, and strengths must lie in [0, 1]; so run it on a store of unit
# embeddings (the first store's random vectors have dot products near 128).
main_store = sqlite_store
sqlite_store = SQLiteStorage("concept_graph.db")
rng = np.random.default_rng(0)
base = rng.standard_normal(64)
for i in range(20):
    v = base * (0.9 if i % 2 == 0 else -0.9) + rng.standard_normal(64) * 0.25
    sqlite_store.store_concept(f"concept_{i}", v / np.linalg.norm(v))
build_concept_graph()
edges = sum(len(sqlite_store.get_concept_relationships(c.id)) for c in sqlite_store.search_concepts("", limit=100))
print(f"build_concept_graph added {edges} similar_to edges")
sqlite_store.close()
sqlite_store = main_store


# ---- Best practice 4: memory-efficient data handling ----------------------------------------
def load_episode_from_file(episode_file):  # stand-in: the seed does not define it
    with np.load(episode_file) as data:
        return {"experience_data": {"observation": data["observation"]}, "performance_score": float(data["score"]),
                "context_hash": "from_files"}


def process_large_episode_batch(episode_files):
    """Process large batches of episodes memory-efficiently."""
    for episode_file in episode_files:
        # Load one episode at a time
        episode_data = load_episode_from_file(episode_file)

        # Store immediately to avoid memory buildup
        episode_id = sqlite_store.store_episode(**episode_data)

        # Clear from memory
        del episode_data


files = []
for i in range(3):
    np.savez(f"episode_{i}.npz", observation=np.full((8, 8), i, np.float32), score=0.5)
    files.append(f"episode_{i}.npz")
process_large_episode_batch(files)
print(f"episodes from files: {len(sqlite_store.get_episodes_by_context('from_files'))}")


# ---- Integration: episodic memory system -----------------------------------------------------
class EpisodicMemory:  # stand-in for src.memory.episodic.EpisodicMemory, which the seed does not define
    def __init__(self):
        self.episodes = []

    def store_episode(self, experience_data, performance_score, context):
        self.episodes.append((experience_data, performance_score, context))


class PersistentEpisodicMemory(EpisodicMemory):
    def __init__(self):
        super().__init__()
        self.sqlite_store = SQLiteStorage()

    def store_episode(self, experience_data, performance_score, context):
        # Store in SQLite for persistence
        episode_id = self.sqlite_store.store_episode(
            experience_data=experience_data,
            performance_score=performance_score,
            context_hash=context
        )

        # Also store in memory for fast access
        super().store_episode(experience_data, performance_score, context)

        return episode_id

    def retrieve_similar_episodes(self, context, min_score=0.7):
        # Query SQLite for similar episodes
        return self.sqlite_store.get_episodes_by_context(
            context_hash=context,
            min_score=min_score,
            limit=10
        )


memory = PersistentEpisodicMemory()
memory.store_episode({"observation": np.ones(3)}, 0.9, "kitchen")
print(f"persistent memory recalls {len(memory.retrieve_similar_episodes('kitchen'))} episode(s)")


# ---- Integration: meta-learning system -------------------------------------------------------
def track_learning_progress(task_type, strategy, performance_before, performance_after, parameters):
    """Track learning progress for meta-learning."""
    performance_delta = performance_after - performance_before

    # Store learning event
    event_id = sqlite_store.store_learning_event(
        task_type=task_type,
        performance_delta=performance_delta,
        strategy_used=strategy,
        parameters=parameters
    )

    # Analyze best strategies periodically
    if event_id % 100 == 0:  # Every 100 events
        best_strategies = sqlite_store.get_best_strategies(task_type, limit=5)
        logger.info(f"Best strategies for {task_type}: {best_strategies}")

    return event_id


for i in range(100):
    track_learning_progress("navigation", ["ppo", "dqn"][i % 2], 0.5, 0.5 + (i % 7) / 100, {"seed": i})

# ---- Cross-language: episodes the C simulator wrote, read as numpy arrays ---------------------
simulator = REPO / "target" / "c" / "simulator"
if simulator.exists():
    subprocess.run([str(simulator), "from_c.db"], check=True, capture_output=True)
    with SQLiteStorage("from_c.db") as from_c:
        e = from_c.get_episodes_by_context("grid_level_0", limit=1)[0]
        x = e.experience()
        print(f"C-written episode {e.id}: observation {x['observation'].dtype} {x['observation'].shape}, "
              f"strategy {x['strategy']}, reached goal {x['reached_goal']}")
else:
    print("(build the C simulator with `make demo` to see the cross-language round trip)")

sqlite_store.close()
print("all seed examples ran")
