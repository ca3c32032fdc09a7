//! Meta-memory: learning events and the strategies that worked.

use rusqlite::{params, Row};

use crate::clock::now;
use crate::error::Result;
use crate::store::Store;
use crate::validate;

/// A stored learning event, as the seed's `LearningEvent` dataclass.
#[derive(Debug, Clone, PartialEq)]
pub struct LearningEvent {
    /// Event id.
    pub id: i64,
    /// The task the event belongs to.
    pub task_type: String,
    /// The change in performance, finite.
    pub performance_delta: f64,
    /// The strategy that produced it.
    pub strategy_used: String,
    /// Unix time in seconds.
    pub timestamp: f64,
    /// A JSON object, as text.
    pub parameters: String,
}

/// One row of [`Store::get_best_strategies`]: `(strategy, avg_delta, count)`.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyStats {
    /// The strategy.
    pub strategy: String,
    /// Mean performance delta over its events.
    pub avg_delta: f64,
    /// How many events used it.
    pub usage_count: i64,
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

/// A learning event to store: the arguments of
/// [`Store::store_learning_event`], for [`Store::store_learning_events`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewLearningEvent<'a> {
    /// The task the event belongs to.
    pub task_type: &'a str,
    /// The change in performance, finite.
    pub performance_delta: f64,
    /// The strategy that produced it.
    pub strategy_used: &'a str,
    /// A JSON object; `None` stores `{}`.
    pub parameters: Option<&'a str>,
    /// Unix time in seconds; `None` is now.
    pub timestamp: Option<f64>,
}

impl<'a> NewLearningEvent<'a> {
    /// An event with the required fields and default timestamp and parameters.
    pub fn new(task_type: &'a str, performance_delta: f64, strategy_used: &'a str) -> Self {
        NewLearningEvent {
            task_type,
            performance_delta,
            strategy_used,
            parameters: None,
            timestamp: None,
        }
    }

    fn validated(&self) -> Result<NewLearningEvent<'a>> {
        Ok(NewLearningEvent {
            task_type: validate::non_empty("task_type", self.task_type)?,
            performance_delta: validate::finite("performance_delta", self.performance_delta)?,
            strategy_used: validate::non_empty("strategy_used", self.strategy_used)?,
            parameters: Some(validate::json_object("parameters", self.parameters)?.unwrap_or("{}")),
            timestamp: Some(validate::finite_opt("timestamp", self.timestamp)?.unwrap_or_else(now)),
        })
    }
}

fn insert(conn: &rusqlite::Connection, e: &NewLearningEvent<'_>) -> Result<i64> {
    conn.prepare_cached(
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
    Ok(conn.last_insert_rowid())
}

impl Store {
    /// Stores a learning event and returns its id. `parameters` must be a
    /// JSON object (default `{}`); `timestamp` defaults to now.
    pub fn store_learning_event(
        &self,
        task_type: &str,
        performance_delta: f64,
        strategy_used: &str,
        parameters: Option<&str>,
        timestamp: Option<f64>,
    ) -> Result<i64> {
        let event = NewLearningEvent {
            task_type,
            performance_delta,
            strategy_used,
            parameters,
            timestamp,
        }
        .validated()?;
        self.write(|conn| insert(conn, &event))
    }

    /// Stores many learning events in one transaction: all or none. Returns
    /// their ids in input order. Every event is validated before anything
    /// is written; the error names the index of the first bad one.
    pub fn store_learning_events(&self, events: &[NewLearningEvent<'_>]) -> Result<Vec<i64>> {
        let valid = events
            .iter()
            .enumerate()
            .map(|(i, e)| e.validated().map_err(|err| err.within(&format!("events[{i}]"))))
            .collect::<Result<Vec<_>>>()?;
        self.write_atomic(|conn| valid.iter().map(|e| insert(conn, e)).collect())
    }

    /// Events of one task type, newest first, optionally with a delta of at
    /// least `min_performance_delta`.
    pub fn get_learning_events_by_task(
        &self,
        task_type: &str,
        limit: i64,
        min_performance_delta: Option<f64>,
    ) -> Result<Vec<LearningEvent>> {
        let limit = validate::limit(limit)?;
        let min_delta = validate::finite_opt("min_performance_delta", min_performance_delta)?;
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, task_type, performance_delta, strategy_used, timestamp, parameters \
                 FROM learning_events WHERE task_type = ?1 \
                 AND (?2 IS NULL OR performance_delta >= ?2) \
                 ORDER BY timestamp DESC, id DESC LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![task_type, min_delta, limit], from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Strategies of one task type by average delta, best first, with how
    /// often each was used. Served from a covering index.
    pub fn get_best_strategies(&self, task_type: &str, limit: i64) -> Result<Vec<StrategyStats>> {
        let limit = validate::limit(limit)?;
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT strategy_used, avg(performance_delta) AS avg_delta, count(*) \
                 FROM learning_events WHERE task_type = ?1 \
                 GROUP BY strategy_used ORDER BY avg_delta DESC, strategy_used ASC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![task_type, limit], |r| {
                Ok(StrategyStats {
                    strategy: r.get(0)?,
                    avg_delta: r.get(1)?,
                    usage_count: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// How many learning events are stored.
    pub fn count_learning_events(&self) -> Result<i64> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT count(*) FROM learning_events")?
                .query_row([], |r| r.get(0))?)
        })
    }
}
