//! The statistics behind `/analytics/experiment`, as plain functions of counts.

/// The 97.5% quantile of the standard normal distribution.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// 95% Wilson score interval of `successes / trials`, as fractions.
pub fn wilson_interval(successes: u64, trials: u64) -> Option<(f64, f64)> {
    if trials == 0 {
        return None;
    }
    let n = trials as f64;
    let p = (successes as f64 / n).min(1.0);
    let z2 = Z_95 * Z_95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half_width = Z_95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some((
        (centre - half_width).max(0.0),
        (centre + half_width).min(1.0),
    ))
}

/// Result of comparing two proportions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProportionTest {
    /// p_b − p_a, as a fraction.
    pub difference: f64,
    /// 95% interval of the difference (unpooled standard error).
    pub ci_low: f64,
    pub ci_high: f64,
    /// Pooled two-proportion z statistic and its two-sided p-value.
    pub z: f64,
    pub p_value: f64,
}

/// `(successes, trials)` as (share, trials); `None` without trials.
fn proportion((successes, trials): (u64, u64)) -> Option<(f64, f64)> {
    (trials > 0).then(|| ((successes as f64 / trials as f64).min(1.0), trials as f64))
}

/// Two-proportion z-test of `b` against `a`, each `(successes, trials)`.
pub fn two_proportion_test(a: (u64, u64), b: (u64, u64)) -> Option<ProportionTest> {
    let ((pa, na), (pb, nb)) = (proportion(a)?, proportion(b)?);
    let difference = pb - pa;
    let unpooled_se = (pa * (1.0 - pa) / na + pb * (1.0 - pb) / nb).sqrt();
    let pooled = ((a.0 + b.0) as f64 / (na + nb)).min(1.0);
    let pooled_se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    let (z, p_value) = if pooled_se > 0.0 {
        let z = difference / pooled_se;
        (z, 2.0 * normal_upper_tail(z.abs()))
    } else {
        (0.0, 1.0)
    };
    Some(ProportionTest {
        difference,
        ci_low: difference - Z_95 * unpooled_se,
        ci_high: difference + Z_95 * unpooled_se,
        z,
        p_value: p_value.min(1.0),
    })
}

/// GrowthBook's default tuning of the sequential interval: the total sample size at which it
/// is tightest.
pub const SEQUENTIAL_TUNING_N: f64 = 5000.0;

/// An always-valid (sequential) 1 − `alpha` interval of p_b − p_a and its always-valid
/// p-value: the asymptotic confidence sequence of Waudby-Smith et al. (2023, eq. 9, tuned by
/// eq. 161), as GrowthBook computes it. It may be looked at after every new event without
/// inflating the error rate, at the price of being wider than the fixed-sample interval.
pub fn sequential_test(
    a: (u64, u64),
    b: (u64, u64),
    alpha: f64,
    tuning_n: f64,
) -> Option<(f64, f64, f64)> {
    let ((pa, na), (pb, nb)) = (proportion(a)?, proportion(b)?);
    let difference = pb - pa;
    let variance = pa * (1.0 - pa) / na + pb * (1.0 - pb) / nb;
    let n = na + nb;
    let rho2 = (-2.0 * alpha.ln() + (-2.0 * alpha.ln() + 1.0).ln()) / tuning_n;
    let spread = n * rho2 + 1.0;
    let half_width = (variance * n).sqrt()
        * (2.0 * spread * (spread.sqrt() / alpha).ln() / (n * n * rho2)).sqrt();
    let p_value = if variance > 0.0 {
        let st2 = difference * difference * n / variance;
        let e_value = (rho2 * st2 / (2.0 * spread)).exp() / spread.sqrt();
        (1.0 / e_value).min(1.0)
    } else {
        1.0
    };
    Some((difference - half_width, difference + half_width, p_value))
}

/// Pearson's chi-square of observed counts against an even split, and its p-value.
pub fn sample_ratio_test(observed: &[u64]) -> Option<(f64, f64)> {
    let total: u64 = observed.iter().sum();
    if observed.len() < 2 || total == 0 {
        return None;
    }
    let expected = total as f64 / observed.len() as f64;
    let chi_square = observed
        .iter()
        .map(|&count| (count as f64 - expected).powi(2) / expected)
        .sum::<f64>();
    let degrees = (observed.len() - 1) as f64;
    Some((chi_square, chi_square_upper_tail(chi_square, degrees)))
}

