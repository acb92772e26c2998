//! The numbers behind the paper's claims, computed the same way by the trainer's probe and by
//! `alam report`: spread of a series over the second half of training (oscillation, C2), the
//! ROC curve of λ(s) as a detector of doomed states (calibration, C3), and the statistics that
//! compare groups of seeds (docs/method.md §10): percentile-bootstrap intervals, Welch's t test
//! and a permutation test.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::Rng64;

/// The largest |value|, used to scale sums so that finite inputs never overflow to ±∞.
fn scale(values: &[f64]) -> f64 {
    let s = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if s > 0.0 && s.is_finite() {
        s
    } else {
        1.0
    }
}

/// Arithmetic mean (NaN for no values). Finite values give a finite mean, however large
/// (summed scaled by the largest magnitude: 1e308 + 1e308 does not overflow).
pub fn mean(values: &[f64]) -> f64 {
    let s = scale(values);
    s * (values.iter().map(|v| v / s).sum::<f64>() / values.len() as f64)
}

/// Population standard deviation (0 for fewer than two values); finite for finite values
/// (the squares are taken of scaled values: (1e200)² would overflow).
pub fn std_dev(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let s = scale(values);
    let m = mean(values) / s;
    s * (values.iter().map(|v| (v / s - m).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
}

/// Mean absolute change between consecutive values: how much a curve moves per sample,
/// which, unlike the standard deviation, does not count a slow steady trend as oscillation.
pub fn mean_abs_change(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    values.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (values.len() - 1) as f64
}

/// The values at steps in the second half of training (step > total_steps / 2): the
/// oscillation scores look only there, after the initial transient.
pub fn second_half(points: &[(u64, f64)], total_steps: u64) -> Vec<f64> {
    points.iter().filter(|(step, _)| 2 * step > total_steps).map(|&(_, v)| v).collect()
}

/// ROC-AUC of `scores` as a detector of `labels` (true = positive): the probability that a
/// random positive scores above a random negative, ties counting one half (Mann–Whitney U).
/// `None` when either class is empty, where the AUC is undefined.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), labels.len(), "one label per score");
    let pos = labels.iter().filter(|&&l| l).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    // Average ranks (1-based) over tied scores, then U = Σ ranks of positives − pos(pos+1)/2.
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_pos += order[i..=j].iter().filter(|&&k| labels[k]).count() as f64 * avg_rank;
        i = j + 1;
    }
    let u = rank_sum_pos - (pos * (pos + 1)) as f64 / 2.0;
    Some(u / (pos * neg) as f64)
}

/// The ROC curve as (false-positive rate, true-positive rate) points, from (0, 0) to (1, 1),
/// one point per distinct threshold (tied scores move both rates at once).
pub fn roc_curve(scores: &[f64], labels: &[bool]) -> Vec<(f64, f64)> {
    let pos = labels.iter().filter(|&&l| l).count().max(1) as f64;
    let neg = labels.iter().filter(|&&l| !l).count().max(1) as f64;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut curve = vec![(0.0, 0.0)];
    let mut i = 0;
    while i < order.len() {
        let threshold = scores[order[i]];
        while i < order.len() && scores[order[i]] == threshold {
            if labels[order[i]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        curve.push((fp / neg, tp / pos));
    }
    curve
}

/// Resamples of every bootstrap interval and Monte-Carlo permutation test of the report: the
/// interval's ends move by well under 1% of its width from one RNG seed to another.
pub const RESAMPLES: usize = 10_000;

/// The seed of every resampling RNG: a report of the same runs is the same, to the last digit.
const RESAMPLING_SEED: u64 = 0x5EED_0A1A;

/// Sample variance, n − 1 in the denominator (NaN for fewer than two values): the unbiased
/// estimate of a population's variance that Welch's test needs.
pub fn sample_variance(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return f64::NAN;
    }
    let n = values.len() as f64;
    std_dev(values).powi(2) * n / (n - 1.0)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: relative error below 1e-13).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let sum = C[0] + C[1..].iter().enumerate().map(|(i, c)| c / (x + i as f64 + 1.0)).sum::<f64>();
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1]: its continued
/// fraction (modified Lentz), on the side of x where it converges fast.
pub fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// The continued fraction of I_x(a, b) (Numerical Recipes §6.4).
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let nonzero = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / nonzero(1.0 - (a + b) * x / (a + 1.0));
    let mut h = d;
    for m in 1..=500 {
        let (m, m2) = (m as f64, 2.0 * m as f64);
        let even = m * (b - m) * x / ((a - 1.0 + m2) * (a + m2));
        d = 1.0 / nonzero(1.0 + even * d);
        c = nonzero(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2));
        d = 1.0 / nonzero(1.0 + odd * d);
        c = nonzero(1.0 + odd / c);
        h *= d * c;
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// Two-sided p-value of Student's t distribution with `df` degrees of freedom (df > 0):
/// P(|T| ≥ |t|) = I_{df/(df+t²)}(df/2, 1/2).
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_infinite() {
        return 0.0;
    }
    incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
}

