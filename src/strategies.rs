//! Strategy analytics above the storage seam: summaries with confidence
//! intervals, ranking under uncertainty, and bandit suggestions (UCB1,
//! Thompson sampling). Engines only supply [`StrategyMoments`].

use std::cmp::Ordering;

use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::error::{invalid, Error, Result};
use crate::estimates::Spread;
use crate::records::{StrategyMoments, StrategySummary, Suggestion};
use crate::validate;

/// How [`Store::strategy_stats`](crate::Store::strategy_stats) ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StrategyOrder {
    /// Highest mean first (the seed's `get_best_strategies` order).
    #[default]
    Mean,
    /// Highest lower 95% confidence bound first: a strategy must be good
    /// and well evidenced. Single-use strategies (bound −∞) come last.
    LowerBound,
}

/// Which events [`Store::strategy_stats`](crate::Store::strategy_stats)
/// reads and how it ranks them. Ties are broken by mean, then by name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrategyQuery {
    /// Only events with a timestamp at or after this (a recent window).
    pub since: Option<f64>,
    /// The ranking.
    pub order: StrategyOrder,
    /// Leave out strategies used fewer times than this.
    pub min_count: i64,
    /// At most this many rows.
    pub limit: i64,
}

impl Default for StrategyQuery {
    fn default() -> Self {
        StrategyQuery {
            since: None,
            order: StrategyOrder::Mean,
            min_count: 1,
            limit: validate::MAX_LIMIT,
        }
    }
}

impl StrategyQuery {
    pub(crate) fn validated(&self) -> Result<StrategyQuery> {
        validate::finite_opt("since", self.since)?;
        if self.min_count < 0 {
            return Err(invalid(
                "min_count",
                format!("must not be negative, got {}", self.min_count),
            ));
        }
        validate::limit(self.limit)?;
        Ok(*self)
    }
}

/// The rule [`Store::suggest_strategy`](crate::Store::suggest_strategy)
/// follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SuggestMethod {
    /// Highest upper confidence bound `mean + c·σ·√(2 ln N / n)`, where `N`
    /// counts every event of the candidates and `σ` is the prior spread;
    /// a strategy never tried is tried first. Deterministic.
    #[default]
    Ucb1,
    /// Highest draw from each strategy's Gaussian posterior on its mean
    /// delta (a normal prior, the strategy's own spread as noise). Random,
    /// reproducible from `seed`.
    Thompson,
}

/// Options of [`Store::suggest_strategy`](crate::Store::suggest_strategy).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SuggestOptions<'a> {
    /// The rule.
    pub method: SuggestMethod,
    /// Seeds Thompson sampling: the same seed over the same events gives
    /// the same suggestion, in every gmstore version.
    pub seed: u64,
    /// The strategies to choose among, including ones never tried; `None`
    /// for the strategies the task's events used. Must not be empty.
    pub candidates: Option<&'a [&'a str]>,
    /// Prior mean delta of a strategy; default: the mean of every event
    /// of the task (0 when it has none).
    pub prior_mean: Option<f64>,
    /// Prior standard deviation (> 0); default: the spread of every event
    /// of the task (1 when it has fewer than two).
    pub prior_std: Option<f64>,
    /// UCB1's exploration weight `c` (≥ 0; 1 by default).
    pub exploration: f64,
    /// Only events at or after this timestamp count.
    pub since: Option<f64>,
}

impl Default for SuggestOptions<'_> {
    fn default() -> Self {
        SuggestOptions {
            method: SuggestMethod::Ucb1,
            seed: 0,
            candidates: None,
            prior_mean: None,
            prior_std: None,
            exploration: 1.0,
            since: None,
        }
    }
}

