//! Episodes and priorities as replay sampling reads them, on SQLite.

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::change_log::ChangeLog;
use crate::error::Result;
use crate::meta;
use crate::storage::{MetaRows, ReplayChanges, ReplayMark, ReplayRow, ReplayRows, ReplayScope};

/// The columns and join every query reads, in `from_row`'s order; the
/// scope is ?1 (context), ?2 and ?3 (score range).
macro_rules! select_in_scope {
    ($extra:literal) => {
        concat!(
            "SELECT e.id, e.created_at, p.priority FROM episodes e \
             LEFT JOIN gm_episode_priorities p ON p.episode_id = e.id \
             WHERE (?1 IS NULL OR e.context_hash = ?1) \
             AND (?2 IS NULL OR e.performance_score >= ?2) \
             AND (?3 IS NULL OR e.performance_score <= ?3) ",
            $extra
        )
    };
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<ReplayRow> {
    Ok(ReplayRow {
        id: row.get(0)?,
        generation: generation(row.get_ref(1)?),
        priority: row.get(2)?,
    })
}

/// `created_at` as bits: the seed's default stamps every row at insert;
/// a row written by another program without one counts as generation 0.
fn generation(created_at: ValueRef<'_>) -> i64 {
    match created_at {
        ValueRef::Real(f) => f.to_bits() as i64,
        ValueRef::Integer(i) => (i as f64).to_bits() as i64,
        _ => 0,
    }
}

impl ReplayRows for Connection {
    fn replay_mark(&self) -> Result<ReplayMark> {
        let max_id = self
            .prepare_cached("SELECT coalesce(max(id), 0) FROM episodes")?
            .query_row([], |r| r.get(0))?;
        Ok(ReplayMark {
            seq: ChangeLog::Episodes.max_seq(self)?,
            max_id,
            incarnation: self.meta_get(meta::INCARNATION)?,
        })
    }

    fn replay_changes_since(&self, mark: &ReplayMark) -> Result<ReplayChanges> {
        let changed = ChangeLog::Episodes.ids_since(self, mark.seq)?;
        let mut now = self.replay_mark()?;
        let replaced = now.seq < mark.seq || now.incarnation != mark.incarnation;
        let Some(ids) = changed.filter(|_| !replaced) else {
            return Ok(ReplayChanges::Unknown);
        };
        // Deleting the newest episode lowers max(id), but AUTOINCREMENT
        // never hands its id out again: keep the higher mark.
        now.max_id = now.max_id.max(mark.max_id);
        Ok(ReplayChanges::Since(ids, now))
    }

    fn replay_rows(&self, scope: &ReplayScope<'_>) -> Result<Vec<ReplayRow>> {
        let mut stmt = self.prepare_cached(select_in_scope!("ORDER BY e.id"))?;
        let rows = stmt.query_map(params![scope.context, scope.min_score, scope.max_score], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn replay_rows_changed(
        &self,
        scope: &ReplayScope<'_>,
        ids: &[i64],
        above: i64,
    ) -> Result<Vec<ReplayRow>> {
        let mut out: Vec<ReplayRow> = self
            .prepare_cached(select_in_scope!("AND e.id > ?4 ORDER BY e.id"))?
            .query_map(
                params![scope.context, scope.min_score, scope.max_score, above],
                from_row,
            )?
            .collect::<rusqlite::Result<_>>()?;
        let mut one = self.prepare_cached(select_in_scope!("AND e.id = ?4"))?;
        for &id in ids.iter().filter(|&&id| id <= above) {
            let row = one
                .query_row(
                    params![scope.context, scope.min_score, scope.max_score, id],
                    from_row,
                )
                .optional()?;
            out.extend(row);
        }
        Ok(out)
    }

    fn set_priorities(&self, priorities: &[(i64, f64)]) -> Result<usize> {
        let mut stmt = self.prepare_cached(
            "INSERT INTO gm_episode_priorities(episode_id, priority) \
             SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM episodes WHERE id = ?1) \
             ON CONFLICT(episode_id) DO UPDATE SET priority = excluded.priority",
        )?;
        let mut stored = 0;
        for &(id, priority) in priorities {
            stored += stmt.execute(params![id, priority])?;
        }
        Ok(stored)
    }
}
