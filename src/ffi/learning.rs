//! Learning events across the C ABI.

use std::ffi::c_char;

use super::boundary::{
    boundary, flag, opt_f64, opt_text, out, quiet_boundary, slice, store_batch, text, GM_MAX_BATCH,
};
use super::handle::{gm_store, store_ref};
use super::results::{arena_list, free_list, free_one, into_list, into_one, text_size, Arena, CRecord};
use crate::error::{invalid, Result};
use crate::status::*;
use crate::validate::MAX_LIMIT;
use crate::{
    LearningEvent, NewLearningEvent, StrategyOrder, StrategyQuery, StrategyStats, StrategySummary,
    SuggestMethod, SuggestOptions, Suggestion,
};

/// Rankings of `gm_strategy_query.order`.
#[repr(u8)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gm_strategy_order {
    /// `gm_strategy_query.order`: highest mean first (the seed's order).
    GM_STRATEGY_ORDER_MEAN = 0,
    /// `gm_strategy_query.order`: highest lower 95% confidence bound first.
    GM_STRATEGY_ORDER_LOWER_BOUND = 1,
}

/// [`gm_strategy_order::GM_STRATEGY_ORDER_MEAN`] as the number the C ABI passes.
pub const GM_STRATEGY_ORDER_MEAN: u8 = gm_strategy_order::GM_STRATEGY_ORDER_MEAN as u8;
/// [`gm_strategy_order::GM_STRATEGY_ORDER_LOWER_BOUND`] as the number the C ABI passes.
pub const GM_STRATEGY_ORDER_LOWER_BOUND: u8 = gm_strategy_order::GM_STRATEGY_ORDER_LOWER_BOUND as u8;
/// Rules of `gm_suggest_options.method`.
#[repr(u8)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gm_suggest_method {
    /// `gm_suggest_options.method`: UCB1 (deterministic).
    GM_SUGGEST_UCB1 = 0,
    /// `gm_suggest_options.method`: Thompson sampling, seeded by `seed`.
    GM_SUGGEST_THOMPSON = 1,
}

/// [`gm_suggest_method::GM_SUGGEST_UCB1`] as the number the C ABI passes.
pub const GM_SUGGEST_UCB1: u8 = gm_suggest_method::GM_SUGGEST_UCB1 as u8;
/// [`gm_suggest_method::GM_SUGGEST_THOMPSON`] as the number the C ABI passes.
pub const GM_SUGGEST_THOMPSON: u8 = gm_suggest_method::GM_SUGGEST_THOMPSON as u8;
/// Most candidates `gm_suggest_strategy` accepts.
pub const GM_MAX_CANDIDATES: usize = 1_000_000;

/// A learning event to store, for `gm_store_learning_events`. Plain data
/// owned by the caller; read during the call.
#[repr(C)]
pub struct gm_learning_event_input {
    /// NUL-terminated UTF-8, non-empty.
    pub task_type: *const c_char,
    /// Must be finite.
    pub performance_delta: f64,
    /// NUL-terminated UTF-8, non-empty.
    pub strategy_used: *const c_char,
    /// NUL-terminated UTF-8 JSON object, or NULL for `{}`.
    pub parameters: *const c_char,
    /// Unix time in seconds; used only when `has_timestamp` is 1.
    pub timestamp: f64,
    /// 1 to use `timestamp`, 0 for the current time.
    pub has_timestamp: u8,
    /// Reserved; must be 0.
    pub reserved: [u8; 7],
}

/// Checks one input; messages name the field, which the caller qualifies.
unsafe fn to_new_event(e: &gm_learning_event_input) -> Result<NewLearningEvent<'_>> {
    if e.reserved != [0; 7] {
        return Err(crate::error::invalid("reserved", "must be 0"));
    }
    Ok(NewLearningEvent {
        task_type: text(e.task_type, "task_type")?,
        performance_delta: e.performance_delta,
        strategy_used: text(e.strategy_used, "strategy_used")?,
        parameters: opt_text(e.parameters, "parameters")?,
        timestamp: flag(e.has_timestamp, "has_timestamp")?.then_some(e.timestamp),
    })
}

