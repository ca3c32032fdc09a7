//! The in-memory view a sampler draws from: which episodes it holds, in
//! which slot, with which generation and priority, over the weight trees.
//!
//! `P(i) = w_i / Σ w` where `w_i = p_i^α` (prioritized) or 1 (uniform);
//! a sample's importance weight is `(w_i / w_min)^-β`, TorchRL's
//! normalised form `(N·P(i))^-β / max_j (N·P(j))^-β`, so weights are at
//! most 1. Episodes of priority 0 are held but never drawn (and do not
//! count as `w_min`) unless sampling is uniform.
//!
//! An episode without a priority of its own (no writer or learner gave
//! one) counts at the current maximum priority, as new items do in
//! TorchRL and Ape-X, so each is drawn soon. Those episodes are kept apart
//! from the trees, in a list: the maximum moves with every update, and
//! moving every such leaf with it would cost O(n). The list is drawn from
//! as one block of weight `k · w_max`, then uniformly within, which is the
//! same distribution.

use std::collections::HashMap;

use super::rng::ReplayRng;
use super::trees::WeightTrees;
use crate::error::{invalid, Result};

/// How an episode's priority becomes its share of the draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Weighting {
    /// Every episode alike, whatever its priority.
    Uniform,
    /// Proportional to priority^alpha (alpha >= 0).
    Prioritized {
        /// The priority exponent α.
        alpha: f64,
    },
}

impl Weighting {
    fn weight(self, priority: f64) -> f64 {
        match self {
            Weighting::Uniform => 1.0,
            Weighting::Prioritized { .. } if priority == 0.0 => 0.0,
            Weighting::Prioritized { alpha } => priority.powf(alpha),
        }
    }
}

/// One drawn episode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// The episode's id.
    pub id: i64,
    /// Its generation when drawn: give it back with a priority update, so
    /// an update for an episode replaced since is recognised as stale.
    pub generation: i64,
    /// Its probability of being drawn, `w_i / Σ w`, over the whole view
    /// as it stood when the batch began.
    pub probability: f64,
    /// Its importance weight `(w_i / w_min)^-β`, in (0, 1].
    pub weight: f64,
}

#[derive(Debug, Clone, Copy)]
struct Held {
    id: i64,
    generation: i64,
    priority: f64,
}

/// Where the table keeps an episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A slot of the trees (it has a priority).
    Slot(usize),
    /// An index into `unscored` (it has none: it counts at the maximum).
    Unscored(usize),
}

/// The episodes a sampler draws from.
#[derive(Debug, Clone)]
pub(crate) struct ReplayTable {
    weighting: Weighting,
    trees: WeightTrees,
    slots: Vec<Option<Held>>,
    place: HashMap<i64, Place>,
    free: Vec<usize>,
    /// (id, generation) of the episodes without a priority.
    unscored: Vec<(i64, i64)>,
    /// Held episodes of positive weight, the ones a draw can return.
    drawable: usize,
}

impl ReplayTable {
    pub(crate) fn new(weighting: Weighting) -> Self {
        Self {
            weighting,
            trees: WeightTrees::new(0),
            slots: Vec::new(),
            place: HashMap::new(),
            free: Vec::new(),
            unscored: Vec::new(),
            drawable: 0,
        }
    }

    /// Episodes held.
    pub(crate) fn len(&self) -> usize {
        self.place.len()
    }

    /// Holds an episode (replacing what the table held under its id);
    /// `priority` None: it has none of its own.
    pub(crate) fn put(&mut self, id: i64, generation: i64, priority: Option<f64>) {
        let Some(priority) = priority else {
            self.remove(id);
            self.place.insert(id, Place::Unscored(self.unscored.len()));
            self.unscored.push((id, generation));
            return;
        };
        let slot = match self.place.get(&id) {
            Some(&Place::Slot(slot)) => slot,
            Some(&Place::Unscored(_)) => {
                self.remove(id);
                self.free_slot(id)
            }
            None => self.free_slot(id),
        };
        self.slots[slot] = Some(Held {
            id,
            generation,
            priority,
        });
        self.set_weight(slot, self.weighting.weight(priority));
    }

