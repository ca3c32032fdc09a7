//! The Rust API in a few lines: open, store, query, transact.
use gmstore::{NewEpisode, Options, Store};

fn main() -> gmstore::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "quickstart.db".into());
    let store = Store::open(Options::new(&path))?;
    let mut episode = NewEpisode::new(b"observation bytes", 0.85, "navigation_task_level_1");
    episode.metadata = Some(r#"{"difficulty": "medium"}"#);
    let id = store.store_episode(&episode)?;
    println!("stored episode {id}");
    for e in store.get_episodes_by_context("navigation_task_level_1", 5, Some(0.5))? {
        println!(
            "episode {}: score {} metadata {}",
            e.id, e.performance_score, e.metadata
        );
    }
    let a = store.store_concept("neural_network", &[0.1, 0.2, 0.3], None, None)?;
    let b = store.store_concept("deep_learning", &[0.2, 0.1, 0.3], None, None)?;
    store.add_concept_relationship(a, b, "similar_to", 0.8)?;
    let tx = store.transaction()?;
    store.store_learning_event("classification", 0.15, "adam", Some(r#"{"lr": 0.001}"#), None)?;
    tx.commit()?;
    for s in store.get_best_strategies("classification", 5)? {
        println!(
            "{}: {:.3} avg over {} uses",
            s.strategy, s.avg_delta, s.usage_count
        );
    }
    let stats = store.get_database_stats()?;
    println!(
        "{} episodes, {} concepts, schema v{}",
        stats.episodes_count, stats.concepts_count, stats.schema_version
    );
    Ok(())
}
