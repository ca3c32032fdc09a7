//! Exact top-k from float32 scores with proven error bounds.
//!
//! The scan scores every row in float32 (SIMD, or SGEMM for batches); the
//! final order comes from float64 scores. A fixed number of float32
//! candidates is not enough: on near-duplicates more rows than that can
//! score within float32 rounding of the k-th best, and the true neighbours
//! are lost. Instead each float32 key comes with a bound on its error, and
//! every row whose key could still reach the top k is kept: a row whose
//! upper bound falls below the k-th best lower bound cannot be among the k
//! nearest, whatever the rounding did.
//!
//! The bounds are the classical ones for floating-point inner products
//! (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1): a dot
//! product of n terms summed in any order, with or without FMA, is off by
//! at most `gamma(n) * sum |q_j x_j| <= gamma(n) * |q| |x|`, where
//! `gamma(n) = n u / (1 - n u)` and `u = 2^-24`; products that underflow add
//! at most one subnormal step each. Rows or queries whose float32 norms
//! overflowed or are too small for a relative bound get an infinite error:
//! they are always re-scored, so the result stays exact on any finite data.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::Metric;

/// float32 unit roundoff.
const UNIT_ROUNDOFF: f64 = 1.0 / (1u64 << 24) as f64;
/// The spacing of float32 subnormals: the most one underflowing product
/// can lose.
const SUBNORMAL_STEP: f64 = 1.401_298_464_324_817e-45;
/// Below this squared norm a float32 norm has no useful relative bound.
const MIN_BOUNDED_SQ_NORM: f32 = 1e-30;
/// Covers the float64 roundings made while computing keys and bounds.
const SLACK: f64 = 1.0 + 1e-6;

/// The float64 key of a row (higher is nearer) and a bound on how far it
/// may lie from the key of the exact arithmetic.
pub(crate) struct ErrorModel {
    metric: Metric,
    /// gamma(dim) for the dot products and squared norms.
    gamma: f64,
    /// `dim` underflowing products at most.
    underflow: f64,
    q_sq: f64,
    /// An upper bound of the query's true norm; infinite if unknown.
    q_norm: f64,
}

impl ErrorModel {
    /// For a query of `dim` components whose float32 squared norm is `q_sq`.
    pub(crate) fn new(metric: Metric, dim: usize, q_sq: f32) -> ErrorModel {
        let n = dim as f64;
        let gamma = n * UNIT_ROUNDOFF / (1.0 - n * UNIT_ROUNDOFF);
        let underflow = n * SUBNORMAL_STEP;
        ErrorModel {
            metric,
            gamma,
            underflow,
            q_sq: q_sq as f64,
            q_norm: norm_bound(q_sq, gamma, underflow),
        }
    }

    /// `(key, error)` of a row with float32 dot product `dot` with the
    /// query and float32 squared norm `x_sq`.
    #[inline]
    pub(crate) fn key(&self, dot: f32, x_sq: f32) -> (f64, f64) {
        let d = dot as f64;
        let x_norm = || norm_bound(x_sq, self.gamma, self.underflow);
        let (key, error) = match self.metric {
            Metric::Dot => (d, self.gamma * self.q_norm * x_norm() + self.underflow),
            Metric::Cosine => self.cosine(d, x_sq),
            Metric::L2 => {
                let sum = self.q_norm + x_norm();
                (
                    2.0 * d - self.q_sq - x_sq as f64,
                    (self.gamma + 4.0 * UNIT_ROUNDOFF) * sum * sum + 4.0 * self.underflow,
                )
            }
        };
        if key.is_finite() && error.is_finite() {
            (key, error * SLACK)
        } else {
            (key, f64::INFINITY)
        }
    }

