//! gmstore: persistent memory for AI agents, simulators and game engines.
//!
//! Episodes, semantic concepts with embeddings, learning events and a
//! concept knowledge graph in one SQLite file, with ACID transactions,
//! versioned migrations and backups. The safe Rust API lives in [`Store`];
//! the C ABI in [`ffi`] is a thin layer over it.

pub mod backup;
pub mod concepts;
pub mod episodes;
pub mod error;
pub mod experience;
pub mod ffi;
pub mod graph;
pub mod learning;
pub mod maintenance;
pub mod migrations;
pub mod options;
pub mod search;
pub mod status;
mod store;
pub mod transfer;
pub mod validate;
mod writer;

pub use backup::BackupInfo;
pub use concepts::{Concept, NameMatch};
pub use episodes::{Episode, NewEpisode};
pub use error::{Error, Result};
pub use graph::{EdgeFilter, Reached, Relationship, StrongestPath};
pub use learning::{LearningEvent, NewLearningEvent, StrategyStats};
pub use maintenance::{SqlValue, Stats};
pub use options::{Options, Synchronous};
pub use search::{Metric, Neighbor, SearchFilter};
pub use store::{Store, Transaction};

/// The crate version, as in Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The version of the bundled SQLite library.
pub fn sqlite_version() -> &'static str {
    rusqlite::version()
}
