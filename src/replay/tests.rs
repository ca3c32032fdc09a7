//! The draw against the distribution it promises: frequencies by a
//! chi-square test at a fixed seed, weights against a float64 reference
//! computed here independently, bit for bit.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::{ReplayRng, ReplayTable, Weighting};

/// The test's significance: a correct sampler fails it one seed in a
/// thousand; the seed is fixed, so the verdict is too.
const SIGNIFICANCE: f64 = 0.001;

/// Priorities chosen to break a sampler: ties, near-duplicates, a zero,
/// values 12 orders of magnitude apart, and ids that are not slots.
fn awkward_priorities() -> Vec<(i64, f64)> {
    let mut p = vec![
        (7, 1.0),
        (3, 1.0),
        (1_000_000_007, 1.0 + f64::EPSILON),
        (-5, 0.0),
        (11, 1e-6),
        (12, 1e6),
        (13, 0.5),
    ];
    p.extend((100..140).map(|id| (id, (id % 9 + 1) as f64 * 0.37)));
    p
}

fn chi_square_p_value(observed: &[u64], expected: &[f64]) -> f64 {
    let statistic: f64 = observed
        .iter()
        .zip(expected)
        .map(|(&o, &e)| (o as f64 - e).powi(2) / e)
        .sum();
    let dof = (observed.len() - 1) as f64;
    1.0 - ChiSquared::new(dof).unwrap().cdf(statistic)
}

/// Draws `draws` times and tests the frequencies of the episodes whose
/// expected count is at least 5 (the chi-square rule), the rest pooled.
fn frequencies_match(weighting: Weighting, seed: u64, draws: usize) -> f64 {
    let priorities = awkward_priorities();
    let mut table = ReplayTable::new(weighting);
    for &(id, p) in &priorities {
        table.put(id, 1, Some(p));
    }
    let weight = |p: f64| match weighting {
        Weighting::Uniform => 1.0,
        Weighting::Prioritized { .. } if p == 0.0 => 0.0,
        Weighting::Prioritized { alpha } => p.powf(alpha),
    };
    let total: f64 = priorities.iter().map(|&(_, p)| weight(p)).sum();
    let mut rng = ReplayRng::from_seed(seed);
    let mut counts = std::collections::HashMap::new();
    for s in table.sample(&mut rng, draws, 0.4, true).unwrap() {
        *counts.entry(s.id).or_insert(0u64) += 1;
        let expected_p = weight(table.get(s.id).unwrap().1.unwrap()) / total;
        assert!((s.probability - expected_p).abs() <= expected_p * 1e-12);
    }
    let (mut observed, mut expected, mut pooled) = (Vec::new(), Vec::new(), (0u64, 0.0));
    for &(id, p) in &priorities {
        let e = draws as f64 * weight(p) / total;
        let o = counts.get(&id).copied().unwrap_or(0);
        if weight(p) == 0.0 {
            assert_eq!(o, 0, "episode {id} of weight 0 was drawn");
        } else if e >= 5.0 {
            observed.push(o);
            expected.push(e);
        } else {
            pooled = (pooled.0 + o, pooled.1 + e);
        }
    }
    if pooled.1 > 0.0 {
        observed.push(pooled.0);
        expected.push(pooled.1);
    }
    chi_square_p_value(&observed, &expected)
}

#[test]
fn draw_frequencies_match_p_to_the_alpha_over_the_sum() {
    for (i, alpha) in [0.0, 0.4, 0.6, 1.0, 1.5].into_iter().enumerate() {
        let p = frequencies_match(Weighting::Prioritized { alpha }, 1000 + i as u64, 400_000);
        assert!(p > SIGNIFICANCE, "alpha {alpha}: chi-square p = {p}");
    }
    let p = frequencies_match(Weighting::Uniform, 7, 400_000);
    assert!(p > SIGNIFICANCE, "uniform: chi-square p = {p}");
}