    /// cos = d / (|q| |x|) from float32 pieces. With the dot off by
    /// gamma |q||x| and each squared norm off by a relative gamma, the
    /// computed cosine is off by at most (2 gamma + underflow / (|q||x|))
    /// / (1 - gamma), since |cos| <= 1.
    fn cosine(&self, d: f64, x_sq: f32) -> (f64, f64) {
        if !bounded(x_sq) || !bounded(self.q_sq as f32) {
            return (0.0, f64::INFINITY);
        }
        let denominator = (self.q_sq * x_sq as f64).sqrt();
        let relative_norms = self.gamma + self.underflow / MIN_BOUNDED_SQ_NORM as f64;
        let error = (self.gamma + relative_norms + self.underflow / denominator) / (1.0 - relative_norms);
        (d / denominator, error)
    }
}

fn bounded(sq: f32) -> bool {
    sq.is_finite() && sq >= MIN_BOUNDED_SQ_NORM
}

/// An upper bound of a true norm from its float32 squared norm, which is
/// off by at most a relative gamma plus the underflow.
fn norm_bound(sq: f32, gamma: f64, underflow: f64) -> f64 {
    if !sq.is_finite() {
        return f64::INFINITY;
    }
    ((sq as f64 + underflow) / (1.0 - gamma)).sqrt() * SLACK
}

/// A float64 that orders totally, for the heap of lower bounds.
#[derive(Clone, Copy, PartialEq)]
struct Ordered(f64);
impl Eq for Ordered {}
impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Every row that may be among the k best: the k largest lower bounds
/// seen give a floor, and a row is kept while its upper bound reaches it.
pub(crate) struct Candidates {
    k: usize,
    /// The k largest lower bounds so far (a min-heap: the floor on top).
    lower: BinaryHeap<Reverse<Ordered>>,
    /// (upper bound, row) of every row not yet ruled out.
    kept: Vec<(f64, usize)>,
    /// `kept` is pruned against the floor when it reaches this length.
    prune_at: usize,
}

impl Candidates {
    pub(crate) fn new(k: usize) -> Candidates {
        Candidates {
            k,
            lower: BinaryHeap::with_capacity(k + 1),
            kept: Vec::with_capacity(2 * k + 64),
            prune_at: 4 * k + 256,
        }
    }

    /// The k-th best lower bound: the k-th best exact key is at least this.
    fn floor(&self) -> f64 {
        match self.lower.peek() {
            Some(Reverse(Ordered(v))) if self.lower.len() == self.k => *v,
            _ => f64::NEG_INFINITY,
        }
    }

    #[inline]
    pub(crate) fn offer(&mut self, (key, error): (f64, f64), row: usize) {
        if error.is_finite() {
            self.offer_lower(key - error);
            if key + error < self.floor() {
                return;
            }
            self.kept.push((key + error, row));
        } else {
            self.kept.push((f64::INFINITY, row));
        }
        if self.kept.len() >= self.prune_at {
            self.prune();
            self.prune_at = (2 * self.kept.len()).max(4 * self.k + 256);
        }
    }

    fn offer_lower(&mut self, lower: f64) {
        if self.lower.len() < self.k {
            self.lower.push(Reverse(Ordered(lower)));
        } else if self.lower.peek().is_some_and(|Reverse(Ordered(v))| lower > *v) {
            self.lower.pop();
            self.lower.push(Reverse(Ordered(lower)));
        }
    }

    fn prune(&mut self) {
        let floor = self.floor();
        self.kept.retain(|&(upper, _)| upper >= floor);
    }

    /// Takes in the candidates of another share of the rows.
    pub(crate) fn merge(&mut self, other: Candidates) {
        other
            .lower
            .into_iter()
            .for_each(|Reverse(Ordered(v))| self.offer_lower(v));
        self.kept.extend(other.kept);
        self.prune();
    }

    /// The rows that may be among the k best, to re-score exactly.
    pub(crate) fn into_rows(mut self) -> impl Iterator<Item = usize> {
        self.prune();
        self.kept.into_iter().map(|(_, row)| row)
    }
}
