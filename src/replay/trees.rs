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

/// One node of the three trees: its subtree's sum, smallest positive and
/// largest weight, side by side so an update touches one cache line per
/// level, not three.
#[derive(Debug, Clone, Copy)]
struct Node {
    sum: f64,
    /// +inf where no leaf below is positive.
    min_positive: f64,
    max: f64,
}

const EMPTY: Node = Node {
    sum: 0.0,
    min_positive: f64::INFINITY,
    max: 0.0,
};

/// Two sibling nodes, aligned to a cache line: a descent reads both
/// children of a node with one memory access.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Siblings([Node; 2]);

/// The trees. Node 1 is the root; the children of node i are 2i and
/// 2i + 1 (the pair `i`); leaves are nodes `capacity..2 * capacity`.
#[derive(Debug, Clone)]
pub(crate) struct WeightTrees {
    capacity: usize,
    pairs: Vec<Siblings>,
}

impl WeightTrees {
    /// Trees of `slots` empty slots (rounded up to a power of two).
    pub(crate) fn new(slots: usize) -> Self {
        let capacity = slots.max(1).next_power_of_two();
        Self {
            capacity,
            pairs: vec![Siblings([EMPTY; 2]); capacity],
        }
    }

    /// Trees over `weights`, built bottom-up in O(n).
    pub(crate) fn from_weights(weights: &[f64]) -> Self {
        let mut trees = Self::new(weights.len());
        for (slot, &w) in weights.iter().enumerate() {
            *trees.node_mut(trees.capacity + slot) = leaf(w);
        }
        for node in (1..trees.capacity).rev() {
            trees.recompute(node);
        }
        trees
    }

    pub(crate) fn slots(&self) -> usize {
        self.capacity
    }

    fn node(&self, i: usize) -> &Node {
        &self.pairs[i / 2].0[i % 2]
    }

    fn node_mut(&mut self, i: usize) -> &mut Node {
        &mut self.pairs[i / 2].0[i % 2]
    }

    /// Sets a slot's weight (finite, >= 0; 0 means it is never found).
    pub(crate) fn set(&mut self, slot: usize, weight: f64) {
        self.set_leaf(slot, weight);
        let mut node = (self.capacity + slot) / 2;
        while node >= 1 {
            self.recompute(node);
            node /= 2;
        }
    }

    /// Sets a slot's weight without updating the nodes above it: call
    /// [`WeightTrees::update_above`] with the slots set before reading.
    pub(crate) fn set_leaf(&mut self, slot: usize, weight: f64) {
        debug_assert!(weight.is_finite() && weight >= 0.0);
        let capacity = self.capacity;
        *self.node_mut(capacity + slot) = leaf(weight);
    }

    /// Recomputes every node above `slots`, a level at a time: nodes two
    /// slots share are computed once, and the nodes of one level are
    /// independent, so their memory reads overlap. `slots` is consumed.
    pub(crate) fn update_above(&mut self, slots: &mut Vec<usize>) {
        for s in slots.iter_mut() {
            *s = (self.capacity + *s) / 2;
        }
        // Trees of one slot have no node above it (the leaf is the root):
        // its parent would be node 0, and halving 0 never reaches 1.
        slots.retain(|&node| node >= 1);
        while !slots.is_empty() {
            slots.sort_unstable();
            slots.dedup();
            for &node in slots.iter() {
                self.recompute(node);
            }
            if slots[0] == 1 {
                break;
            }
            for s in slots.iter_mut() {
                *s /= 2;
            }
        }
        slots.clear();
    }

    pub(crate) fn weight(&self, slot: usize) -> f64 {
        self.node(self.capacity + slot).sum
    }

    pub(crate) fn total(&self) -> f64 {
        self.node(1).sum
    }

    /// The smallest positive weight, if any slot has one.
    pub(crate) fn min_positive(&self) -> Option<f64> {
        Some(self.node(1).min_positive).filter(|m| m.is_finite())
    }

    pub(crate) fn max(&self) -> f64 {
        self.node(1).max
    }

    /// The slot whose share of the cumulative weight holds `point`
    /// (0 <= point < total). Only slots of positive weight are found: the
    /// descent enters a child only if its sum is positive, so rounding at
    /// a boundary can never land on an empty slot.
    pub(crate) fn find(&self, mut point: f64) -> usize {
        let mut node = 1;
        while node < self.capacity {
            node = self.step(node, &mut point);
        }
        node - self.capacity
    }

    /// [`WeightTrees::find`] for many points at once, writing each slot
    /// over its point's index in `slots`: the descents go down a level at
    /// a time together, so their cache misses overlap instead of waiting
    /// one behind another.
    pub(crate) fn find_many(&self, points: &mut [f64], slots: &mut Vec<usize>) {
        slots.clear();
        slots.resize(points.len(), 1);
        let mut width = 1;
        while width < self.capacity {
            for (node, point) in slots.iter_mut().zip(points.iter_mut()) {
                *node = self.step(*node, point);
            }
            width *= 2;
        }
        for node in slots.iter_mut() {
            *node -= self.capacity;
        }
    }

    /// One level of a descent: the child of `node` that holds `point`.
    fn step(&self, node: usize, point: &mut f64) -> usize {
        let [left, right] = &self.pairs[node].0;
        if *point < left.sum || right.sum <= 0.0 {
            2 * node
        } else {
            *point -= left.sum;
            2 * node + 1
        }
    }

    fn recompute(&mut self, node: usize) {
        let [l, r] = self.pairs[node].0;
        *self.node_mut(node) = Node {
            sum: l.sum + r.sum,
            min_positive: l.min_positive.min(r.min_positive),
            max: l.max.max(r.max),
        };
    }
}

fn leaf(weight: f64) -> Node {
    Node {
        sum: weight,
        min_positive: positive_or_inf(weight),
        max: weight,
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
    fn batched_finds_and_sets_equal_one_at_a_time() {
        let weights: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 13) as f64 * 0.25).collect();
        let mut one = WeightTrees::from_weights(&weights);
        let mut many = one.clone();
        let total = one.total();
        let mut points: Vec<f64> = (0..500).map(|k| total * k as f64 / 500.0).collect();
        let expected: Vec<usize> = points.iter().map(|&p| one.find(p)).collect();
        let mut found = Vec::new();
        many.find_many(&mut points, &mut found);
        assert_eq!(found, expected);
        // Updates with repeated and neighbouring slots.
        let updates = [(3, 9.0), (4, 0.0), (3, 1.5), (999, 2.0), (0, 0.125), (512, 7.0)];
        let mut slots = Vec::new();
        for &(slot, w) in &updates {
            one.set(slot, w);
            many.set_leaf(slot, w);
            slots.push(slot);
        }
        many.update_above(&mut slots);
        assert_eq!(many.total(), one.total());
        assert_eq!(many.min_positive(), one.min_positive());
        assert_eq!(many.max(), one.max());
        for slot in 0..1000 {
            assert_eq!(many.weight(slot), one.weight(slot));
        }
        let mut fresh = (0..1000).map(|s| one.weight(s)).collect::<Vec<_>>();
        fresh.resize(1024, 0.0);
        assert_eq!(WeightTrees::from_weights(&fresh).total(), many.total());
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