/// A stored learning event. Pointers live as long as the list that holds it.
#[repr(C)]
pub struct gm_learning_event {
    /// Event id.
    pub id: i64,
    /// The change in performance the event recorded.
    pub performance_delta: f64,
    /// Unix time in seconds.
    pub timestamp: f64,
    /// NUL-terminated UTF-8.
    pub task_type: *const c_char,
    /// Byte length of `task_type`, without the NUL.
    pub task_type_len: usize,
    /// NUL-terminated UTF-8.
    pub strategy_used: *const c_char,
    /// Byte length of `strategy_used`, without the NUL.
    pub strategy_used_len: usize,
    /// NUL-terminated UTF-8 JSON object.
    pub parameters: *const c_char,
    /// Byte length of `parameters`, without the NUL.
    pub parameters_len: usize,
}

/// A list of learning events, owned by the caller, freed with
/// `gm_learning_event_list_free`. Strings lie in `[arena, arena + arena_len)`.
#[repr(C)]
pub struct gm_learning_event_list {
    /// The records, `len` of them.
    pub items: *const gm_learning_event,
    /// How many records `items` holds.
    pub len: usize,
    /// The block every string and blob of the records lies in.
    pub arena: *const u8,
    /// Bytes in `arena`.
    pub arena_len: usize,
}

/// One strategy's record: the seed's `(strategy, avg_delta, count)`.
#[repr(C)]
pub struct gm_strategy {
    /// Mean performance delta of the strategy.
    pub avg_delta: f64,
    /// How many events used it.
    pub usage_count: i64,
    /// NUL-terminated UTF-8.
    pub strategy: *const c_char,
    /// Byte length of `strategy`, without the NUL.
    pub strategy_len: usize,
}

/// A list of strategies, best first, owned by the caller, freed with
/// `gm_strategy_list_free`. Strings lie in `[arena, arena + arena_len)`.
#[repr(C)]
pub struct gm_strategy_list {
    /// The records, `len` of them.
    pub items: *const gm_strategy,
    /// How many records `items` holds.
    pub len: usize,
    /// The block every string and blob of the records lies in.
    pub arena: *const u8,
    /// Bytes in `arena`.
    pub arena_len: usize,
}

/// Which events `gm_strategy_stats` reads and how it ranks them. Plain
/// data owned by the caller; a zeroed struct (or NULL) means every event,
/// by mean, every strategy, no limit.
#[repr(C)]
pub struct gm_strategy_query {
    /// Only events with a timestamp at or after this; used when `has_since`
    /// is 1. Must be finite.
    pub since: f64,
    /// Leave out strategies used fewer times than this (0 or 1: none left
    /// out). Must not be negative.
    pub min_count: i64,
    /// At most this many rows; 0 for no limit. Must not be negative.
    pub limit: i64,
    /// 1 to apply `since`, 0 for every event.
    pub has_since: u8,
    /// `GM_STRATEGY_ORDER_MEAN` (0) or `GM_STRATEGY_ORDER_LOWER_BOUND`.
    /// Ties rank by mean, then by name.
    pub order: u8,
    /// Reserved; must be 0.
    pub reserved: [u8; 6],
}

