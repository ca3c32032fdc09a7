//! gmstore: persistent memory for AI agents, simulators and game engines.
//!
//! Episodes, semantic concepts with embeddings, learning events and a
//! concept knowledge graph in one SQLite file, with ACID transactions,
//! versioned migrations and backups. The safe Rust API is [`Store`] and
//! the types re-exported here; the C ABI in [`ffi`] is a thin layer over
//! it, and [`experience`] is the tensor format both share.
//!
//! Modules, bottom to top (a module reads only from modules below it):
//! `status`, `error`; the ground floor `clock`, `files`, `meta`,
//! `validate`, `options`, `experience`, `estimates`; `migrations`; the shared
//! algorithms `knn` and `replay`; `writer`, `store` (connections and
//! transactions); `retention` (the budget every episode write
//! applies); the domains `episodes`, `concepts`, `strategies`,
//! `learning`, `graph`, `search`, `sampler`, `maintenance`, `backup`,
//! `transfer`; and `ffi` on top.
#![warn(missing_docs)]

mod access_log;
mod backup;
mod clock;
mod concepts;
mod episodes;
mod error;
mod estimates;
pub mod experience;
pub mod ffi;
mod files;
mod graph;
mod knn;
mod learning;
mod maintenance;
mod meta;
mod options;
mod records;
mod replay;
mod retention;
mod sampler;
mod search;
mod status;
mod storage;
mod store;
mod strategies;
mod transfer;
mod validate;
mod writer;

pub use backup::{verify_database, BackupInfo};
pub use clock::{parse_utc_stamp, utc_stamp};
pub use concepts::{Concept, NameMatch};
pub use episodes::{Episode, NewEpisode};
pub use error::{Error, Result};
pub use graph::{EdgeFilter, Reached, Relationship, StrongestPath};
pub use knn::cache::MatrixSource;
pub use learning::{
    LearningEvent, NewLearningEvent, StrategyOrder, StrategyQuery, StrategyStats, StrategySummary,
    SuggestMethod, SuggestOptions, Suggestion,
};
pub use maintenance::{SqlValue, Stats};
pub use options::{Options, Synchronous};
pub use retention::{EvictionOrder, Evictions, Protection, Pruned, RetentionPolicy, RetentionStatus};
pub use sampler::{PriorityUpdate, Sample, SampleBatch, Sampler, SamplerConfig, Weighting};
pub use search::{Metric, Neighbor, SearchFilter, MAX_K};
pub use storage::migrations::{file_schema_version, LATEST_VERSION};
pub use store::{Store, Transaction};

/// The seed document's DDL, verbatim: what a file made by the seed's own
/// Python code holds. For tests and tools that build such files.
#[doc(hidden)]
pub use storage::migrations::seed_ddl;

/// The crate version, as in Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The version of the bundled SQLite library.
pub fn sqlite_version() -> &'static str {
    rusqlite::version()
}
