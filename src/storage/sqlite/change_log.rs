//! The change logs that let caches in any process follow writes: the
//! concepts' (k-NN matrices) and the episodes' (replay samplers). Both are
//! filled by triggers and trimmed to their newest 100,000 entries; under
//! SQLite's one writer their sequence numbers commit in order, so
//! "seq > mark" misses nothing.

use rusqlite::Connection;

use crate::error::Result;

/// Which log.
#[derive(Clone, Copy)]
pub(super) enum ChangeLog {
    Concepts,
    Episodes,
}

impl ChangeLog {
    /// (highest seq, lowest seq, ids after a seq): static text, so each
    /// is prepared once per connection.
    fn statements(self) -> [&'static str; 3] {
        match self {
            ChangeLog::Concepts => [
                "SELECT coalesce(max(seq), 0) FROM gm_concept_changes",
                "SELECT min(seq) FROM gm_concept_changes",
                "SELECT DISTINCT concept_id FROM gm_concept_changes WHERE seq > ?1",
            ],
            ChangeLog::Episodes => [
                "SELECT coalesce(max(seq), 0) FROM gm_episode_changes",
                "SELECT min(seq) FROM gm_episode_changes",
                "SELECT DISTINCT episode_id FROM gm_episode_changes WHERE seq > ?1",
            ],
        }
    }

    /// The highest sequence this session sees (0 for an empty log).
    pub(super) fn max_seq(self, conn: &Connection) -> Result<i64> {
        Ok(conn
            .prepare_cached(self.statements()[0])?
            .query_row([], |r| r.get(0))?)
    }

    /// The ids logged after `seq`, or None when the log was trimmed past
    /// it (entries after `seq` are gone, so it cannot say what changed).
    pub(super) fn ids_since(self, conn: &Connection, seq: i64) -> Result<Option<Vec<i64>>> {
        let [_, oldest_sql, since_sql] = self.statements();
        let oldest: Option<i64> = conn.prepare_cached(oldest_sql)?.query_row([], |r| r.get(0))?;
        let changed: Vec<i64> = conn
            .prepare_cached(since_sql)?
            .query_map([seq], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let trimmed_past = oldest.is_some_and(|o| o > seq + 1) && !changed.is_empty();
        Ok((!trimmed_past).then_some(changed))
    }
}