#[test]
fn a_skewed_draw_is_caught_by_the_same_test() {
    // The test must be able to fail: the same draws scored against
    // alpha 0.6 while the table uses 0.5 are rejected.
    let mut table = ReplayTable::new(Weighting::Prioritized { alpha: 0.5 });
    let priorities = awkward_priorities();
    for &(id, p) in &priorities {
        table.put(id, 1, Some(p));
    }
    let mut rng = ReplayRng::from_seed(1);
    let draws = 400_000;
    let mut counts = std::collections::HashMap::new();
    for s in table.sample(&mut rng, draws, 0.0, true).unwrap() {
        *counts.entry(s.id).or_insert(0u64) += 1;
    }
    let claimed = |p: f64| if p == 0.0 { 0.0 } else { p.powf(0.6) };
    let total: f64 = priorities.iter().map(|&(_, p)| claimed(p)).sum();
    let (observed, expected): (Vec<u64>, Vec<f64>) = priorities
        .iter()
        .filter(|&&(_, p)| draws as f64 * claimed(p) / total >= 5.0)
        .map(|&(id, p)| {
            (
                counts.get(&id).copied().unwrap_or(0),
                draws as f64 * claimed(p) / total,
            )
        })
        .unzip();
    assert!(chi_square_p_value(&observed, &expected) < SIGNIFICANCE);
}

#[test]
fn weights_equal_a_float64_reference_bit_for_bit() {
    let (alpha, beta) = (0.7, 0.45);
    let priorities = awkward_priorities();
    let mut table = ReplayTable::new(Weighting::Prioritized { alpha });
    for &(id, p) in &priorities {
        table.put(id, 3, Some(p));
    }
    let w_min = priorities
        .iter()
        .filter(|&&(_, p)| p > 0.0)
        .map(|&(_, p)| p.powf(alpha))
        .fold(f64::INFINITY, f64::min);
    let mut rng = ReplayRng::from_seed(99);
    for s in table.sample(&mut rng, 5_000, beta, true).unwrap() {
        let p = table.get(s.id).unwrap().1.unwrap();
        assert_eq!(s.weight, (p.powf(alpha) / w_min).powf(-beta), "episode {}", s.id);
        assert!(s.weight > 0.0 && s.weight <= 1.0);
        assert_eq!(s.generation, 3);
    }
}

#[test]
fn without_replacement_a_batch_never_repeats_and_the_table_is_unchanged() {
    let mut table = ReplayTable::new(Weighting::Prioritized { alpha: 1.0 });
    for &(id, p) in &awkward_priorities() {
        table.put(id, 1, Some(p));
    }
    let drawable = awkward_priorities().iter().filter(|&&(_, p)| p > 0.0).count();
    let mut rng = ReplayRng::from_seed(5);
    let batch = table.sample(&mut rng, drawable, 1.0, false).unwrap();
    let mut ids: Vec<i64> = batch.iter().map(|s| s.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), drawable, "every drawable episode exactly once");
    assert!(table.sample(&mut rng, drawable + 1, 1.0, false).is_err());
    // The drawn weights are back: the next batch sees the whole table.
    assert_eq!(
        table.sample(&mut rng, drawable, 1.0, false).unwrap().len(),
        drawable
    );
}

#[test]
fn a_seed_repeats_its_batches_and_removed_episodes_are_never_drawn() {
    let build = || {
        let mut t = ReplayTable::new(Weighting::Prioritized { alpha: 0.6 });
        for id in 0..1000 {
            t.put(id, id * 2, Some(1.0 + (id % 17) as f64));
        }
        for id in (0..1000).step_by(3) {
            assert!(t.remove(id));
        }
        t
    };
    let (mut a, mut b) = (build(), build());
    let draw = |t: &mut ReplayTable| t.sample(&mut ReplayRng::from_seed(8), 2_000, 0.5, true).unwrap();
    let (first, second) = (draw(&mut a), draw(&mut b));
    assert_eq!(first, second);
    assert!(first.iter().all(|s| s.id % 3 != 0 && s.generation == s.id * 2));
    assert!(!a.remove(0), "already removed");
    assert_eq!(a.len(), 666);
    // Slots are reused: 334 new episodes fit without growing.
    for id in 2000..2334 {
        a.put(id, 0, Some(1.0));
    }
    assert_eq!(a.len(), 1000);
}

