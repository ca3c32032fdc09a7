mod common;

use common::temp_store;
use gmstore::{Error, Options, Store};

#[test]
fn embeddings_are_little_endian_f32_blobs() {
    if common::on_server() {
        return; // about the SQLite file itself: its bytes, the sqlite3 CLI, the query plan
    }
    let t = temp_store();
    let emb = [1.5f32, -2.0, 0.0, 3.25];
    t.store.store_concept("c", &emb, None, None).unwrap();
    drop(t.store);
    let conn = rusqlite::Connection::open(t.dir.path().join("test.db")).unwrap();
    let blob: Vec<u8> = conn
        .query_row("SELECT embedding FROM concepts", [], |r| r.get(0))
        .unwrap();
    let expected: Vec<u8> = emb.iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(blob, expected);
}

#[test]
fn upsert_keeps_id_and_access_stats_and_updates_only_given_fields() {
    let t = temp_store();
    let id = t
        .store
        .store_concept("neural_network", &[1.0, 2.0], Some(r#"{"a": 1}"#), Some(100.0))
        .unwrap();
    let first = t
        .store
        .retrieve_concept_by_name("neural_network")
        .unwrap()
        .unwrap();
    assert_eq!((first.id, first.access_count), (id, 1));
    assert!(first.last_accessed > 0.0);

    let again = t
        .store
        .store_concept("neural_network", &[3.0, 4.0], None, None)
        .unwrap();
    assert_eq!(again, id);
    let c = t.store.retrieve_concept(id).unwrap().unwrap();
    assert_eq!(c.embedding, vec![3.0, 4.0]);
    assert_eq!(c.metadata, r#"{"a": 1}"#);
    assert_eq!(c.creation_time, 100.0);
    assert_eq!(c.access_count, 1, "retrieve by id is not an access");
    assert_eq!(c.last_accessed, first.last_accessed);

    t.store
        .store_concept("neural_network", &[5.0, 6.0], Some(r#"{"b": 2}"#), Some(200.0))
        .unwrap();
    let c = t.store.retrieve_concept(id).unwrap().unwrap();
    assert_eq!((c.metadata.as_str(), c.creation_time), (r#"{"b": 2}"#, 200.0));
    assert_eq!(t.store.count_concepts().unwrap(), 1);
}

#[test]
fn retrieve_by_name_increments_access_count_each_time() {
    let t = temp_store();
    t.store.store_concept("x", &[1.0], None, None).unwrap();
    for expected in 1..=5 {
        assert_eq!(
            t.store
                .retrieve_concept_by_name("x")
                .unwrap()
                .unwrap()
                .access_count,
            expected
        );
    }
    assert_eq!(t.store.retrieve_concept_by_name("missing").unwrap(), None);
}

#[test]
fn dimension_is_fixed_by_the_first_concept() {
    let t = temp_store();
    assert_eq!(t.store.embedding_dim().unwrap(), None);
    t.store.store_concept("a", &[0.0; 8], None, None).unwrap();
    assert_eq!(t.store.embedding_dim().unwrap(), Some(8));
    let err = t.store.store_concept("b", &[0.0; 4], None, None).unwrap_err();
    assert_eq!(
        err,
        Error::InvalidArgument("embedding: dimension 4 does not match the store's 8".into())
    );
    for (emb, fragment) in [
        (vec![], "embedding: must not be empty"),
        (
            vec![0.0, f32::NAN, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            "embedding: component 1 is NaN",
        ),
        (vec![f32::INFINITY; 8], "embedding: component 0 is inf"),
    ] {
        let err = t.store.store_concept("c", &emb, None, None).unwrap_err();
        assert!(err.to_string().contains(fragment), "{err}");
    }
}

/// Inside a transaction the first concept and the dimension it fixes land
/// together or not at all; later upserts join the transaction bare.
#[test]
fn first_concept_and_its_dimension_roll_back_together() {
    let t = temp_store();
    let tx = t.store.transaction().unwrap();
    t.store.store_concept("a", &[1.0; 3], None, None).unwrap();
    t.store.store_concept("a", &[2.0; 3], None, None).unwrap();
    assert_eq!(t.store.embedding_dim().unwrap(), Some(3));
    tx.rollback().unwrap();
    assert_eq!(t.store.embedding_dim().unwrap(), None);
    assert_eq!(t.store.count_concepts().unwrap(), 0);

    let tx = t.store.transaction().unwrap();
    let id = t.store.store_concept("b", &[1.0; 5], None, None).unwrap();
    assert_eq!(
        t.store.store_concept("b", &[3.0; 5], None, None).unwrap(),
        id,
        "an upsert keeps the id"
    );
    assert!(t.store.store_concept("c", &[1.0; 4], None, None).is_err());
    tx.commit().unwrap();
    assert_eq!(t.store.embedding_dim().unwrap(), Some(5));
    assert_eq!(
        t.store.retrieve_concept(id).unwrap().unwrap().embedding,
        vec![3.0; 5]
    );
}

#[test]
fn dimension_option_is_enforced_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let store = Store::open(Options {
        embedding_dim: Some(3),
        ..Options::new(&path)
    })
    .unwrap();
    assert_eq!(store.embedding_dim().unwrap(), Some(3));
    assert!(store
        .store_concept("a", &[1.0; 4], None, None)
        .unwrap_err()
        .to_string()
        .contains("store's 3"));
    drop(store);
    let err = Store::open(Options {
        embedding_dim: Some(5),
        ..Options::new(&path)
    })
    .err()
    .unwrap();
    assert!(
        err.to_string()
            .contains("embedding_dim: dimension 5 does not match the store's 3"),
        "{err}"
    );
}

#[test]
fn search_matches_substrings_wildcards_and_everything() {
    let t = temp_store();
    for name in [
        "neural_network",
        "convolutional_neural_net",
        "decision_tree",
        "neuron",
    ] {
        t.store.store_concept(name, &[1.0], None, None).unwrap();
    }
    t.store.retrieve_concept_by_name("decision_tree").unwrap();
    let names = |q: &str, limit| -> Vec<String> {
        t.store
            .search_concepts(q, limit)
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect()
    };
    assert_eq!(
        names("neural", 10),
        vec!["neural_network", "convolutional_neural_net"]
    );
    assert_eq!(names("", 10)[0], "decision_tree", "most accessed first");
    assert_eq!(names("", 10).len(), 4);
    assert_eq!(names("", 2).len(), 2);
    assert_eq!(
        names("neur_n", 10),
        vec!["neuron"],
        "_ is a one-character wildcard"
    );
    assert_eq!(names("l%net", 10).len(), 2, "% is a wildcard");
    assert!(names("zzz", 10).is_empty());
}

#[test]
fn relationships_add_update_filter_and_name_missing_ids() {
    let t = temp_store();
    let a = t.store.store_concept("a", &[1.0], None, None).unwrap();
    let b = t.store.store_concept("b", &[1.0], None, None).unwrap();
    let c = t.store.store_concept("c", &[1.0], None, None).unwrap();
    t.store.add_concept_relationship(a, b, "similar_to", 0.8).unwrap();
    t.store.add_concept_relationship(a, c, "part_of", 0.9).unwrap();
    t.store.add_concept_relationship(a, b, "similar_to", 0.6).unwrap();
    let all: Vec<(i64, String, f64)> = t
        .store
        .get_concept_relationships(a, None)
        .unwrap()
        .into_iter()
        .map(|r| (r.target_id, r.relationship_type, r.strength))
        .collect();
    assert_eq!(
        all,
        vec![(c, "part_of".into(), 0.9), (b, "similar_to".into(), 0.6)]
    );
    assert_eq!(
        t.store
            .get_concept_relationships(a, Some("similar_to"))
            .unwrap()
            .len(),
        1
    );
    assert!(t.store.get_concept_relationships(b, None).unwrap().is_empty());
    assert_eq!(t.store.count_relationships().unwrap(), 2);

    let err = t.store.add_concept_relationship(a, 999, "x", 0.5).unwrap_err();
    assert_eq!(err, Error::NotFound("target_id: no concept with id 999".into()));
    let err = t.store.add_concept_relationship(998, a, "x", 0.5).unwrap_err();
    assert_eq!(err, Error::NotFound("source_id: no concept with id 998".into()));
    for s in [1.01, -0.01, f64::NAN] {
        assert!(t
            .store
            .add_concept_relationship(a, b, "x", s)
            .unwrap_err()
            .to_string()
            .starts_with("strength"));
    }
    assert_eq!(t.store.count_relationships().unwrap(), 2);
}

#[test]
fn learning_events_filter_and_best_strategies_aggregate() {
    let t = temp_store();
    let events = [
        ("adam", 0.15),
        ("sgd", 0.05),
        ("adam", 0.25),
        ("rmsprop", 0.10),
        ("sgd", -0.05),
    ];
    for (i, (strategy, delta)) in events.iter().enumerate() {
        t.store
            .store_learning_event(
                "image_classification",
                *delta,
                strategy,
                Some(r#"{"lr": 0.001}"#),
                Some(i as f64),
            )
            .unwrap();
    }
    t.store
        .store_learning_event("other", 9.0, "cheat", None, None)
        .unwrap();
    let big = t
        .store
        .get_learning_events_by_task("image_classification", 50, Some(0.1))
        .unwrap();
    assert_eq!(
        big.iter().map(|e| e.performance_delta).collect::<Vec<_>>(),
        vec![0.10, 0.25, 0.15]
    );
    assert_eq!(big[0].parameters, r#"{"lr": 0.001}"#);
    assert_eq!(
        t.store
            .get_learning_events_by_task("image_classification", 2, None)
            .unwrap()
            .len(),
        2
    );

    // Equal timestamps: the later event (higher id) first, as the index
    // on (task_type, timestamp) read backwards gives them.
    let tied: Vec<i64> = (0..3)
        .map(|_| {
            t.store
                .store_learning_event("tied", 0.0, "s", None, Some(5.0))
                .unwrap()
        })
        .collect();
    let got: Vec<i64> = t
        .store
        .get_learning_events_by_task("tied", 10, None)
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(got, tied.iter().rev().copied().collect::<Vec<_>>());

    let best = t.store.get_best_strategies("image_classification", 5).unwrap();
    let rows: Vec<(String, i64)> = best.iter().map(|s| (s.strategy.clone(), s.usage_count)).collect();
    assert_eq!(
        rows,
        vec![("adam".into(), 2), ("rmsprop".into(), 1), ("sgd".into(), 2)]
    );
    assert!((best[0].avg_delta - 0.2).abs() < 1e-12);
    assert!(best[2].avg_delta.abs() < 1e-12);
    assert_eq!(
        t.store
            .get_best_strategies("image_classification", 1)
            .unwrap()
            .len(),
        1
    );

    let err = t
        .store
        .store_learning_event("t", f64::NAN, "s", None, None)
        .unwrap_err();
    assert!(err.to_string().starts_with("performance_delta"));
    let err = t
        .store
        .store_learning_event("t", 0.1, "s", Some("1"), None)
        .unwrap_err();
    assert!(err.to_string().starts_with("parameters: not a JSON object"));
    assert_eq!(
        t.store.count_learning_events().unwrap(),
        9,
        "the failed ones were not stored"
    );
}

#[test]
fn stats_report_counts_sizes_and_version() {
    let t = temp_store();
    t.store
        .store_episode(&gmstore::NewEpisode::new(b"x", 0.5, "c"))
        .unwrap();
    let a = t.store.store_concept("a", &[0.5; 512], None, None).unwrap();
    t.store.add_concept_relationship(a, a, "self", 1.0).unwrap();
    t.store.store_learning_event("t", 0.1, "s", None, None).unwrap();
    let s = t.store.get_database_stats().unwrap();
    assert_eq!(
        (
            s.episodes_count,
            s.concepts_count,
            s.relationships_count,
            s.learning_events_count
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(s.schema_version, gmstore::LATEST_VERSION);
    assert_eq!(s.embedding_dim, Some(512));
    assert!(s.db_size_bytes > 0 && s.db_size_mb() > 0.0);
    if !common::on_server() {
        // SQLite's pages; a server store reports only its size.
        assert_eq!(s.page_size, 16384);
        assert!(s.freelist_count >= 0 && s.page_count > 0);
    }
    assert!(t.store.integrity_check().unwrap().is_empty());
}

/// The seed's call keeps LIKE semantics (`_` is any one character); the
/// literal mode finds `_`, `%` and `\` themselves, in both the name search
/// and the k-NN name filter.
#[test]
fn names_with_underscores_percent_and_backslash_match_literally_on_request() {
    use gmstore::{Metric, NameMatch, SearchFilter};
    let t = common::temp_store();
    for (i, name) in [
        "level_1",
        "levelX1",
        "LEVEL_1_boss",
        "100%_done",
        "1000_done",
        r"back\slash",
        "backXslash",
    ]
    .iter()
    .enumerate()
    {
        t.store.store_concept(name, &[i as f32, 1.0], None, None).unwrap();
    }
    let names = |query: &str, matching: NameMatch| -> Vec<String> {
        let mut found: Vec<String> = t
            .store
            .search_concepts_matching(query, matching, 100)
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        found.sort();
        found
    };
    assert_eq!(
        names("level_1", NameMatch::Like),
        ["LEVEL_1_boss", "levelX1", "level_1"]
    );
    assert_eq!(names("level_1", NameMatch::Literal), ["LEVEL_1_boss", "level_1"]);
    assert_eq!(names("0%_", NameMatch::Like), ["100%_done", "1000_done"]);
    assert_eq!(names("0%_", NameMatch::Literal), ["100%_done"]);
    assert_eq!(names(r"k\s", NameMatch::Like), [r"back\slash"]);
    assert_eq!(names(r"k\s", NameMatch::Literal), [r"back\slash"]);
    assert_eq!(names("_", NameMatch::Literal).len(), 4);
    let seed_call: Vec<String> = t
        .store
        .search_concepts("level_1", 100)
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(seed_call.len(), 3, "the seed's call is unchanged");
    let filter = SearchFilter {
        name_pattern: Some("level_1"),
        name_match: NameMatch::Literal,
        ..Default::default()
    };
    let mut near: Vec<String> = t
        .store
        .nearest_concepts(&[1.0, 1.0], 10, Metric::L2, &filter)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    near.sort();
    assert_eq!(near, ["LEVEL_1_boss", "level_1"]);
}

/// Access counts from lookups by name are kept in memory and written in
/// one transaction later: this handle sees them at once, every call that
/// orders or filters by them sees them, other handles see them within a
/// second or at close, and a rolled-back transaction takes its own away.
#[test]
fn access_counts_are_exact_though_written_later() {
    use gmstore::{Metric, Options, SearchFilter, Store};
    let t = temp_store();
    let a = t.store.store_concept("a", &[1.0, 0.0], None, None).unwrap();
    let b = t.store.store_concept("b", &[0.0, 1.0], None, None).unwrap();
    let other = Store::open(Options::new(t.path())).unwrap();
    for expected in 1..=3 {
        let c = t.store.retrieve_concept_by_name("b").unwrap().unwrap();
        assert_eq!(c.access_count, expected);
        assert!(c.last_accessed > 0.0);
    }
    assert_eq!(t.store.retrieve_concept(b).unwrap().unwrap().access_count, 3);
    assert_eq!(
        other.retrieve_concept(b).unwrap().unwrap().access_count,
        0,
        "not written yet"
    );
    let filter = SearchFilter {
        min_access_count: Some(3),
        ..Default::default()
    };
    let hits = t
        .store
        .nearest_concepts(&[1.0, 0.0], 5, Metric::Cosine, &filter)
        .unwrap();
    assert_eq!(
        hits.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![b],
        "the filter sees every access"
    );
    assert_eq!(
        other.retrieve_concept(b).unwrap().unwrap().access_count,
        3,
        "written before the filter"
    );

    t.store.retrieve_concept_by_name("a").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    t.store.retrieve_concept_by_name("a").unwrap();
    assert_eq!(
        other.retrieve_concept(a).unwrap().unwrap().access_count,
        2,
        "written within a second"
    );

    let tx = t.store.transaction().unwrap();
    assert_eq!(
        t.store
            .retrieve_concept_by_name("a")
            .unwrap()
            .unwrap()
            .access_count,
        3
    );
    drop(tx);
    assert_eq!(
        t.store.retrieve_concept(a).unwrap().unwrap().access_count,
        2,
        "rolled back with it"
    );

    t.store.retrieve_concept_by_name("a").unwrap();
    let path = t.path();
    drop(t.store);
    assert_eq!(
        other.retrieve_concept(a).unwrap().unwrap().access_count,
        3,
        "written at close"
    );
    drop(other);
    let reopened = Store::open(Options::new(path)).unwrap();
    assert_eq!(reopened.search_concepts("", 5).unwrap()[0].name, "a");
}