/// The t value whose two-sided p-value is `p` (0 < p ≤ 1), by bisection: t_{1−p/2, df}.
pub fn t_critical(p: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 1e7);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_two_sided_p(mid, df) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Welch's unequal-variances t test of mean(a) = mean(b).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    /// (mean(a) − mean(b)) / √(s²_a/n_a + s²_b/n_b); ±∞ when both samples are constant and differ.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom (n_a + n_b − 2 when both samples are constant).
    pub df: f64,
    /// Two-sided p-value from the t distribution with `df` degrees of freedom.
    pub p: f64,
}

/// Welch's t test; `None` unless both samples have at least two values.
pub fn welch(a: &[f64], b: &[f64]) -> Option<Welch> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (va, vb) = (sample_variance(a) / na, sample_variance(b) / nb);
    let diff = mean(a) - mean(b);
    if va + vb == 0.0 {
        let t = if diff == 0.0 { 0.0 } else { diff.signum() * f64::INFINITY };
        return Some(Welch { t, df: na + nb - 2.0, p: if diff == 0.0 { 1.0 } else { 0.0 } });
    }
    let t = diff / (va + vb).sqrt();
    let df = (va + vb).powi(2) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    Some(Welch { t, df, p: t_two_sided_p(t, df) })
}

/// Two-sided permutation test of mean(a) = mean(b) on |mean(a) − mean(b)|: exact over every
/// split of the pooled values when there are at most 100 000 splits, otherwise Monte Carlo
/// over [`RESAMPLES`] shuffles with a fixed seed, p = (1 + hits) / (1 + shuffles). `None`
/// when either sample is empty.
pub fn permutation_p(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let pooled: Vec<f64> = a.iter().chain(b).copied().collect();
    let (n, k) = (pooled.len(), a.len());
    let total: f64 = pooled.iter().sum();
    let gap = |sum_a: f64| (sum_a / k as f64 - (total - sum_a) / (n - k) as f64).abs();
    let observed = gap(a.iter().sum());
    // Splits as extreme as the observed one, to rounding: the observed split counts itself.
    let tolerance = 1e-9 * observed.abs().max(scale(&pooled));
    let extreme = |sum_a: f64| gap(sum_a) >= observed - tolerance;
    if binomial(n, k) <= 100_000.0 {
        let (mut hits, mut splits) = (0u64, 0u64);
        let mut chosen: Vec<usize> = (0..k).collect();
        loop {
            splits += 1;
            hits += extreme(chosen.iter().map(|&i| pooled[i]).sum()) as u64;
            // The next k-subset of 0..n in lexicographic order.
            let Some(i) = (0..k).rev().find(|&i| chosen[i] < n - k + i) else { break };
            chosen[i] += 1;
            for j in i + 1..k {
                chosen[j] = chosen[j - 1] + 1;
            }
        }
        return Some(hits as f64 / splits as f64);
    }
    let mut rng = Rng64::seed_from_u64(RESAMPLING_SEED);
    let mut shuffled = pooled.clone();
    let hits = (0..RESAMPLES)
        .filter(|_| {
            shuffled.shuffle(&mut rng);
            extreme(shuffled[..k].iter().sum())
        })
        .count();
    Some((1 + hits) as f64 / (1 + RESAMPLES) as f64)
}

/// n choose k, as a float (only compared with a bound).
fn binomial(n: usize, k: usize) -> f64 {
    (0..k).map(|i| (n - i) as f64 / (i + 1) as f64).product()
}