impl SuggestOptions<'_> {
    pub(crate) fn check(&self) -> Result<()> {
        validate::finite_opt("since", self.since)?;
        validate::finite_opt("prior_mean", self.prior_mean)?;
        if let Some(std) = validate::finite_opt("prior_std", self.prior_std)? {
            if std <= 0.0 {
                return Err(invalid("prior_std", format!("must be positive, got {std}")));
            }
        }
        let c = validate::finite("exploration", self.exploration)?;
        if c < 0.0 {
            return Err(invalid("exploration", format!("must not be negative, got {c}")));
        }
        let Some(candidates) = self.candidates else {
            return Ok(());
        };
        if candidates.is_empty() {
            return Err(invalid(
                "candidates",
                "the list is empty; pass none to choose among the strategies already tried",
            ));
        }
        for (i, name) in candidates.iter().enumerate() {
            validate::non_empty(&format!("candidates[{i}]"), name)?;
            if candidates[..i].contains(name) {
                return Err(invalid(
                    &format!("candidates[{i}]"),
                    format!("'{name}' is listed twice"),
                ));
            }
        }
        Ok(())
    }
}

/// Summaries of `moments` ranked and cut as `query` asks.
pub(crate) fn summarize(moments: Vec<StrategyMoments>, query: &StrategyQuery) -> Vec<StrategySummary> {
    let mut rows: Vec<StrategySummary> = moments
        .into_iter()
        .filter(|m| m.count >= query.min_count)
        .map(summary)
        .collect();
    rows.sort_by(|a, b| rank(query.order, a, b));
    rows.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
    rows
}

fn summary(m: StrategyMoments) -> StrategySummary {
    let spread = Spread::of(m.count, m.mean, m.m2);
    StrategySummary {
        strategy: m.strategy,
        count: m.count,
        mean: m.mean,
        std_dev: spread.std_dev,
        std_error: spread.std_error,
        ci_low: spread.ci_low,
        ci_high: spread.ci_high,
        first_used: m.first_used,
        last_used: m.last_used,
    }
}

fn rank(order: StrategyOrder, a: &StrategySummary, b: &StrategySummary) -> Ordering {
    let by_mean = b
        .mean
        .total_cmp(&a.mean)
        .then_with(|| a.strategy.cmp(&b.strategy));
    match order {
        StrategyOrder::Mean => by_mean,
        StrategyOrder::LowerBound => b.ci_low.total_cmp(&a.ci_low).then(by_mean),
    }
}

/// One arm of the bandit: a candidate and what the events say of it.
struct Arm<'m> {
    name: &'m str,
    candidate_index: i64,
    seen: Option<&'m StrategyMoments>,
}

/// The task-wide figures the priors default to.
struct Pooled {
    mean: f64,
    /// Spread of every event around the task's mean.
    total_std: Option<f64>,
    /// Spread of events around their own strategy's mean.
    within_std: Option<f64>,
}

impl Pooled {
    fn of(moments: &[StrategyMoments]) -> Pooled {
        let events: i64 = moments.iter().map(|m| m.count).sum();
        let n = events as f64;
        let mean = if events > 0 {
            moments.iter().map(|m| m.mean * m.count as f64).sum::<f64>() / n
        } else {
            0.0
        };
        let within: f64 = moments.iter().map(|m| m.m2).sum();
        let between: f64 = moments
            .iter()
            .map(|m| m.count as f64 * (m.mean - mean).powi(2))
            .sum();
        let groups = moments.len() as i64;
        let std = |ss: f64, dof: i64| (dof > 0 && ss > 0.0).then(|| (ss / dof as f64).sqrt());
        Pooled {
            mean,
            total_std: std(within + between, events - 1),
            within_std: std(within, events - groups),
        }
    }
}

