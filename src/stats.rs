//! The numbers behind the paper's claims, computed the same way by the trainer's probe and by
//! `alam report`: spread of a series over the second half of training (oscillation, C2) and the
//! ROC curve of λ(s) as a detector of doomed states (calibration, C3).

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
}
