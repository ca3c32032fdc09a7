//! Summary statistics with uncertainty: accurate moments in one pass and
//! Student's t confidence intervals. Pure arithmetic, shared by every
//! storage engine (the SQLite one feeds [`Moments`] from an aggregate).

use statrs::distribution::{Continuous, ContinuousCDF, StudentsT};

/// Running moments of a stream of numbers, accurate where the textbook
/// `Σx² − (Σx)²/n` is not (deltas like 1e6 plus small noise).
///
/// Every value is shifted by the first one before it is summed: the shift
/// lies inside the data, so `x − shift` is small and exact for values close
/// together, and the squares no longer cancel. The sums are compensated
/// (Neumaier), so a long stream adds no rounding drift.
#[derive(Debug, Clone, Default)]
pub(crate) struct Moments {
    count: i64,
    shift: f64,
    sum: Compensated,
    sum_squares: Compensated,
}

impl Moments {
    /// Adds one value.
    pub(crate) fn push(&mut self, x: f64) {
        if self.count == 0 {
            self.shift = x;
        }
        self.count += 1;
        let d = x - self.shift;
        self.sum.add(d);
        self.sum_squares.add(d * d);
    }

    /// How many values were added.
    pub(crate) fn count(&self) -> i64 {
        self.count
    }

    /// The mean and the sum of squared deviations from it (NaN when empty).
    pub(crate) fn mean_and_m2(&self) -> (f64, f64) {
        if self.count == 0 {
            return (f64::NAN, f64::NAN);
        }
        let n = self.count as f64;
        let s1 = self.sum.value();
        let m2 = (self.sum_squares.value() - s1 * s1 / n).max(0.0);
        (self.shift + s1 / n, m2)
    }
}

/// Neumaier's compensated sum: the rounding error of every addition is
/// carried in `compensation` and added back at the end.
#[derive(Debug, Clone, Copy, Default)]
struct Compensated {
    sum: f64,
    compensation: f64,
}

impl Compensated {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.compensation += if self.sum.abs() >= x.abs() {
            (self.sum - t) + x
        } else {
            (x - t) + self.sum
        };
        self.sum = t;
    }

    fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// Student's t quantile at 0.975: the half-width of a two-sided 95%
/// interval in standard errors, for `df` ≥ 1 degrees of freedom.
///
/// statrs gives a first value, which Newton steps on its CDF make exact to
/// about 1e-14 for small `df`; beyond 1,000 its CDF loses digits, and the
/// Cornish–Fisher expansion around the normal quantile, whose first
/// omitted term is below 1e-12 there, is used instead.
pub(crate) fn t_quantile_975(df: f64) -> f64 {
    const P: f64 = 0.975;
    if df >= 1000.0 {
        return cornish_fisher(df);
    }
    let Ok(t) = StudentsT::new(0.0, 1.0, df) else {
        return f64::NAN;
    };
    let mut x = t.inverse_cdf(P);
    for _ in 0..3 {
        let step = (t.cdf(x) - P) / t.pdf(x);
        if !step.is_finite() {
            break;
        }
        x -= step;
    }
    x
}

/// The t quantile at 0.975 as a series in 1/df around the normal quantile
/// (Abramowitz & Stegun 26.7.5).
fn cornish_fisher(df: f64) -> f64 {
    const Z: f64 = 1.959_963_984_540_054; // the normal quantile at 0.975
    let z2 = Z * Z;
    let g1 = (z2 + 1.0) * Z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * Z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * Z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * Z / 92160.0;
    Z + g1 / df + g2 / df.powi(2) + g3 / df.powi(3) + g4 / df.powi(4)
}

/// Mean, spread and a 95% confidence interval of the mean, from the count,
/// mean and sum of squared deviations of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Spread {
    pub std_dev: f64,
    pub std_error: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

impl Spread {
    /// With one value there is no spread to estimate: the deviations are
    /// NaN and the interval is unbounded, so a lucky single use never ranks
    /// above a strategy with evidence when ranking by the lower bound.
    pub(crate) fn of(count: i64, mean: f64, m2: f64) -> Spread {
        if count < 2 {
            return Spread {
                std_dev: f64::NAN,
                std_error: f64::NAN,
                ci_low: f64::NEG_INFINITY,
                ci_high: f64::INFINITY,
            };
        }
        let n = count as f64;
        let std_dev = (m2 / (n - 1.0)).sqrt();
        let std_error = std_dev / n.sqrt();
        let half = t_quantile_975(n - 1.0) * std_error;
        Spread {
            std_dev,
            std_error,
            ci_low: mean - half,
            ci_high: mean + half,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_published_tables() {
        // Values from scipy.stats.t.ppf(0.975, df), 17 significant digits.
        let table = [
            (1.0, 12.706204736174694),
            (2.0, 4.302652729749462),
            (5.0, 2.5705818356363146),
            (30.0, 2.0422724563012378),
            (999.0, 1.9623414611334493),
            (1000.0, 1.9623390808264083),
            (1e5, 1.9599877075346095),
            (1e7, 1.959964221767205),
        ];
        for (df, want) in table {
            let got = t_quantile_975(df);
            assert!(((got - want) / want).abs() < 1e-12, "df {df}: {got} vs {want}");
        }
    }

    #[test]
    fn moments_survive_a_large_common_offset() {
        let mut m = Moments::default();
        let noise = [0.25, -0.5, 0.125, 1.0, -0.875];
        for d in noise {
            m.push(1e9 + d);
        }
        let (mean, m2) = m.mean_and_m2();
        let true_mean = noise.iter().sum::<f64>() / 5.0;
        let true_m2: f64 = noise.iter().map(|d| (d - true_mean).powi(2)).sum();
        assert_eq!(mean, 1e9 + true_mean);
        assert!(((m2 - true_m2) / true_m2).abs() < 1e-15, "{m2} vs {true_m2}");
    }
}