/// One strategy's statistics. With one event (`count` 1), `std_dev` and
/// `std_error` are NaN and the interval is (-INFINITY, INFINITY). The
/// string lives as long as the list that holds it.
#[repr(C)]
pub struct gm_strategy_summary {
    /// How many events used it (in the window).
    pub count: i64,
    /// Mean performance delta.
    pub mean: f64,
    /// Sample standard deviation (n - 1 in the denominator).
    pub std_dev: f64,
    /// Standard error of the mean.
    pub std_error: f64,
    /// Lower end of the 95% confidence interval of the mean (Student's t).
    pub ci_low: f64,
    /// Upper end of that interval.
    pub ci_high: f64,
    /// Timestamp of its first event (in the window).
    pub first_used: f64,
    /// Timestamp of its last event.
    pub last_used: f64,
    /// NUL-terminated UTF-8.
    pub strategy: *const c_char,
    /// Byte length of `strategy`, without the NUL.
    pub strategy_len: usize,
}

/// A list of strategy summaries, owned by the caller, freed with
/// `gm_strategy_summary_list_free`. Strings lie in `[arena, arena + arena_len)`.
#[repr(C)]
pub struct gm_strategy_summary_list {
    /// The records, `len` of them.
    pub items: *const gm_strategy_summary,
    /// How many records `items` holds.
    pub len: usize,
    /// The block every string of the records lies in.
    pub arena: *const u8,
    /// Bytes in `arena`.
    pub arena_len: usize,
}

/// How `gm_suggest_strategy` chooses. Plain data owned by the caller; a
/// zeroed struct (or NULL) means UCB1 with the defaults below.
#[repr(C)]
pub struct gm_suggest_options {
    /// Seeds Thompson sampling: the same seed over the same events gives
    /// the same suggestion, in every gmstore version.
    pub seed: u64,
    /// Prior mean delta of a strategy; used when `has_prior_mean` is 1,
    /// otherwise the mean of every event of the task (0 if none). Finite.
    pub prior_mean: f64,
    /// Prior standard deviation; used when `has_prior_std` is 1, otherwise
    /// the spread of every event of the task (1 if fewer than two).
    /// Finite and positive.
    pub prior_std: f64,
    /// UCB1's exploration weight; used when `has_exploration` is 1,
    /// otherwise 1. Finite, not negative.
    pub exploration: f64,
    /// Only events at or after this timestamp count; used when
    /// `has_since` is 1. Finite.
    pub since: f64,
    /// `GM_SUGGEST_UCB1` (0) or `GM_SUGGEST_THOMPSON`.
    pub method: u8,
    /// 1 to use `prior_mean`.
    pub has_prior_mean: u8,
    /// 1 to use `prior_std`.
    pub has_prior_std: u8,
    /// 1 to use `exploration`.
    pub has_exploration: u8,
    /// 1 to use `since`.
    pub has_since: u8,
    /// Reserved; must be 0.
    pub reserved: [u8; 3],
}

/// The strategy to try next. Freed with `gm_suggestion_free`; the string
/// lives as long as the suggestion.
#[repr(C)]
pub struct gm_suggestion {
    /// What it won on: its upper confidence bound (UCB1; INFINITY for a
    /// candidate never tried) or its posterior draw (Thompson).
    pub score: f64,
    /// Its mean delta so far; NaN when never tried.
    pub mean: f64,
    /// How many events used it so far.
    pub count: i64,
    /// Its index in the caller's candidate list, or -1 without one.
    pub candidate_index: i64,
    /// NUL-terminated UTF-8.
    pub strategy: *const c_char,
    /// Byte length of `strategy`, without the NUL.
    pub strategy_len: usize,
}

arena_list!(
    gm_learning_event_list of gm_learning_event,
    gm_strategy_list of gm_strategy,
    gm_strategy_summary_list of gm_strategy_summary,
);

impl CRecord for StrategySummary {
    type C = gm_strategy_summary;

    fn arena_size(&self) -> (usize, usize) {
        (text_size(&self.strategy), 0)
    }

    fn to_c(&self, arena: &mut Arena) -> gm_strategy_summary {
        gm_strategy_summary {
            count: self.count,
            mean: self.mean,
            std_dev: self.std_dev,
            std_error: self.std_error,
            ci_low: self.ci_low,
            ci_high: self.ci_high,
            first_used: self.first_used,
            last_used: self.last_used,
            strategy: arena.text(&self.strategy),
            strategy_len: self.strategy.len(),
        }
    }
}

