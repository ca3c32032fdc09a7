//! Sum, min and max trees over a fixed number of slots: O(log n) to set a
//! slot's weight, to find the slot a point of the cumulative weight falls
//! in, and to read the total, the smallest positive weight and the largest
//! weight.
//!
//! Every inner node is recomputed from its two children on each set,
//! never adjusted by a difference, so rounding does not pile up over
//! millions of updates: the root is always the tree-ordered sum of the
//! current leaves, within log2(n) roundings of the exact sum. (Reverb
//! adds differences and must rebuild its tree when the error grows.)

/// The trees. Node 1 is the root; the children of node i are 2i and
/// 2i + 1; leaves are nodes `capacity..2 * capacity`.
#[derive(Debug, Clone)]
pub(crate) struct WeightTrees {
    capacity: usize,
    sum: Vec<f64>,
    /// Smallest positive leaf below each node (+inf where none is).
    min_positive: Vec<f64>,
    max: Vec<f64>,
}

impl WeightTrees {
    /// Trees of `slots` empty slots (rounded up to a power of two).
    pub(crate) fn new(slots: usize) -> Self {
        let capacity = slots.max(1).next_power_of_two();
        Self {
            capacity,
            sum: vec![0.0; 2 * capacity],
            min_positive: vec![f64::INFINITY; 2 * capacity],
            max: vec![0.0; 2 * capacity],
        }
    }

    /// Trees over `weights`, built bottom-up in O(n).
    pub(crate) fn from_weights(weights: &[f64]) -> Self {
        let mut trees = Self::new(weights.len());
        let cap = trees.capacity;
        for (slot, &w) in weights.iter().enumerate() {
            trees.sum[cap + slot] = w;
            trees.max[cap + slot] = w;
            trees.min_positive[cap + slot] = positive_or_inf(w);
        }
        for node in (1..cap).rev() {
            trees.recompute(node);
        }
        trees
    }

    pub(crate) fn slots(&self) -> usize {
        self.capacity
    }

    /// Sets a slot's weight (finite, >= 0; 0 means it is never found).
    pub(crate) fn set(&mut self, slot: usize, weight: f64) {
        debug_assert!(weight.is_finite() && weight >= 0.0);
        let mut node = self.capacity + slot;
        self.sum[node] = weight;
        self.max[node] = weight;
        self.min_positive[node] = positive_or_inf(weight);
        while node > 1 {
            node /= 2;
            self.recompute(node);
        }
    }

    pub(crate) fn weight(&self, slot: usize) -> f64 {
        self.sum[self.capacity + slot]
    }

    pub(crate) fn total(&self) -> f64 {
        self.sum[1]
    }

    /// The smallest positive weight, if any slot has one.
    pub(crate) fn min_positive(&self) -> Option<f64> {
        Some(self.min_positive[1]).filter(|m| m.is_finite())
    }

    pub(crate) fn max(&self) -> f64 {
        self.max[1]
    }

    /// The slot whose share of the cumulative weight holds `point`
    /// (0 <= point < total). Only slots of positive weight are found: the
    /// descent enters a child only if its sum is positive, so rounding at
    /// a boundary can never land on an empty slot.
    pub(crate) fn find(&self, mut point: f64) -> usize {
        let mut node = 1;
        while node < self.capacity {
            let left = 2 * node;
            if point < self.sum[left] || self.sum[left + 1] <= 0.0 {
                node = left;
            } else {
                point -= self.sum[left];
                node = left + 1;
            }
        }
        node - self.capacity
    }

    fn recompute(&mut self, node: usize) {
        let (l, r) = (2 * node, 2 * node + 1);
        self.sum[node] = self.sum[l] + self.sum[r];
        self.min_positive[node] = self.min_positive[l].min(self.min_positive[r]);
        self.max[node] = self.max[l].max(self.max[r]);
    }
}

fn positive_or_inf(weight: f64) -> f64 {
    if weight > 0.0 {
        weight
    } else {
        f64::INFINITY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_min_and_max_follow_every_set() {
        let mut t = WeightTrees::new(5);
        assert_eq!(t.slots(), 8);
        assert_eq!((t.total(), t.min_positive(), t.max()), (0.0, None, 0.0));
        t.set(0, 2.0);
        t.set(4, 0.5);
        t.set(3, 0.0);
        assert_eq!((t.total(), t.min_positive(), t.max()), (2.5, Some(0.5), 2.0));
        t.set(0, 0.0);
        assert_eq!((t.total(), t.min_positive(), t.max()), (0.5, Some(0.5), 0.5));
    }

    #[test]
    fn find_lands_on_the_slot_holding_the_point_and_never_on_an_empty_one() {
        let t = WeightTrees::from_weights(&[1.0, 0.0, 2.0, 0.0, 0.0, 3.0]);
        assert_eq!(t.find(0.0), 0);
        assert_eq!(t.find(0.999), 0);
        assert_eq!(t.find(1.0), 2);
        assert_eq!(t.find(2.999), 2);
        assert_eq!(t.find(3.0), 5);
        // A point at or past the total (rounding) still finds a weighted slot.
        assert_eq!(t.find(6.0), 5);
        assert_eq!(t.find(1e300), 5);
        let trailing_empty = WeightTrees::from_weights(&[1.0, 1.0, 0.0, 0.0]);
        assert_eq!(trailing_empty.find(2.0), 1);
    }

    #[test]
    fn a_million_updates_leave_no_drift_in_the_root() {
        let n = 4096;
        let mut t = WeightTrees::new(n);
        let mut leaves = vec![0.0; n];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..1_000_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let slot = (x % n as u64) as usize;
            // weights across 12 orders of magnitude, the worst for sums
            let w = ((x >> 20) % 1000) as f64 * 10f64.powi((x % 13) as i32 - 6);
            t.set(slot, w);
            leaves[slot] = w;
        }
        let fresh = WeightTrees::from_weights(&leaves);
        assert_eq!(t.total(), fresh.total(), "the root is the fresh sum, bit for bit");
        let exact: f64 = leaves.iter().sum();
        assert!((t.total() - exact).abs() <= exact * 1e-12);
    }
}