/// P(Z > z) for a standard normal Z.
pub fn normal_upper_tail(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// P(X > x) for X chi-square with `k` degrees of freedom: Q(k/2, x/2).
pub fn chi_square_upper_tail(x: f64, k: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    regularized_gamma_q(k / 2.0, x / 2.0)
}

/// The regularized upper incomplete gamma function Q(a, x): a series below `a + 1`, a
/// continued fraction (modified Lentz) above.
fn regularized_gamma_q(a: f64, x: f64) -> f64 {
    const EPSILON: f64 = 1e-15;
    const TINY: f64 = 1e-300;
    let log_prefactor = a * x.ln() - x - libm::lgamma(a);
    if x < a + 1.0 {
        let mut term = 1.0 / a;
        let mut sum = term;
        let mut denominator = a;
        for _ in 0..1000 {
            denominator += 1.0;
            term *= x / denominator;
            sum += term;
            if term.abs() < sum.abs() * EPSILON {
                break;
            }
        }
        (1.0 - sum * log_prefactor.exp()).clamp(0.0, 1.0)
    } else {
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < EPSILON {
                break;
            }
        }
        (log_prefactor.exp() * h).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from GrowthBook's own implementation (PyPI `gbstats` 0.8.0,
    /// `SequentialTwoSidedTTest` on `ProportionStatistic`s, absolute difference, tuning 5000).
    #[test]
    fn sequential_interval_matches_growthbook() {
        let (low, high, p) =
            sequential_test((500, 1000), (550, 1000), 0.05, SEQUENTIAL_TUNING_N).expect("test");
        assert!((low - -0.019_674_980_568_767_528).abs() < 1e-12, "{low}");
        assert!((high - 0.119_674_980_568_767_62).abs() < 1e-12, "{high}");
        assert!((p - 0.302_346_655_786_383_53).abs() < 1e-12, "{p}");
        let (low, high, p) =
            sequential_test((4797, 9989), (5462, 10065), 0.05, SEQUENTIAL_TUNING_N).expect("test");
        assert!((low - 0.040_408_619_228_908_83).abs() < 1e-12, "{low}");
        assert!((high - 0.084_480_134_455_782_72).abs() < 1e-12, "{high}");
        assert!((p - 1.668_955_420_525_930_7e-16).abs() < 1e-20, "{p}");
        // Wider than the fixed-sample interval of the same data: the price of peeking.
        let fixed = two_proportion_test((500, 1000), (550, 1000)).expect("test");
        assert!(fixed.ci_low > -0.019_7 && fixed.ci_high < 0.119_7);
        assert!(sequential_test((0, 0), (1, 2), 0.05, SEQUENTIAL_TUNING_N).is_none());
    }

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not within {tolerance} of {expected}"
        );
    }

    #[test]
    fn wilson_matches_hand_computation() {
        // 55 of 100: centre = (0.55 + 1.92073/100) / 1.0384146 = 0.548152,
        // half = 1.959964 * sqrt(0.002475 + 0.0000960365) / 1.0384146 = 0.095717.
        let (low, high) = wilson_interval(55, 100).unwrap();
        close(low, 0.452_446, 1e-5);
        close(high, 0.643_855, 1e-5);
        // Zero successes still give a non-degenerate upper bound: z²/(n+z²) = 0.277533 for n=10.
        let (low, high) = wilson_interval(0, 10).unwrap();
        close(low, 0.0, 1e-12);
        close(high, 0.277_533, 1e-5);
        assert_eq!(wilson_interval(0, 0), None);
    }

    #[test]
    fn z_test_matches_hand_computation() {
        // 500/1000 vs 550/1000: pooled 0.525, se = sqrt(0.525*0.475*0.002) = 0.0223327,
        // z = 0.05 / 0.0223327 = 2.23886, two-sided p = 0.025164.
        let test = two_proportion_test((500, 1000), (550, 1000)).unwrap();
        close(test.difference, 0.05, 1e-12);
        close(test.z, 2.238_86, 1e-4);
        close(test.p_value, 0.025_164, 1e-5);
        // unpooled se = sqrt(0.25/1000 + 0.2475/1000) = 0.0223047; ±1.959964 × se = 0.0437163.
        close(test.ci_low, 0.05 - 0.043_716_3, 1e-6);
        close(test.ci_high, 0.05 + 0.043_716_3, 1e-6);
        assert_eq!(two_proportion_test((1, 0), (1, 1)), None);
    }

    #[test]
    fn normal_tail_matches_the_table() {
        close(normal_upper_tail(0.0), 0.5, 1e-12);
        close(normal_upper_tail(1.959_964), 0.025, 1e-7);
        close(normal_upper_tail(3.0), 0.001_349_898, 1e-9);
    }

    #[test]
    fn chi_square_matches_the_table() {
        // Critical values: df 1 at p = 0.05 is 3.841459; df 2 at p = 0.01 is 9.210340;
        // df 3 at p = 0.001 is 16.266236.
        close(chi_square_upper_tail(3.841_459, 1.0), 0.05, 1e-6);
        close(chi_square_upper_tail(9.210_340, 2.0), 0.01, 1e-6);
        close(chi_square_upper_tail(16.266_236, 3.0), 0.001, 1e-7);
        close(chi_square_upper_tail(0.5, 1.0), 0.479_500, 1e-6);
    }

    #[test]
    fn sample_ratio_flags_an_uneven_split() {
        // 5000 vs 5200: expected 5100, chi² = 2 × 100² / 5100 = 3.921569, p = 0.047675.
        let (chi, p) = sample_ratio_test(&[5000, 5200]).unwrap();
        close(chi, 3.921_569, 1e-6);
        close(p, 0.047_675, 1e-5);
        assert_eq!(sample_ratio_test(&[10]), None);
    }
}