impl CRecord for Suggestion {
    type C = gm_suggestion;

    fn arena_size(&self) -> (usize, usize) {
        (text_size(&self.strategy), 0)
    }

    fn to_c(&self, arena: &mut Arena) -> gm_suggestion {
        gm_suggestion {
            score: self.score,
            mean: self.mean,
            count: self.count,
            candidate_index: self.candidate_index,
            strategy: arena.text(&self.strategy),
            strategy_len: self.strategy.len(),
        }
    }
}

unsafe fn strategy_query(query: *const gm_strategy_query) -> Result<StrategyQuery> {
    let Some(q) = query.as_ref() else {
        return Ok(StrategyQuery::default());
    };
    if q.reserved != [0; 6] {
        return Err(invalid("query.reserved", "must be 0"));
    }
    let order = match q.order {
        GM_STRATEGY_ORDER_MEAN => StrategyOrder::Mean,
        GM_STRATEGY_ORDER_LOWER_BOUND => StrategyOrder::LowerBound,
        other => return Err(invalid("query.order", format!("unknown order {other}"))),
    };
    StrategyQuery {
        since: flag(q.has_since, "query.has_since")?.then_some(q.since),
        order,
        min_count: q.min_count,
        limit: if q.limit == 0 { MAX_LIMIT } else { q.limit },
    }
    .validated()
    .map_err(|e| e.within("query"))
}

unsafe fn suggest_options<'a>(
    options: *const gm_suggest_options,
    candidates: Option<&'a [&'a str]>,
) -> Result<SuggestOptions<'a>> {
    let Some(o) = options.as_ref() else {
        return Ok(SuggestOptions {
            candidates,
            ..Default::default()
        });
    };
    if o.reserved != [0; 3] {
        return Err(invalid("options.reserved", "must be 0"));
    }
    let method = match o.method {
        GM_SUGGEST_UCB1 => SuggestMethod::Ucb1,
        GM_SUGGEST_THOMPSON => SuggestMethod::Thompson,
        other => return Err(invalid("options.method", format!("unknown method {other}"))),
    };
    let given = |value: f64, has: u8, field: &str| Ok::<_, crate::Error>(flag(has, field)?.then_some(value));
    let options = SuggestOptions {
        method,
        seed: o.seed,
        candidates: None,
        prior_mean: given(o.prior_mean, o.has_prior_mean, "options.has_prior_mean")?,
        prior_std: given(o.prior_std, o.has_prior_std, "options.has_prior_std")?,
        exploration: given(o.exploration, o.has_exploration, "options.has_exploration")?.unwrap_or(1.0),
        since: given(o.since, o.has_since, "options.has_since")?,
    };
    // Checked here without the candidates so messages name `options.`;
    // the store checks the candidates, which are a parameter of their own.
    options.check().map_err(|e| e.within("options"))?;
    Ok(SuggestOptions {
        candidates,
        ..options
    })
}

