//! The samplers' random numbers: xoshiro256++ (already the generator of
//! seeded strategy suggestions), whose output for a seed is fixed by its
//! paper, so a seed draws the same batches in every gmstore version. Its
//! whole state is 32 bytes, which a learner saves with its checkpoint and
//! gives back to continue the same sequence.

use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::error::{invalid, Result};

/// Bytes of a saved generator state.
pub(crate) const RNG_STATE_BYTES: usize = 32;

/// A sampler's generator.
#[derive(Debug, Clone)]
pub(crate) struct ReplayRng(Xoshiro256PlusPlus);

impl ReplayRng {
    /// The generator a seed starts (expanded by SplitMix64, as the
    /// generator's authors recommend).
    pub(crate) fn from_seed(seed: u64) -> Self {
        Self(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// A uniform double in [0, 1), from the top 53 bits.
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// The state: four 64-bit words, little-endian.
    pub(crate) fn state(&self) -> [u8; RNG_STATE_BYTES] {
        // The crate keeps its words private; its serde form is the array.
        let value = serde_json::to_value(&self.0).expect("four integers serialise");
        let mut out = [0u8; RNG_STATE_BYTES];
        let words = value["s"]
            .as_array()
            .expect("xoshiro256++ state is `s: [u64; 4]`");
        for (chunk, word) in out.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&word.as_u64().expect("a u64 word").to_le_bytes());
        }
        out
    }

    /// The generator a saved state continues. All-zero is refused: it is
    /// the one state xoshiro never leaves (it would draw 0 forever).
    pub(crate) fn from_state(state: &[u8]) -> Result<Self> {
        let bytes: [u8; RNG_STATE_BYTES] = state.try_into().map_err(|_| {
            invalid(
                "rng_state",
                format!("must be {RNG_STATE_BYTES} bytes, got {}", state.len()),
            )
        })?;
        if bytes == [0; RNG_STATE_BYTES] {
            return Err(invalid(
                "rng_state",
                "all zero is not a state the generator can be in",
            ));
        }
        Ok(Self(Xoshiro256PlusPlus::from_seed(bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_state_continues_the_same_sequence() {
        let mut a = ReplayRng::from_seed(42);
        for _ in 0..1000 {
            a.uniform();
        }
        let mut b = ReplayRng::from_state(&a.state()).unwrap();
        let next_a: Vec<f64> = (0..100).map(|_| a.uniform()).collect();
        let next_b: Vec<f64> = (0..100).map(|_| b.uniform()).collect();
        assert_eq!(next_a, next_b);
        assert!(next_a.iter().all(|u| (0.0..1.0).contains(u)));
    }

    #[test]
    fn the_first_draws_of_a_seed_are_fixed() {
        // xoshiro256++ seeded by SplitMix64(0): a change of generator or of
        // seeding would change every seeded user's batches.
        let mut rng = ReplayRng::from_seed(0);
        let first = rng.0.next_u64();
        assert_eq!(first, 0x53175d61490b23df);
    }

    #[test]
    fn wrong_sized_or_zero_states_are_refused() {
        assert!(ReplayRng::from_state(&[1; 31]).is_err());
        assert!(ReplayRng::from_state(&[0; 32]).is_err());
        assert!(ReplayRng::from_state(&[7; 32]).is_ok());
    }
}
