//! Episodes and priorities as replay sampling reads them, on PostgreSQL.
//! The server keeps no episode change log yet, so a sampler reloads its
//! view on every call (correct, O(n) per call); following a log as the
//! SQLite engine does is the next step (issue 17).

use postgres::Row;

use super::PgSession;
use crate::error::Result;
use crate::meta;
use crate::storage::{MetaRows, ReplayChanges, ReplayMark, ReplayRow, ReplayRows, ReplayScope};

macro_rules! select_in_scope {
    ($extra:literal) => {
        concat!(
            "SELECT e.id, e.created_at, p.priority FROM episodes e \
             LEFT JOIN gm_episode_priorities p ON p.episode_id = e.id \
             WHERE ($1::text IS NULL OR e.context_hash = $1) \
             AND ($2::float8 IS NULL OR e.performance_score >= $2) \
             AND ($3::float8 IS NULL OR e.performance_score <= $3) ",
            $extra
        )
    };
}

fn replay_row(r: &Row) -> ReplayRow {
    ReplayRow {
        id: r.get(0),
        generation: r.get::<_, Option<f64>>(1).map_or(0, |f| f.to_bits() as i64),
        priority: r.get(2),
    }
}

impl ReplayRows for PgSession {
    fn replay_mark(&self) -> Result<ReplayMark> {
        Ok(ReplayMark {
            seq: 0,
            max_id: 0,
            incarnation: self.meta_get(meta::INCARNATION)?,
        })
    }

    fn replay_changes_since(&self, _mark: &ReplayMark) -> Result<ReplayChanges> {
        Ok(ReplayChanges::Unknown)
    }

    fn replay_rows(&self, scope: &ReplayScope<'_>) -> Result<Vec<ReplayRow>> {
        let rows = self.query(
            select_in_scope!("ORDER BY e.id"),
            &[&scope.context, &scope.min_score, &scope.max_score],
        )?;
        Ok(rows.iter().map(replay_row).collect())
    }

    fn replay_rows_changed(
        &self,
        scope: &ReplayScope<'_>,
        ids: &[i64],
        above: i64,
    ) -> Result<Vec<ReplayRow>> {
        let ids = ids.to_vec();
        let rows = self.query(
            select_in_scope!("AND (e.id > $4 OR e.id = ANY($5)) ORDER BY e.id"),
            &[&scope.context, &scope.min_score, &scope.max_score, &above, &ids],
        )?;
        Ok(rows.iter().map(replay_row).collect())
    }

    fn set_priorities(&self, priorities: &[(i64, f64)]) -> Result<usize> {
        let (ids, values): (Vec<i64>, Vec<f64>) = priorities.iter().copied().unzip();
        let stored = self.query(
            "INSERT INTO gm_episode_priorities(episode_id, priority) \
             SELECT u.id, u.priority FROM unnest($1::int8[], $2::float8[]) WITH ORDINALITY AS u(id, priority, n) \
             JOIN episodes e ON e.id = u.id \
             ORDER BY u.n \
             ON CONFLICT (episode_id) DO UPDATE SET priority = excluded.priority RETURNING 1",
            &[&ids, &values],
        )?;
        Ok(stored.len())
    }
}
