//! Learning events and strategy statistics, on SQLite.

use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, Row};

use crate::error::Result;
use crate::estimates::Moments;
use crate::records::{LearningEvent, NewLearningEvent, StrategyMoments, StrategyStats};
use crate::storage::LearningRows;

/// `gm_moments(x)`: the count, mean and sum of squared deviations of a
/// group in one pass, as 24 bytes (i64, f64, f64, little-endian). SQLite
/// has no variance, and `avg(x*x) - avg(x)^2` cancels catastrophically.
struct MomentsAggregate;

impl Aggregate<Moments, Vec<u8>> for MomentsAggregate {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Moments> {
        Ok(Moments::default())
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut Moments) -> rusqlite::Result<()> {
        match ctx.get_raw(0) {
            ValueRef::Real(x) => acc.push(x),
            ValueRef::Integer(i) => acc.push(i as f64),
            other => {
                return Err(rusqlite::Error::UserFunctionError(
                    format!("a performance_delta holds {:?}, not a number", other.data_type()).into(),
                ))
            }
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, acc: Option<Moments>) -> rusqlite::Result<Vec<u8>> {
        let acc = acc.unwrap_or_default();
        let (mean, m2) = acc.mean_and_m2();
        let mut bytes = Vec::with_capacity(24);
        bytes.extend_from_slice(&acc.count().to_le_bytes());
        bytes.extend_from_slice(&mean.to_le_bytes());
        bytes.extend_from_slice(&m2.to_le_bytes());
        Ok(bytes)
    }
}

/// Registers the functions gmstore's own queries call (per connection:
/// other programs opening the file neither see nor need them).
pub(crate) fn register_functions(conn: &Connection) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_aggregate_function("gm_moments", 1, flags, MomentsAggregate)?;
    Ok(())
}

fn moments_from_row(row: &Row<'_>) -> rusqlite::Result<StrategyMoments> {
    let blob: Vec<u8> = row.get(1)?;
    let word = |i: usize| <[u8; 8]>::try_from(&blob[i * 8..i * 8 + 8]).unwrap_or_default();
    Ok(StrategyMoments {
        strategy: row.get(0)?,
        count: i64::from_le_bytes(word(0)),
        mean: f64::from_le_bytes(word(1)),
        m2: f64::from_le_bytes(word(2)),
        first_used: row.get(2)?,
        last_used: row.get(3)?,
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

    fn strategy_moments(&self, task: &str, since: Option<f64>) -> Result<Vec<StrategyMoments>> {
        let mut stmt = self.prepare_cached(
            "SELECT strategy_used, gm_moments(performance_delta), min(timestamp), max(timestamp) \
             FROM learning_events WHERE task_type = ?1 AND (?2 IS NULL OR timestamp >= ?2) \
             GROUP BY strategy_used ORDER BY strategy_used",
        )?;
        let rows = stmt.query_map(params![task, since], moments_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