/// Picks the strategy to try next among `moments` (a task's strategies,
/// by name) or the caller's candidates. Fails with `NotFound` when there
/// is nothing to choose from.
pub(crate) fn suggest(
    task: &str,
    moments: &[StrategyMoments],
    options: &SuggestOptions<'_>,
) -> Result<Suggestion> {
    let arms = arms(moments, options.candidates);
    if arms.is_empty() {
        return Err(Error::NotFound(format!(
            "task_type '{task}' has no learning events{} and no candidates were given",
            if options.since.is_some() {
                " since the given time"
            } else {
                ""
            }
        )));
    }
    let pooled = Pooled::of(moments);
    let prior_mean = options.prior_mean.unwrap_or(pooled.mean);
    let prior_std = options.prior_std.or(pooled.total_std).unwrap_or(1.0);
    let scores: Vec<f64> = match options.method {
        SuggestMethod::Ucb1 => {
            let total = arms
                .iter()
                .filter_map(|a| a.seen)
                .map(|m| m.count)
                .sum::<i64>()
                .max(1);
            let width = options.exploration * prior_std * (2.0 * (total as f64).ln()).sqrt();
            arms.iter().map(|a| ucb(a, width)).collect()
        }
        SuggestMethod::Thompson => {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(options.seed);
            let noise_default = pooled.within_std.unwrap_or(prior_std);
            arms.iter()
                .map(|a| thompson_draw(a, prior_mean, prior_std, noise_default, &mut rng))
                .collect()
        }
    };
    // The first arm with the highest score wins: candidates keep the
    // caller's order, tried strategies their name order.
    let best = (0..arms.len()).fold(0, |best, i| if scores[i] > scores[best] { i } else { best });
    let arm = &arms[best];
    Ok(Suggestion {
        strategy: arm.name.to_owned(),
        score: scores[best],
        count: arm.seen.map_or(0, |m| m.count),
        mean: arm.seen.map_or(f64::NAN, |m| m.mean),
        candidate_index: arm.candidate_index,
    })
}

fn arms<'m>(moments: &'m [StrategyMoments], candidates: Option<&'m [&'m str]>) -> Vec<Arm<'m>> {
    let find = |name: &str| moments.iter().find(|m| m.strategy == name);
    match candidates {
        None => moments
            .iter()
            .map(|m| Arm {
                name: &m.strategy,
                candidate_index: -1,
                seen: Some(m),
            })
            .collect(),
        Some(names) => names
            .iter()
            .enumerate()
            .map(|(i, name)| Arm {
                name,
                candidate_index: i as i64,
                seen: find(name),
            })
            .collect(),
    }
}

/// UCB1's bound; `width` is `c·σ·√(2 ln N)`, divided here by `√n`.
fn ucb(arm: &Arm<'_>, width: f64) -> f64 {
    match arm.seen {
        None => f64::INFINITY,
        Some(m) => m.mean + width / (m.count as f64).sqrt(),
    }
}

/// A draw from the arm's posterior on its mean: a normal prior updated by
/// its events, whose noise is their own spread (two or more events) or
/// the task's spread within strategies.
fn thompson_draw(
    arm: &Arm<'_>,
    prior_mean: f64,
    prior_std: f64,
    noise_default: f64,
    rng: &mut Xoshiro256PlusPlus,
) -> f64 {
    let z = standard_normal(rng);
    let prior_precision = prior_std.powi(2).recip();
    let Some(m) = arm.seen else {
        return prior_mean + z * prior_std;
    };
    let noise = if m.count >= 2 {
        (m.m2 / (m.count - 1) as f64).sqrt()
    } else {
        noise_default
    };
    if noise == 0.0 {
        // Identical deltas: the data pin the mean exactly.
        return m.mean;
    }
    let data_precision = m.count as f64 / noise.powi(2);
    let precision = prior_precision + data_precision;
    let mean = (prior_mean * prior_precision + m.mean * data_precision) / precision;
    mean + z / precision.sqrt()
}

/// A standard normal variate by the Box–Muller transform: two uniforms in,
/// one normal out, so the stream is fixed by the generator alone.
fn standard_normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    let uniform = |rng: &mut Xoshiro256PlusPlus| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let u1 = 1.0 - uniform(rng); // in (0, 1]: ln never sees 0
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
