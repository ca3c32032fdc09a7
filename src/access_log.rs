//! Concept accesses counted in memory and written in batches: the state
//! the store keeps for `retrieve_concept_by_name` (below the store, so the
//! store can own it without importing the concepts domain).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::records::Concept;

/// Pending accesses are written once this many concepts have some...
const FLUSH_AT_CONCEPTS: usize = 65_536;
/// ... or once the oldest is this old (seconds).
const FLUSH_AFTER_SECS: f64 = 1.0;

/// Accesses counted by `retrieve_concept_by_name` and not yet written.
/// A write transaction per lookup would cost many times a read by id
/// (bench/NOTES.md, "Design figures"); counting in memory and writing
/// many at once keeps a lookup a read. Counts are statistics, not data:
/// a crash loses at most the last second of them.
#[derive(Default)]
pub(crate) struct AccessLog {
    pub(crate) pending: Mutex<Pending>,
}

#[derive(Default)]
pub(crate) struct Pending {
    /// concept id -> (accesses, latest access time)
    pub(crate) by_id: HashMap<i64, (i64, f64)>,
    pub(crate) oldest: Option<f64>,
}

impl Pending {
    pub(crate) fn due(&self, now: f64) -> bool {
        self.by_id.len() >= FLUSH_AT_CONCEPTS || self.oldest.is_some_and(|t| now - t >= FLUSH_AFTER_SECS)
    }

    /// `concept` as it reads once the pending accesses are written.
    pub(crate) fn overlay(&self, mut concept: Concept) -> Concept {
        if let Some(&(count, last)) = self.by_id.get(&concept.id) {
            concept.access_count += count;
            concept.last_accessed = concept.last_accessed.max(last);
        }
        concept
    }
}
