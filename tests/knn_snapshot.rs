//! The k-NN snapshot file: the next open's first search reads it instead
//! of every concept and catches up from the change log; a snapshot of
//! another store, of a copy, of a restored file, or a damaged one is never
//! used. Results always equal a search with no cache at all (itself tested
//! against a float64 brute force in tests/search.rs). Engine-neutral where
//! it can be: make test runs it on PostgreSQL too.
mod common;

use std::path::Path;

use gmstore::{MatrixSource, Metric, Options, SearchFilter, Store};

const DIM: usize = 24;

fn vector(seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..DIM)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn fill(store: &Store, count: u64) {
    store.begin().unwrap();
    for i in 0..count {
        store
            .store_concept(&format!("c{i}"), &vector(i), None, None)
            .unwrap();
    }
    store.commit().unwrap();
}

fn nearest(store: &Store, query: &[f32]) -> Vec<(i64, String)> {
    store
        .nearest_concepts(query, 10, Metric::Cosine, &SearchFilter::default())
        .unwrap()
        .into_iter()
        .map(|n| (n.id, n.name))
        .collect()
}

/// The same search on a handle with no k-NN cache (every row read anew).
fn reference(target: &Path, query: &[f32]) -> Vec<(i64, String)> {
    let mut options = Options::new(target);
    options.knn_cache = false;
    nearest(&Store::open(options).unwrap(), query)
}

fn open_with_snapshot(target: &Path, snapshot: &Path) -> Store {
    let store = Store::open(Options::new(target)).unwrap();
    store.set_knn_snapshot(Some(snapshot)).unwrap();
    store
}

#[test]
fn a_snapshot_saved_at_close_serves_the_next_open_and_catches_up_with_writes_since() {
    let t = common::temp_store();
    let snapshot = t.dir.path().join("knn.snap");
    fill(&t.store, 400);
    t.store.set_knn_snapshot(Some(&snapshot)).unwrap();
    assert_eq!(t.store.knn_matrix_source(), MatrixSource::NotLoaded);
    nearest(&t.store, &vector(3));
    assert_eq!(t.store.knn_matrix_source(), MatrixSource::Built);
    t.store.close();
    assert!(snapshot.exists(), "close writes the snapshot");

    // Writes by another handle while no one holds the matrix: an updated
    // embedding, new concepts.
    let other = Store::open(Options::new(t.path())).unwrap();
    other.store_concept("c7", &vector(10_007), None, None).unwrap();
    for i in 400..420 {
        other
            .store_concept(&format!("c{i}"), &vector(i), None, None)
            .unwrap();
    }
    let reopened = open_with_snapshot(&t.path(), &snapshot);
    for query in [vector(10_007), vector(410), vector(3), vector(99_999)] {
        assert_eq!(nearest(&reopened, &query), reference(&t.path(), &query));
    }
    assert_eq!(reopened.knn_matrix_source(), MatrixSource::Snapshot);
    assert_eq!(nearest(&reopened, &vector(10_007))[0].1, "c7");
    assert_eq!(nearest(&reopened, &vector(410))[0].1, "c410");
    // Caught up: the next close writes the newer matrix.
    assert!(reopened.save_knn_snapshot().unwrap());
    assert!(!reopened.save_knn_snapshot().unwrap(), "nothing changed since");
}

#[test]
fn a_snapshot_of_another_store_is_not_used() {
    let a = common::temp_store();
    let b = common::temp_store();
    let snapshot = a.dir.path().join("a.snap");
    fill(&a.store, 200);
    fill(&b.store, 150);
    a.store.set_knn_snapshot(Some(&snapshot)).unwrap();
    nearest(&a.store, &vector(1));
    assert!(a.store.save_knn_snapshot().unwrap());

    b.store.set_knn_snapshot(Some(&snapshot)).unwrap();
    let query = vector(170);
    assert_eq!(nearest(&b.store, &query), reference(&b.path(), &query));
    assert_eq!(b.store.knn_matrix_source(), MatrixSource::Built);
}