#[test]
fn an_empty_or_all_zero_table_refuses_to_draw() {
    let mut table = ReplayTable::new(Weighting::Prioritized { alpha: 1.0 });
    let mut rng = ReplayRng::from_seed(1);
    assert!(table.sample(&mut rng, 1, 0.0, true).is_err());
    table.put(1, 1, Some(0.0));
    assert!(table.sample(&mut rng, 1, 0.0, true).is_err());
    assert!(table.sample(&mut rng, 0, 0.0, true).unwrap().is_empty());
    let mut uniform = ReplayTable::new(Weighting::Uniform);
    uniform.put(1, 1, Some(0.0));
    assert_eq!(uniform.sample(&mut rng, 3, 0.0, true).unwrap().len(), 3);
}

#[test]
fn episodes_without_a_priority_count_at_the_maximum() {
    // Scored episodes 1..=4 with priorities 1..4, unscored 10..=13: each
    // unscored one is drawn as if it had priority 4.
    let alpha = 0.8;
    let mut table = ReplayTable::new(Weighting::Prioritized { alpha });
    for id in 1..=4 {
        table.put(id, 0, Some(id as f64));
    }
    for id in 10..=13 {
        table.put(id, 7, None);
    }
    let w = |p: f64| p.powf(alpha);
    let total = (1..=4).map(|p| w(p as f64)).sum::<f64>() + 4.0 * w(4.0);
    let draws = 200_000;
    let mut counts = std::collections::HashMap::new();
    let batch = table
        .sample(&mut ReplayRng::from_seed(3), draws, 1.0, true)
        .unwrap();
    for s in &batch {
        *counts.entry(s.id).or_insert(0u64) += 1;
        let expected = if s.id >= 10 { w(4.0) } else { w(s.id as f64) };
        assert_eq!(s.probability, expected / total);
        assert_eq!(s.weight, (expected / w(1.0)).powf(-1.0));
        assert_eq!(s.generation, if s.id >= 10 { 7 } else { 0 });
    }
    let ids: Vec<i64> = (1..=4).chain(10..=13).collect();
    let observed: Vec<u64> = ids
        .iter()
        .map(|id| counts.get(id).copied().unwrap_or(0))
        .collect();
    let expected: Vec<f64> = ids
        .iter()
        .map(|&id| draws as f64 * if id >= 10 { w(4.0) } else { w(id as f64) } / total)
        .collect();
    assert!(chi_square_p_value(&observed, &expected) > SIGNIFICANCE);
    // Raising one priority raises every unscored episode's share with it.
    table.put(2, 0, Some(9.0));
    let after = table.sample(&mut ReplayRng::from_seed(4), 1, 0.0, true).unwrap()[0];
    let new_total = [1.0, 9.0, 3.0, 4.0].iter().map(|&p| w(p)).sum::<f64>() + 4.0 * w(9.0);
    let expected = if after.id >= 10 {
        w(9.0)
    } else {
        w([1.0, 9.0, 3.0, 4.0][after.id as usize - 1])
    };
    assert_eq!(after.probability, expected / new_total);
    // Given a priority, an episode leaves the unscored list; removed, it is gone.
    table.put(10, 7, Some(0.0));
    assert_eq!(table.get(10), Some((7, Some(0.0))));
    assert!(table.remove(11));
    assert_eq!(table.get(11), None);
    assert_eq!(table.len(), 7);
    let all = table.sample(&mut ReplayRng::from_seed(5), 6, 0.0, false).unwrap();
    let mut ids: Vec<i64> = all.iter().map(|s| s.id).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        vec![1, 2, 3, 4, 12, 13],
        "priority 0 is never drawn; the rest once each"
    );
}

/// Found by tests/retention_model.rs: a batched priority update on a
/// table of one episode looped forever (its trees have no inner node).
#[test]
fn a_table_of_one_episode_takes_priority_updates() {
    let mut table = ReplayTable::new(Weighting::Prioritized { alpha: 0.6 });
    table.put(7, 1, None);
    let stale = table.set_priorities(&[(7, 1, 3.0), (8, 1, 2.0)]);
    assert_eq!(stale, vec![1]);
    let mut rng = ReplayRng::from_seed(1);
    let batch = table.sample(&mut rng, 4, 0.4, true).unwrap();
    assert!(batch
        .iter()
        .all(|s| s.id == 7 && s.probability == 1.0 && s.weight == 1.0));
}