/// The candidate names: `None` for NULL (the strategies already tried),
/// each checked as `candidates[i]`.
unsafe fn candidate_names<'a>(
    candidates: *const *const c_char,
    count: usize,
) -> Result<Option<Vec<&'a str>>> {
    if candidates.is_null() {
        if count != 0 {
            return Err(invalid(
                "candidates",
                format!("is NULL but candidate_count is {count}"),
            ));
        }
        return Ok(None);
    }
    let names = slice(candidates, count, "candidates", GM_MAX_CANDIDATES)?;
    let texts = names
        .iter()
        .enumerate()
        .map(|(i, &p)| text(p, &format!("candidates[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(texts))
}

impl CRecord for LearningEvent {
    type C = gm_learning_event;

    fn arena_size(&self) -> (usize, usize) {
        (
            text_size(&self.task_type) + text_size(&self.strategy_used) + text_size(&self.parameters),
            0,
        )
    }

    fn to_c(&self, arena: &mut Arena) -> gm_learning_event {
        gm_learning_event {
            id: self.id,
            performance_delta: self.performance_delta,
            timestamp: self.timestamp,
            task_type: arena.text(&self.task_type),
            task_type_len: self.task_type.len(),
            strategy_used: arena.text(&self.strategy_used),
            strategy_used_len: self.strategy_used.len(),
            parameters: arena.text(&self.parameters),
            parameters_len: self.parameters.len(),
        }
    }
}

impl CRecord for StrategyStats {
    type C = gm_strategy;

    fn arena_size(&self) -> (usize, usize) {
        (text_size(&self.strategy), 0)
    }

    fn to_c(&self, arena: &mut Arena) -> gm_strategy {
        gm_strategy {
            avg_delta: self.avg_delta,
            usage_count: self.usage_count,
            strategy: arena.text(&self.strategy),
            strategy_len: self.strategy.len(),
        }
    }
}

/// Stores a learning event and writes its id to `*out_id`. `parameters`
/// (a JSON object) may be NULL for `{}`; `timestamp` may be NULL for now.
/// Errors: `GM_ERR_INVALID_ARGUMENT` for empty names, a non-finite delta or
/// timestamp, or bad parameters. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_store_learning_event(
    store: *mut gm_store,
    task_type: *const c_char,
    performance_delta: f64,
    strategy_used: *const c_char,
    parameters: *const c_char,
    timestamp: *const f64,
    out_id: *mut i64,
) -> gm_status {
    boundary("gm_store_learning_event", || {
        let out_id = out(out_id, "out_id", 0)?;
        let store = store_ref(store)?;
        let task = text(task_type, "task_type")?;
        let strategy = text(strategy_used, "strategy_used")?;
        let params = opt_text(parameters, "parameters")?;
        out_id.set(store.store_learning_event(
            task,
            performance_delta,
            strategy,
            params,
            opt_f64(timestamp),
        )?);
        Ok(())
    })
}

/// Stores `count` learning events in one transaction (all or none) and
/// writes their ids, in order, to the caller's array `out_ids` of `count`
/// slots. `events` may be NULL only when `count` is 0. Every event is
/// checked before anything is written; the message names the first bad
/// index (`events[2].performance_delta: ...`). Inside a `gm_begin` scope on
/// this thread the batch joins that transaction. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_store_learning_events(
    store: *mut gm_store,
    events: *const gm_learning_event_input,
    count: usize,
    out_ids: *mut i64,
) -> gm_status {
    boundary("gm_store_learning_events", || {
        let store = store_ref(store)?;
        store_batch(
            events,
            count,
            out_ids,
            ("events", GM_MAX_BATCH),
            |e| to_new_event(e),
            |batch| store.store_learning_events(batch),
        )
    })
}