/// 95% percentile-bootstrap interval of the mean: the 2.5% and 97.5% quantiles of the means of
/// [`RESAMPLES`] resamples (with replacement, same size), drawn with a fixed seed. `None` for
/// no values; a point for a constant sample.
pub fn bootstrap_ci(values: &[f64]) -> Option<[f64; 2]> {
    bootstrap(|rng| mean(&resample(values, rng)), !values.is_empty())
}

/// 95% percentile-bootstrap interval of mean(a) − mean(b), each sample resampled on its own.
pub fn bootstrap_diff_ci(a: &[f64], b: &[f64]) -> Option<[f64; 2]> {
    bootstrap(|rng| mean(&resample(a, rng)) - mean(&resample(b, rng)), !a.is_empty() && !b.is_empty())
}

fn resample(values: &[f64], rng: &mut Rng64) -> Vec<f64> {
    (0..values.len()).map(|_| values[rng.random_range(0..values.len())]).collect()
}

fn bootstrap(mut statistic: impl FnMut(&mut Rng64) -> f64, defined: bool) -> Option<[f64; 2]> {
    if !defined {
        return None;
    }
    let mut rng = Rng64::seed_from_u64(RESAMPLING_SEED);
    let mut draws: Vec<f64> = (0..RESAMPLES).map(|_| statistic(&mut rng)).collect();
    draws.sort_by(f64::total_cmp);
    Some([quantile(&draws, 0.025), quantile(&draws, 0.975)])
}

/// The q-quantile of sorted values, linear between order statistics.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = q * (sorted.len() - 1) as f64;
    let (i, frac) = (at.floor() as usize, at.fract());
    let next = sorted[(i + 1).min(sorted.len() - 1)];
    sorted[i] + frac * (next - sorted[i])
}

