//! Learning events and strategy statistics, on SQLite.

use rusqlite::{params, Connection, Row};

use crate::error::Result;
use crate::records::{LearningEvent, NewLearningEvent, StrategyStats};
use crate::storage::LearningRows;

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

impl LearningRows for Connection {
    fn insert_learning_event(&self, e: &NewLearningEvent<'_>) -> Result<i64> {
        self.prepare_cached(
            "INSERT INTO learning_events (task_type, performance_delta, strategy_used, timestamp, parameters) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            e.task_type,
            e.performance_delta,
            e.strategy_used,
            e.timestamp,
            e.parameters
        ])?;
        Ok(self.last_insert_rowid())
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
}
