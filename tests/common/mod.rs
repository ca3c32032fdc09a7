//! Helpers shared by the integration tests: every test gets its own real
//! database file in a temporary folder.
#![allow(dead_code)]

use gmstore::{Options, Store};
use tempfile::TempDir;

pub struct TempStore {
    pub dir: TempDir,
    pub store: Store,
}

impl TempStore {
    pub fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("test.db")
    }
}

pub fn temp_store() -> TempStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(Options::new(dir.path().join("test.db"))).expect("open store");
    TempStore { dir, store }
}
