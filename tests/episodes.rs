mod common;

use common::temp_store;
use gmstore::{Error, NewEpisode};

#[test]
fn store_and_retrieve_round_trips_every_field() {
    let t = temp_store();
    let mut e = NewEpisode::new(&[0u8, 1, 255, 0], 0.85, "navigation_task_level_1");
    e.timestamp = Some(1234.5);
    e.metadata = Some(r#"{"difficulty": "medium", "episode_length": 150}"#);
    let id = t.store.store_episode(&e).unwrap();
    let got = t.store.retrieve_episode(id).unwrap().unwrap();
    assert_eq!(got.id, id);
    assert_eq!(got.experience_data, vec![0u8, 1, 255, 0]);
    assert_eq!(got.performance_score, 0.85);
    assert_eq!(got.context_hash, "navigation_task_level_1");
    assert_eq!(got.timestamp, 1234.5);
    assert_eq!(got.metadata, r#"{"difficulty": "medium", "episode_length": 150}"#);
    assert!(
        got.created_at > 2_400_000.0,
        "created_at is a Julian day, got {}",
        got.created_at
    );
}

#[test]
fn defaults_timestamp_to_now_and_metadata_to_empty_object() {
    let t = temp_store();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let id = t.store.store_episode(&NewEpisode::new(b"x", 0.1, "c")).unwrap();
    let got = t.store.retrieve_episode(id).unwrap().unwrap();
    assert_eq!(got.metadata, "{}");
    assert!(got.timestamp >= before && got.timestamp < before + 60.0);
}

#[test]
fn missing_episode_is_none_and_bad_id_is_an_error() {
    let t = temp_store();
    assert_eq!(t.store.retrieve_episode(42).unwrap(), None);
    let err = t.store.retrieve_episode(-1).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)));
    assert!(err.to_string().contains("episode_id"), "{err}");
}

#[test]
fn validation_names_the_field() {
    let t = temp_store();
    let cases: Vec<(NewEpisode, &str)> = vec![
        (
            NewEpisode::new(b"", f64::NAN, "c"),
            "performance_score: must be a finite number",
        ),
        (
            NewEpisode::new(b"", f64::INFINITY, "c"),
            "performance_score: must be a finite number",
        ),
        (NewEpisode::new(b"", 0.5, ""), "context_hash: must not be empty"),
        (
            NewEpisode {
                metadata: Some("[1]"),
                ..NewEpisode::new(b"", 0.5, "c")
            },
            "metadata: not a JSON object (got an array)",
        ),
        (
            NewEpisode {
                metadata: Some("{"),
                ..NewEpisode::new(b"", 0.5, "c")
            },
            "metadata: not valid JSON",
        ),
        (
            NewEpisode {
                timestamp: Some(f64::NEG_INFINITY),
                ..NewEpisode::new(b"", 0.5, "c")
            },
            "timestamp: must be a finite number",
        ),
    ];
    for (episode, expected) in cases {
        let err = t.store.store_episode(&episode).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
        assert!(
            err.to_string().contains(expected),
            "{err} should contain {expected}"
        );
    }
    assert_eq!(t.store.count_episodes().unwrap(), 0);
}