    /// Drops an episode; whether it was held.
    pub(crate) fn remove(&mut self, id: i64) -> bool {
        match self.place.remove(&id) {
            None => false,
            Some(Place::Slot(slot)) => {
                self.slots[slot] = None;
                self.set_weight(slot, 0.0);
                self.free.push(slot);
                true
            }
            Some(Place::Unscored(index)) => {
                self.unscored.swap_remove(index);
                if let Some(&(moved, _)) = self.unscored.get(index) {
                    self.place.insert(moved, Place::Unscored(index));
                }
                true
            }
        }
    }

    /// The generation held for an episode, and its own priority (None:
    /// it counts at the maximum).
    pub(crate) fn get(&self, id: i64) -> Option<(i64, Option<f64>)> {
        match *self.place.get(&id)? {
            Place::Slot(slot) => self.slots[slot].map(|h| (h.generation, Some(h.priority))),
            Place::Unscored(index) => Some((self.unscored[index].1, None)),
        }
    }

    /// The weight of an episode without a priority: the largest weight
    /// held (the maximum priority's, as `p^α` rises with `p`), or 1 while
    /// none is positive.
    fn unscored_weight(&self) -> f64 {
        Some(self.trees.max()).filter(|&w| w > 0.0).unwrap_or(1.0)
    }

    /// Draws `count` episodes. Without replacement no episode comes twice
    /// in one batch, and the view must hold that many drawable ones.
    pub(crate) fn sample(
        &mut self,
        rng: &mut ReplayRng,
        count: usize,
        beta: f64,
        with_replacement: bool,
    ) -> Result<Vec<Sample>> {
        let drawable = self.drawable + self.unscored.len();
        if drawable == 0 && count > 0 {
            return Err(invalid("count", "the sampler holds no episode that can be drawn"));
        }
        if !with_replacement && count > drawable {
            return Err(invalid(
                "count",
                format!("{count} without replacement, but only {drawable} episodes can be drawn"),
            ));
        }
        let unscored_w = self.unscored_weight();
        let total = self.trees.total() + self.unscored.len() as f64 * unscored_w;
        let min_weight = match self.trees.min_positive() {
            Some(m) if self.unscored.is_empty() => m,
            Some(m) => m.min(unscored_w),
            None => unscored_w,
        };
        let sample = |id, generation, w: f64| Sample {
            id,
            generation,
            probability: w / total,
            weight: (w / min_weight).powf(-beta),
        };
        if with_replacement {
            return Ok(self.draw_independent(rng, count, unscored_w, &sample));
        }
        let mut drawn = Vec::with_capacity(count);
        let mut taken_slots: Vec<(usize, f64)> = Vec::new();
        // Drawn unscored episodes move past the end of `unscored_left`; the
        // order of the list does not matter.
        let mut unscored_left = self.unscored.len();
        for _ in 0..count {
            let tree_total = self.trees.total();
            let point = rng.uniform() * (tree_total + unscored_left as f64 * unscored_w);
            if point < tree_total || unscored_left == 0 {
                let slot = self.trees.find(point);
                let held = self.slots[slot].expect("a slot of positive weight holds an episode");
                let w = self.trees.weight(slot);
                drawn.push(sample(held.id, held.generation, w));
                taken_slots.push((slot, w));
                self.trees.set(slot, 0.0);
            } else {
                let index = (((point - tree_total) / unscored_w) as usize).min(unscored_left - 1);
                let (id, generation) = self.unscored[index];
                drawn.push(sample(id, generation, unscored_w));
                unscored_left -= 1;
                self.swap_unscored(index, unscored_left);
            }
        }
        for (slot, w) in taken_slots {
            self.trees.set(slot, w);
        }
        Ok(drawn)
    }