#[test]
fn a_damaged_or_truncated_snapshot_is_not_used() {
    let t = common::temp_store();
    let snapshot = t.dir.path().join("knn.snap");
    fill(&t.store, 300);
    t.store.set_knn_snapshot(Some(&snapshot)).unwrap();
    nearest(&t.store, &vector(1));
    t.store.close();
    let good = std::fs::read(&snapshot).unwrap();

    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40; // one bit of one float
    let truncated = good[..good.len() - 5].to_vec();
    let mut longer = good.clone();
    longer.push(0);
    for damaged in [flipped, truncated, longer, Vec::new()] {
        std::fs::write(&snapshot, &damaged).unwrap();
        let store = open_with_snapshot(&t.path(), &snapshot);
        let query = vector(77);
        assert_eq!(nearest(&store, &query), reference(&t.path(), &query));
        assert_eq!(store.knn_matrix_source(), MatrixSource::Built);
        drop(store);
    }
    std::fs::write(&snapshot, &good).unwrap();
    let store = open_with_snapshot(&t.path(), &snapshot);
    nearest(&store, &vector(77));
    assert_eq!(
        store.knn_matrix_source(),
        MatrixSource::Snapshot,
        "the intact file is used"
    );
}

#[test]
fn a_copy_of_the_file_or_a_restore_never_uses_the_old_snapshot() {
    if common::on_server() {
        return; // about SQLite files
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("original.db");
    let snapshot = dir.path().join("knn.snap");
    let backup = dir.path().join("before.db");
    {
        let store = Store::open(Options::new(&path)).unwrap();
        fill(&store, 200);
        store.create_backup(Some(&backup)).unwrap();
    } // dropped: the file is whole, its log checkpointed

    // A copy of the file is another store with the same incarnation and
    // log, which then diverge: the same number of changes, different ones.
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    let original = open_with_snapshot(&path, &snapshot);
    original.store_concept("c5", &vector(50_005), None, None).unwrap();
    nearest(&original, &vector(1));
    assert!(original.save_knn_snapshot().unwrap());
    drop(original);
    let diverged = Store::open(Options::new(&copy)).unwrap();
    diverged.store_concept("c6", &vector(60_006), None, None).unwrap();
    drop(diverged);
    let store = open_with_snapshot(&copy, &snapshot);
    for query in [vector(50_005), vector(60_006), vector(5)] {
        assert_eq!(nearest(&store, &query), reference(&copy, &query));
    }
    assert_eq!(store.knn_matrix_source(), MatrixSource::Built);
    drop(store);

    // A restore replaces the content: the snapshot of what was there is
    // refused and the search sees the restored embeddings.
    let store = open_with_snapshot(&path, &snapshot);
    store.restore(&backup).unwrap();
    assert_eq!(
        nearest(&store, &vector(5))[0].1,
        "c5",
        "the restored c5, not the snapshot's"
    );
    assert_eq!(
        nearest(&store, &vector(50_005)),
        reference(&path, &vector(50_005))
    );
    assert_eq!(store.knn_matrix_source(), MatrixSource::Built);
}

#[test]
fn writes_by_the_sqlite3_cli_while_closed_are_applied_to_the_snapshot() {
    if common::on_server() {
        return; // about SQLite files
    }
    let t = common::temp_store();
    let snapshot = t.dir.path().join("knn.snap");
    fill(&t.store, 200);
    t.store.set_knn_snapshot(Some(&snapshot)).unwrap();
    nearest(&t.store, &vector(1));
    t.store.close();

    // Another program changes one embedding and deletes a concept; the
    // schema's triggers log both in the change log.
    let replacement: Vec<u8> = vector(77_777).iter().flat_map(|v| v.to_le_bytes()).collect();
    let hex: String = replacement.iter().map(|b| format!("{b:02X}")).collect();
    let sql = format!(
        "UPDATE concepts SET embedding = X'{hex}' WHERE name = 'c11'; DELETE FROM concepts WHERE name = 'c12';"
    );
    let status = std::process::Command::new("sqlite3")
        .arg(t.path())
        .arg(&sql)
        .status()
        .expect("the sqlite3 CLI");
    assert!(status.success());

    let store = open_with_snapshot(&t.path(), &snapshot);
    assert_eq!(nearest(&store, &vector(77_777))[0].1, "c11");
    let near_deleted = nearest(&store, &vector(12));
    assert!(near_deleted.iter().all(|(_, name)| name != "c12"));
    assert_eq!(near_deleted, reference(&t.path(), &vector(12)));
    assert_eq!(store.knn_matrix_source(), MatrixSource::Snapshot);
}

#[test]
fn snapshots_need_a_store_with_a_cache() {
    let memory = Store::open_in_memory().unwrap();
    assert!(memory.set_knn_snapshot(Some(Path::new("x.snap"))).is_err());
    let t = common::temp_store();
    let mut options = Options::new(t.path());
    options.knn_cache = false;
    let uncached = Store::open(options).unwrap();
    let err = uncached.set_knn_snapshot(Some(Path::new("x.snap"))).unwrap_err();
    assert!(err.to_string().contains("knn_snapshot"), "{err}");
    assert!(uncached.set_knn_snapshot(None).is_ok());
}