#[test]
fn by_context_filters_orders_newest_first_and_limits() {
    let t = temp_store();
    for (i, score) in [0.9, 0.5, 0.8, 0.95].iter().enumerate() {
        let mut e = NewEpisode::new(b"d", *score, "ctx");
        e.timestamp = Some(100.0 + i as f64);
        t.store.store_episode(&e).unwrap();
    }
    t.store
        .store_episode(&NewEpisode::new(b"d", 1.0, "other"))
        .unwrap();
    let all = t.store.get_episodes_by_context("ctx", 50, None).unwrap();
    assert_eq!(
        all.iter().map(|e| e.timestamp).collect::<Vec<_>>(),
        vec![103.0, 102.0, 101.0, 100.0]
    );
    let good = t.store.get_episodes_by_context("ctx", 50, Some(0.8)).unwrap();
    assert_eq!(
        good.iter().map(|e| e.performance_score).collect::<Vec<_>>(),
        vec![0.95, 0.8, 0.9]
    );
    assert_eq!(t.store.get_episodes_by_context("ctx", 2, None).unwrap().len(), 2);
    assert_eq!(t.store.get_episodes_by_context("ctx", 0, None).unwrap().len(), 0);
    assert!(t
        .store
        .get_episodes_by_context("ctx", -1, None)
        .unwrap_err()
        .to_string()
        .contains("limit"));
    assert!(t
        .store
        .get_episodes_by_context("ctx", 5, Some(f64::NAN))
        .unwrap_err()
        .to_string()
        .contains("min_score"));
}

#[test]
fn recent_returns_only_the_window_newest_first() {
    let t = temp_store();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    for age in [7200.0, 10.0, 1800.0, 5.0] {
        let mut e = NewEpisode::new(b"d", 0.5, "c");
        e.timestamp = Some(now - age);
        t.store.store_episode(&e).unwrap();
    }
    let recent = t.store.get_recent_episodes(3600.0, 100).unwrap();
    let ages: Vec<i64> = recent
        .iter()
        .map(|e| (now - e.timestamp).round() as i64)
        .collect();
    assert_eq!(ages, vec![5, 10, 1800]);
    assert_eq!(t.store.get_recent_episodes(3600.0, 1).unwrap().len(), 1);
    assert!(t
        .store
        .get_recent_episodes(-1.0, 1)
        .unwrap_err()
        .to_string()
        .contains("time_window"));
}

#[test]
fn batch_is_atomic_and_returns_ids_in_order() {
    let t = temp_store();
    let batch: Vec<_> = (0..100)
        .map(|i| NewEpisode::new(b"b", i as f64 / 100.0, "batch"))
        .collect();
    let ids = t.store.store_episodes(&batch).unwrap();
    assert_eq!(ids.len(), 100);
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1));
    assert_eq!(
        t.store
            .retrieve_episode(ids[42])
            .unwrap()
            .unwrap()
            .performance_score,
        0.42
    );

    let mut bad = batch.clone();
    bad[57].performance_score = f64::NAN;
    let err = t.store.store_episodes(&bad).unwrap_err();
    assert!(
        err.to_string().starts_with("episodes[57].performance_score"),
        "{err}"
    );
    assert_eq!(
        t.store.count_episodes().unwrap(),
        100,
        "nothing of a rejected batch is written"
    );
    assert_eq!(t.store.store_episodes(&[]).unwrap(), Vec::<i64>::new());
}

/// The same experience always encodes to the same bytes (safetensors writes
/// its metadata map in iteration order, which a std HashMap randomises per
/// map): a store that deduplicates or compares episodes byte for byte, and
/// the C ABI's one-call store, rely on it.
#[test]
fn encoding_an_experience_is_deterministic() {
    use gmstore::experience::{encode, DType, Tensor};
    let data = [1u8, 2, 3, 4, 5, 6, 7, 8];
    let tensors = || {
        vec![
            Tensor {
                name: "obs",
                dtype: DType::F32,
                shape: vec![2],
                data: &data,
            },
            Tensor {
                name: "mask",
                dtype: DType::U8,
                shape: vec![8],
                data: &data,
            },
        ]
    };
    let first = encode(&tensors(), Some(r#"{"obs":{"$tensor":"obs"},"r":0.5}"#)).unwrap();
    for _ in 0..200 {
        assert_eq!(
            encode(&tensors(), Some(r#"{"obs":{"$tensor":"obs"},"r":0.5}"#)).unwrap(),
            first
        );
    }
    let header_len = u64::from_le_bytes(first[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&first[8..8 + header_len]).unwrap();
    assert!(header.find("gmstore.format").unwrap() < header.find("gmstore.values").unwrap());
}