    /// Draws with replacement: every point from the same total, so the
    /// tree's descents run together ([`WeightTrees::find_many`]). Each draw
    /// takes one number from `rng`, in order, as one at a time would.
    fn draw_independent(
        &self,
        rng: &mut ReplayRng,
        count: usize,
        unscored_w: f64,
        sample: &dyn Fn(i64, i64, f64) -> Sample,
    ) -> Vec<Sample> {
        let tree_total = self.trees.total();
        let total = tree_total + self.unscored.len() as f64 * unscored_w;
        let points: Vec<f64> = (0..count).map(|_| rng.uniform() * total).collect();
        let (mut in_tree, mut at): (Vec<f64>, Vec<usize>) = (Vec::new(), Vec::new());
        for (k, &p) in points.iter().enumerate() {
            if p < tree_total || self.unscored.is_empty() {
                in_tree.push(p);
                at.push(k);
            }
        }
        let mut slots = Vec::new();
        self.trees.find_many(&mut in_tree, &mut slots);
        let mut drawn: Vec<Option<Sample>> = vec![None; count];
        for (&k, &slot) in at.iter().zip(&slots) {
            let held = self.slots[slot].expect("a slot of positive weight holds an episode");
            drawn[k] = Some(sample(held.id, held.generation, self.trees.weight(slot)));
        }
        for (k, d) in drawn.iter_mut().enumerate().filter(|(_, d)| d.is_none()) {
            let index = (((points[k] - tree_total) / unscored_w) as usize).min(self.unscored.len() - 1);
            let (id, generation) = self.unscored[index];
            *d = Some(sample(id, generation, unscored_w));
        }
        drawn.into_iter().flatten().collect()
    }

    /// Sets the priorities of held episodes, given as (id, generation,
    /// priority), updating the trees once for all of them. Returns the
    /// indexes of the updates whose episode is not held under that
    /// generation (stale), which change nothing.
    pub(crate) fn set_priorities(&mut self, updates: &[(i64, i64, f64)]) -> Vec<usize> {
        let mut stale = Vec::new();
        let mut touched = Vec::with_capacity(updates.len());
        for (i, &(id, generation, priority)) in updates.iter().enumerate() {
            match self.place.get(&id).copied() {
                Some(Place::Slot(slot)) => {
                    let held = self.slots[slot]
                        .as_mut()
                        .expect("a placed slot holds its episode");
                    if held.generation != generation {
                        stale.push(i);
                        continue;
                    }
                    held.priority = priority;
                    self.set_leaf_weight(slot, self.weighting.weight(priority));
                    touched.push(slot);
                }
                Some(Place::Unscored(index)) if self.unscored[index].1 == generation => {
                    // Moving into the trees may grow them: settle the batch first.
                    self.trees.update_above(&mut touched);
                    self.put(id, generation, Some(priority));
                }
                _ => stale.push(i),
            }
        }
        self.trees.update_above(&mut touched);
        stale
    }

    fn swap_unscored(&mut self, a: usize, b: usize) {
        self.unscored.swap(a, b);
        for index in [a, b] {
            let id = self.unscored[index].0;
            self.place.insert(id, Place::Unscored(index));
        }
    }

    /// Sets a slot's weight, keeping the count of drawable episodes.
    fn set_weight(&mut self, slot: usize, weight: f64) {
        self.count_drawable(slot, weight);
        self.trees.set(slot, weight);
    }

    /// [`ReplayTable::set_weight`] without the nodes above the slot (a
    /// batch updates them once, with `update_above`).
    fn set_leaf_weight(&mut self, slot: usize, weight: f64) {
        self.count_drawable(slot, weight);
        self.trees.set_leaf(slot, weight);
    }

    /// Adjusts the count of drawable episodes for a slot about to change.
    fn count_drawable(&mut self, slot: usize, weight: f64) {
        let was_drawable = self.trees.weight(slot) > 0.0;
        self.drawable = self.drawable + usize::from(weight > 0.0) - usize::from(was_drawable);
    }

    fn free_slot(&mut self, id: i64) -> usize {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        if slot >= self.trees.slots() {
            self.grow(slot + 1);
        }
        self.place.insert(id, Place::Slot(slot));
        slot
    }

    /// Doubles the trees, rebuilt from the held priorities in O(n).
    fn grow(&mut self, needed: usize) {
        let mut weights = vec![0.0; needed.next_power_of_two()];
        for (slot, held) in self.slots.iter().enumerate() {
            if let Some(h) = held {
                weights[slot] = self.weighting.weight(h.priority);
            }
        }
        self.trees = WeightTrees::from_weights(&weights);
    }
}
