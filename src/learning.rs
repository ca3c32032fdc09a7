//! Meta-memory: learning events and the strategies that worked.

use crate::error::Result;
pub use crate::records::{LearningEvent, NewLearningEvent, StrategyStats, StrategySummary, Suggestion};
use crate::storage::Table;
use crate::store::Store;
pub use crate::strategies::{StrategyOrder, StrategyQuery, SuggestMethod, SuggestOptions};
use crate::{strategies, validate};

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
        self.write(|conn| conn.insert_learning_event(&event))
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
        self.write_atomic(|conn| conn.insert_learning_events(&valid))
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
        self.read(|conn| conn.learning_events_by_task(task_type, min_delta, limit))
    }

    /// Strategies of one task type by average delta, best first, with how
    /// often each was used. Served from a covering index.
    pub fn get_best_strategies(&self, task_type: &str, limit: i64) -> Result<Vec<StrategyStats>> {
        let limit = validate::limit(limit)?;
        self.read(|conn| conn.best_strategies(task_type, limit))
    }

    /// Every strategy of a task with its count, mean, standard deviation,
    /// standard error, 95% confidence interval of the mean (Student's t)
    /// and first and last use, ranked and filtered as `query` says. One
    /// pass over the covering index; an unknown task gives an empty list.
    pub fn strategy_stats(&self, task_type: &str, query: &StrategyQuery) -> Result<Vec<StrategySummary>> {
        let query = query.validated()?;
        let moments = self.read(|conn| conn.strategy_moments(task_type, query.since))?;
        Ok(strategies::summarize(moments, &query))
    }

    /// The strategy to try next for a task, by UCB1 or Thompson sampling
    /// over its events (see [`SuggestOptions`]). `NotFound` when the task
    /// has no events and no candidates were given.
    pub fn suggest_strategy(&self, task_type: &str, options: &SuggestOptions<'_>) -> Result<Suggestion> {
        options.check()?;
        let moments = self.read(|conn| conn.strategy_moments(task_type, options.since))?;
        strategies::suggest(task_type, &moments, options)
    }

    /// How many learning events are stored.
    pub fn count_learning_events(&self) -> Result<i64> {
        self.read(|conn| conn.count_rows(Table::LearningEvents))
    }
}
