//! Learning events and strategy statistics, on SQLite.

use rusqlite::{params, Connection, Row};

use crate::error::Result;
use crate::records::{LearningEvent, NewLearningEvent, StrategyMoments, StrategyStats};
use crate::storage::LearningRows;

fn moments_from_row(row: &Row<'_>) -> rusqlite::Result<StrategyMoments> {
    // The layout gm_strategy_moments writes (see `functions`).
    let blob = row.get_ref(1)?.as_blob()?;
    let word = |i: usize| {
        blob.get(i * 8..i * 8 + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .unwrap_or_default()
    };
    let real = |i: usize| f64::from_le_bytes(word(i));
    Ok(StrategyMoments {
        strategy: row.get(0)?,
        count: i64::from_le_bytes(word(0)),
        mean: real(1),
        m2: real(2),
        first_used: real(3),
        last_used: real(4),
    })
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<LearningEvent> {
    Ok(LearningEvent {
        id: row.get(0)?,
        task_type: row.get(1)?,
        performance_delta: row.get(2)?,
        strategy_used: row.get(3)?,
        timestamp: row.get(4)?,
        parameters: row.get::<_, Option<String>>(5)?.unwrap_or_else(|| "{}".into()),
    })
}

const INSERT_EVENT: &str =
    "INSERT INTO learning_events (task_type, performance_delta, strategy_used, timestamp, parameters) \
     VALUES (?1, ?2, ?3, ?4, ?5)";

fn insert_with(statement: &mut rusqlite::CachedStatement<'_>, e: &NewLearningEvent<'_>) -> Result<i64> {
    Ok(statement.insert(params![
        e.task_type,
        e.performance_delta,
        e.strategy_used,
        e.timestamp,
        e.parameters
    ])?)
}

impl LearningRows for Connection {
    fn insert_learning_event(&self, e: &NewLearningEvent<'_>) -> Result<i64> {
        insert_with(&mut self.prepare_cached(INSERT_EVENT)?, e)
    }

    /// One statement for the whole batch: looking it up in the cache per
    /// row cost about 2% of a large batch.
    fn insert_learning_events(&self, rows: &[NewLearningEvent<'_>]) -> Result<Vec<i64>> {
        let mut statement = self.prepare_cached(INSERT_EVENT)?;
        rows.iter().map(|e| insert_with(&mut statement, e)).collect()
    }

    fn learning_events_by_task(
        &self,
        task: &str,
        min_delta: Option<f64>,
        limit: i64,
    ) -> Result<Vec<LearningEvent>> {
        let mut stmt = self.prepare_cached(
            "SELECT id, task_type, performance_delta, strategy_used, timestamp, parameters \
             FROM learning_events WHERE task_type = ?1 \
             AND (?2 IS NULL OR performance_delta >= ?2) \
             ORDER BY timestamp DESC, id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![task, min_delta, limit], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn best_strategies(&self, task: &str, limit: i64) -> Result<Vec<StrategyStats>> {
        let mut stmt = self.prepare_cached(
            "SELECT strategy_used, avg(performance_delta) AS avg_delta, count(*) \
             FROM learning_events WHERE task_type = ?1 \
             GROUP BY strategy_used ORDER BY avg_delta DESC, strategy_used ASC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![task, limit], |r| {
            Ok(StrategyStats {
                strategy: r.get(0)?,
                avg_delta: r.get(1)?,
                usage_count: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn strategy_moments(&self, task: &str, since: Option<f64>) -> Result<Vec<StrategyMoments>> {
        let mut stmt = self.prepare_cached(
            "SELECT strategy_used, gm_strategy_moments(performance_delta, timestamp) \
             FROM learning_events WHERE task_type = ?1 AND (?2 IS NULL OR timestamp >= ?2) \
             GROUP BY strategy_used ORDER BY strategy_used",
        )?;
        let rows = stmt.query_map(params![task, since], moments_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