/// With n seeds per group, the difference in means (in pooled standard deviations) that a
/// two-sided test at 5% can just tell from noise, t_{0.975, 2n−2}·√(2/n), and the one it
/// finds with 80% power, ≈ (t_{0.975, 2n−2} + t_{0.8, 2n−2})·√(2/n). `None` for n < 2.
pub fn detectable_difference(n: usize) -> Option<(f64, f64)> {
    if n < 2 {
        return None;
    }
    let df = 2.0 * n as f64 - 2.0;
    let scale = (2.0 / n as f64).sqrt();
    let (t05, t80) = (t_critical(0.05, df), t_critical(0.4, df));
    Some((t05 * scale, (t05 + t80) * scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_dev_by_hand() {
        // mean 5; squared deviations 9, 1, 1, 9 → variance 5.
        assert!((std_dev(&[2.0, 4.0, 6.0, 8.0]) - 5f64.sqrt()).abs() < 1e-12);
        assert_eq!(std_dev(&[3.0]), 0.0);
    }

    #[test]
    fn huge_finite_values_give_finite_statistics() {
        assert_eq!(mean(&[1e308, 1e308]), 1e308);
        assert_eq!(std_dev(&[1e200, 1e200]), 0.0);
        let sd = std_dev(&[-1e200, 1e200]);
        assert!((sd - 1e200).abs() <= 1e186, "{sd}");
        assert!(mean(&[]).is_nan());
    }

    #[test]
    fn mean_abs_change_by_hand() {
        // |3−1| + |2−3| + |6−2| = 7 over 3 steps.
        assert!((mean_abs_change(&[1.0, 3.0, 2.0, 6.0]) - 7.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn second_half_keeps_late_points() {
        let pts = [(100, 1.0), (500, 2.0), (501, 3.0), (1000, 4.0)];
        assert_eq!(second_half(&pts, 1000), vec![3.0, 4.0]);
    }

    #[test]
    fn auc_by_hand() {
        // Positives score 0.9 and 0.4, negatives 0.5 and 0.1: of the 4 pairs, (0.9 > 0.5),
        // (0.9 > 0.1), (0.4 > 0.1) are ordered right, (0.4 < 0.5) wrong → 3/4.
        let auc = roc_auc(&[0.9, 0.4, 0.5, 0.1], &[true, true, false, false]).unwrap();
        assert!((auc - 0.75).abs() < 1e-12);
        // A perfect and a reversed detector.
        assert_eq!(roc_auc(&[2.0, 1.0], &[true, false]), Some(1.0));
        assert_eq!(roc_auc(&[1.0, 2.0], &[true, false]), Some(0.0));
        // A constant score (SAC's λ ≡ 0) is chance: every pair a tie.
        assert_eq!(roc_auc(&[0.0; 4], &[true, false, true, false]), Some(0.5));
        // One tie among 2×2 pairs: positives 1.0, 0.5; negatives 0.5, 0.0 → (1 + 1 + 0.5 + 1)/4.
        assert_eq!(roc_auc(&[1.0, 0.5, 0.5, 0.0], &[true, true, false, false]), Some(0.875));
        assert_eq!(roc_auc(&[1.0, 2.0], &[true, true]), None);
    }

    #[test]
    fn roc_curve_by_hand_and_its_area_is_the_auc() {
        let (s, l) = ([0.9, 0.4, 0.5, 0.1], [true, true, false, false]);
        let curve = roc_curve(&s, &l);
        assert_eq!(curve, vec![(0.0, 0.0), (0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]);
        let area: f64 = curve.windows(2).map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0).sum();
        assert!((area - roc_auc(&s, &l).unwrap()).abs() < 1e-12);
    }

    #[test]
    fn welch_t_and_df_by_hand() {
        // a: mean 3, s² = (4+1+0+1+4)/4 = 2.5; b: mean 4, s² = (4+0+4)/2 = 4.
        // s²/n: 2.5/5 = 0.5 and 4/3; t = (3 − 4)/√(0.5 + 4/3);
        // df = (0.5 + 4/3)² / (0.5²/4 + (4/3)²/2) = 3.3611… / 0.95139 = 3.5328…
        let w = welch(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 4.0, 6.0]).unwrap();
        let (va, vb): (f64, f64) = (0.5, 4.0 / 3.0);
        assert!((w.t - (-1.0 / (va + vb).sqrt())).abs() < 1e-12, "{w:?}");
        assert!((w.t + 0.738_548_945_875_996).abs() < 1e-9, "{w:?}");
        let df = (va + vb).powi(2) / (va * va / 4.0 + vb * vb / 2.0);
        assert!((w.df - df).abs() < 1e-12 && (w.df - 3.532_846_715).abs() < 1e-6, "{w:?}");
        assert!((w.p - t_two_sided_p(w.t, w.df)).abs() < 1e-15);
        // Constant samples: equal means cannot be told apart, different ones can.
        assert_eq!(welch(&[2.0, 2.0], &[2.0, 2.0, 2.0]).unwrap().p, 1.0);
        assert_eq!(welch(&[1.0, 1.0], &[2.0, 2.0]).unwrap().p, 0.0);
        assert!(welch(&[1.0], &[2.0, 3.0]).is_none());
    }

    #[test]
    fn t_p_values_match_the_t_table() {
        // Two-sided 5% and 1% critical values from a printed t table (3 decimals).
        for (t, df, p) in [
            (12.706, 1.0, 0.05),
            (4.303, 2.0, 0.05),
            (2.776, 4.0, 0.05),
            (2.228, 10.0, 0.05),
            (2.042, 30.0, 0.05),
            (1.960, 1e6, 0.05),
            (3.169, 10.0, 0.01),
            (2.977, 14.0, 0.01),
        ] {
            let got = t_two_sided_p(t, df);
            assert!((got - p).abs() < 2e-4, "t = {t}, df = {df}: p = {got}, table {p}");
            assert!((t_critical(p, df) - t).abs() < 2e-3 * t, "df = {df}: t = {}", t_critical(p, df));
        }
        // Closed forms: df = 1 (Cauchy) p = 1 − (2/π)·atan|t|; df = 2: p = 1 − |t|/√(2 + t²).
        for t in [0.1, 0.7, 1.5, 3.0, 25.0] {
            let cauchy = 1.0 - 2.0 / std::f64::consts::PI * f64::atan(t);
            assert!((t_two_sided_p(t, 1.0) - cauchy).abs() < 1e-12, "t = {t}");
            assert!((t_two_sided_p(-t, 2.0) - (1.0 - t / (2.0 + t * t).sqrt())).abs() < 1e-12, "t = {t}");
        }
        assert_eq!(t_two_sided_p(0.0, 5.0), 1.0);
    }

    #[test]
    fn incomplete_beta_by_closed_forms() {
        // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(2, 2) = 3x² − 2x³.
        for x in [0.05, 0.3, 0.5, 0.9] {
            assert!((incomplete_beta(1.0, 1.0, x) - x).abs() < 1e-13);
            assert!((incomplete_beta(3.5, 1.0, x) - x.powf(3.5)).abs() < 1e-13);
            assert!((incomplete_beta(2.0, 2.0, x) - (3.0 * x * x - 2.0 * x.powi(3))).abs() < 1e-13);
        }
        // ln Γ: Γ(5) = 24, Γ(1/2) = √π.
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    }

    #[test]
    fn permutation_p_of_separated_samples() {
        // 5 vs 5, every a below every b: of the C(10, 5) = 252 splits only the observed one and
        // its mirror are as extreme, p = 2/252.
        let (a, b) = ([1.0, 2.0, 3.0, 4.0, 5.0], [11.0, 12.0, 13.0, 14.0, 15.0]);
        assert!((permutation_p(&a, &b).unwrap() - 2.0 / 252.0).abs() < 1e-15);
        // 3 vs 3: 2 of 20 — n = 3 per group can never reach p < 0.05.
        assert!((permutation_p(&[0.0, 0.1, 0.2], &[5.0, 6.0, 7.0]).unwrap() - 0.1).abs() < 1e-15);
        // Identical samples: every split is as extreme.
        assert_eq!(permutation_p(&[1.0, 1.0], &[1.0, 1.0]), Some(1.0));
        // 20 vs 20 (C(40, 20) splits): Monte Carlo, (1 + 0) / (1 + 10 000) for separated samples.
        let a: Vec<f64> = (0..20).map(f64::from).collect();
        let b: Vec<f64> = (100..120).map(f64::from).collect();
        assert_eq!(permutation_p(&a, &b), Some(1.0 / (1 + RESAMPLES) as f64));
        assert_eq!(permutation_p(&[], &b), None);
    }

    #[test]
    fn bootstrap_intervals() {
        assert_eq!(bootstrap_ci(&[4.0; 6]), Some([4.0, 4.0]), "a constant sample's interval is a point");
        assert_eq!(bootstrap_ci(&[]), None);
        // 1..=10: mean 5.5, population sd 2.87, so the bootstrap mean's sd is 2.87/√10 = 0.908
        // and the interval about 5.5 ± 1.96·0.908 = [3.72, 7.28].
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        let [lo, hi] = bootstrap_ci(&v).unwrap();
        assert!(lo < 5.5 && 5.5 < hi, "[{lo}, {hi}]");
        assert!((lo - 3.72).abs() < 0.2 && (hi - 7.28).abs() < 0.2, "[{lo}, {hi}]");
        assert_eq!(bootstrap_ci(&v), Some([lo, hi]), "a fixed seed: the same interval every time");
        let [lo, hi] = bootstrap_diff_ci(&v, &[1.0; 3]).unwrap();
        assert!(lo < 4.5 && 4.5 < hi && (lo - 2.72).abs() < 0.2, "[{lo}, {hi}]");
        assert_eq!(bootstrap_diff_ci(&[2.0, 2.0], &[0.5]), Some([1.5, 1.5]));
    }

    #[test]
    fn detectable_differences_match_power_tables() {
        // Two-sample t test at 5%, 80% power: d ≈ 1.50 at n = 8 per group, 1.03 at n = 16
        // (Cohen's tables), ≈ 3 at n = 3; the bare 5% threshold at n = 3 is 2.776·√(2/3) = 2.27.
        let (just, power) = detectable_difference(8).unwrap();
        assert!((power - 1.5).abs() < 0.05, "{power}");
        assert!((just - 2.145 * 0.5).abs() < 0.01, "{just}");
        assert!((detectable_difference(16).unwrap().1 - 1.03).abs() < 0.05);
        let (just, power) = detectable_difference(3).unwrap();
        assert!((just - 2.27).abs() < 0.01 && (power - 3.07).abs() < 0.1, "{just} {power}");
        assert_eq!(detectable_difference(1), None);
    }
}
