//! Helpers shared by the integration tests: every test gets its own real
//! database file in a temporary folder.
#![allow(dead_code)]

use gmstore::{Options, Store};
use tempfile::TempDir;

pub struct TempStore {
    pub dir: TempDir,
    pub store: Store,
    /// What the store was opened with: its file, or its server target.
    target: std::path::PathBuf,
}

impl TempStore {
    /// The store's file, or on the server engine its connection string:
    /// opening it again gives another handle on the same store.
    pub fn path(&self) -> std::path::PathBuf {
        self.target.clone()
    }
}

/// Whether these tests run on the PostgreSQL engine (make test runs the
/// engine-neutral suites a second time with GMSTORE_TEST_ENGINE=postgres).
/// Tests about the SQLite file itself (its bytes, the sqlite3 CLI, pages)
/// return early there: they have no server counterpart.
pub fn on_server() -> bool {
    std::env::var("GMSTORE_TEST_ENGINE").as_deref() == Ok("postgres")
}

/// A fresh store: a file in a temporary folder, or with
/// GMSTORE_TEST_ENGINE=postgres a new store on the server GMSTORE_TEST_PG
/// names (make test runs the engine-neutral suites both ways).
pub fn temp_store() -> TempStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = match std::env::var("GMSTORE_TEST_ENGINE").as_deref() {
        Ok("postgres") => {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let server = std::env::var("GMSTORE_TEST_PG").expect("GMSTORE_TEST_PG must name the server");
            let n = N.fetch_add(1, Ordering::Relaxed);
            std::path::PathBuf::from(format!("{server} store=rs_{}_{n}", std::process::id()))
        }
        _ => dir.path().join("test.db"),
    };
    let store = Store::open(Options::new(&target)).expect("open store");
    TempStore { dir, store, target }
}