/// Writes the events of `task_type`, newest first, at most `limit`, to
/// `*out_list` (free with `gm_learning_event_list_free`); with
/// `min_performance_delta` not NULL, only those with at least that delta.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_get_learning_events_by_task(
    store: *mut gm_store,
    task_type: *const c_char,
    limit: i64,
    min_performance_delta: *const f64,
    out_list: *mut *mut gm_learning_event_list,
) -> gm_status {
    boundary("gm_get_learning_events_by_task", || {
        let out_list = out(out_list, "out_list", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let task = text(task_type, "task_type")?;
        let events = store.get_learning_events_by_task(task, limit, opt_f64(min_performance_delta))?;
        out_list.set(into_list(&events, gm_learning_event_list::from));
        Ok(())
    })
}

/// Writes the strategies of `task_type` by average delta, best first, at
/// most `limit`, to `*out_list` (free with `gm_strategy_list_free`).
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_get_best_strategies(
    store: *mut gm_store,
    task_type: *const c_char,
    limit: i64,
    out_list: *mut *mut gm_strategy_list,
) -> gm_status {
    boundary("gm_get_best_strategies", || {
        let out_list = out(out_list, "out_list", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let strategies = store.get_best_strategies(text(task_type, "task_type")?, limit)?;
        out_list.set(into_list(&strategies, gm_strategy_list::from));
        Ok(())
    })
}

/// Writes every strategy of `task_type` with its count, mean, standard
/// deviation, standard error, 95% confidence interval of the mean and
/// first and last use to `*out_list` (free with
/// `gm_strategy_summary_list_free`), ranked and filtered by `query` (NULL
/// for the defaults). An unknown task gives an empty list. Errors:
/// `GM_ERR_INVALID_ARGUMENT` naming the `query.` field. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_strategy_stats(
    store: *mut gm_store,
    task_type: *const c_char,
    query: *const gm_strategy_query,
    out_list: *mut *mut gm_strategy_summary_list,
) -> gm_status {
    boundary("gm_strategy_stats", || {
        let out_list = out(out_list, "out_list", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let task = text(task_type, "task_type")?;
        let rows = store.strategy_stats(task, &strategy_query(query)?)?;
        out_list.set(into_list(&rows, gm_strategy_summary_list::from));
        Ok(())
    })
}

/// Writes the strategy to try next for `task_type` to `*out_suggestion`
/// (free with `gm_suggestion_free`), chosen by `options` (NULL: UCB1 with
/// the defaults) among `candidates` (`candidate_count` NUL-terminated
/// names, read during the call; candidates never tried get the prior), or
/// among the strategies already tried when `candidates` is NULL and
/// `candidate_count` 0. Errors: `GM_ERR_INVALID_ARGUMENT` for an empty or
/// repeated candidate, an empty list (non-NULL with count 0) or a
/// non-finite prior, naming the field; `GM_ERR_NOT_FOUND` when the task
/// has no events and no candidates were given. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_suggest_strategy(
    store: *mut gm_store,
    task_type: *const c_char,
    candidates: *const *const c_char,
    candidate_count: usize,
    options: *const gm_suggest_options,
    out_suggestion: *mut *mut gm_suggestion,
) -> gm_status {
    boundary("gm_suggest_strategy", || {
        let out_suggestion = out(out_suggestion, "out_suggestion", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let task = text(task_type, "task_type")?;
        let names = candidate_names(candidates, candidate_count)?;
        let options = suggest_options(options, names.as_deref())?;
        let suggestion = store.suggest_strategy(task, &options)?;
        out_suggestion.set(into_one(&suggestion));
        Ok(())
    })
}

/// Writes the number of stored learning events to `*out_count`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_count_learning_events(store: *mut gm_store, out_count: *mut i64) -> gm_status {
    boundary("gm_count_learning_events", || {
        let out_count = out(out_count, "out_count", 0)?;
        out_count.set(store_ref(store)?.count_learning_events()?);
        Ok(())
    })
}

/// Frees a learning-event list with every pointer in it. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_learning_event_list_free(list: *mut gm_learning_event_list) {
    quiet_boundary((), || {
        free_list::<gm_learning_event_list, gm_learning_event>(list)
    })
}

/// Frees a strategy list with every pointer in it. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_strategy_list_free(list: *mut gm_strategy_list) {
    quiet_boundary((), || free_list::<gm_strategy_list, gm_strategy>(list))
}

/// Frees a strategy summary list with every pointer in it. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_strategy_summary_list_free(list: *mut gm_strategy_summary_list) {
    quiet_boundary((), || {
        free_list::<gm_strategy_summary_list, gm_strategy_summary>(list)
    })
}

/// Frees a suggestion with its string. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_suggestion_free(suggestion: *mut gm_suggestion) {
    quiet_boundary((), || free_one(suggestion))
}
