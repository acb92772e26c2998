//! The report's scores, each defined once in [`SCORES`]: how a run's value is read, which way
//! is better, its note, and which algorithms ALaM is tested against on it. The group lines of
//! `summary.json`, the comparisons, the printed table and the score figures all iterate over
//! it, so a new score is one entry.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Run;
use crate::config::Algo;
use crate::metrics::Record;
use crate::stats::{
    bootstrap_ci, bootstrap_diff_ci, detectable_difference, mean, mean_abs_change, permutation_p, second_half, std_dev,
    welch,
};

/// One score of a run.
pub struct Score {
    /// Its key in `summary.json`, the printed table and the figures.
    pub name: &'static str,
    /// What it measures and its unit (`summary.json` → `notes`).
    pub note: &'static str,
    pub higher_is_better: bool,
    /// The run's value; `None` where the run has no record it is read from.
    pub of: fn(&Run) -> Option<f64>,
    /// The algorithms ALaM's group is compared with on this score, in the same env and variant
    /// (docs/method.md §6: C1 against SAC-Lag, PID-Lag and FAC; C2–C4 against FAC).
    pub versus: &'static [Algo],
}

const C1_RIVALS: &[Algo] = &[Algo::Fac, Algo::Lag, Algo::PidLag];

/// Every score of the report, in the order of the claims.
pub const SCORES: [Score; 8] = [
    Score {
        name: "final_return",
        note: "C1: return per episode in the last deterministic evaluation (mean action)",
        higher_is_better: true,
        of: |r| r.last_eval().map(|(ret, _)| ret),
        versus: C1_RIVALS,
    },
    Score {
        name: "final_violations",
        note: "C1: violating steps per episode in the last deterministic evaluation",
        higher_is_better: false,
        of: |r| r.last_eval().map(|(_, violations)| violations),
        versus: C1_RIVALS,
    },
    Score {
        name: "train_violations_last10",
        note: "C1: violating steps per training episode over the last 10% of steps",
        higher_is_better: false,
        of: train_violations_last10,
        versus: C1_RIVALS,
    },
    Score {
        name: "cost_std_second_half",
        note: "C2: std of the episode cost (violating steps) over the second half of training",
        higher_is_better: false,
        of: |r| {
            let costs: Vec<(u64, f64)> = r.episodes().map(|(s, _, c)| (s, c)).collect();
            Some(std_dev(&second_half(&costs, r.cfg.total_steps)))
        },
        versus: &[Algo::Fac],
    },
    Score {
        name: "lambda_std_second_half",
        note: "C2/C4: std of mean λ on the fixed probe grid over the second half of training",
        higher_is_better: false,
        of: |r| Some(std_dev(&second_half(&r.probe_lambda(), r.cfg.total_steps))),
        versus: &[Algo::Fac],
    },
    Score {
        name: "lambda_change_second_half",
        note: "C4: mean |Δ| of mean λ on the probe grid between consecutive probes, second half",
        higher_is_better: false,
        of: |r| Some(mean_abs_change(&second_half(&r.probe_lambda(), r.cfg.total_steps))),
        versus: &[Algo::Fac],
    },
    Score {
        name: "calibration_auc",
        note: "C3: ROC-AUC of the final λ(s) as a detector of doomed states on the 21×21 probe grid \
               (envs with an oracle: double integrator, car-following); 0.5 is chance",
        higher_is_better: true,
        of: |r| match r.last_probe() {
            Some(Record::Probe { calibration_auc, .. }) => *calibration_auc,
            _ => None,
        },
        versus: &[Algo::Fac],
    },
    Score {
        name: "cost_value_auc",
        note: "the same ROC-AUC for the cost critic Q_c(s, π(s)), beside λ(s)'s",
        higher_is_better: true,
        of: |r| match r.last_probe() {
            Some(Record::Probe { cost_value_auc, .. }) => *cost_value_auc,
            _ => None,
        },
        versus: &[],
    },
];

/// Violating steps per training episode over the last 10% of steps (0 without such episodes).
fn train_violations_last10(run: &Run) -> Option<f64> {
    let total = run.cfg.total_steps;
    let late: Vec<f64> = run
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Episode { step, violations, .. } if 10 * step > 9 * total => Some(*violations as f64),
            _ => None,
        })
        .collect();
    Some(if late.is_empty() { 0.0 } else { mean(&late) })
}

/// Every score of one run, in [`SCORES`] order; a value that is not finite counts as missing.
pub fn score(run: &Run) -> Vec<Option<f64>> {
    SCORES.iter().map(|s| (s.of)(run).filter(|v| v.is_finite())).collect()
}

/// One score of a group over its seeds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Spread {
    pub mean: f64,
    /// Population standard deviation over the seeds.
    pub std: f64,
    /// 95% percentile-bootstrap interval of the mean over the seeds ([`crate::stats::RESAMPLES`]
    /// resamples, a fixed seed).
    pub ci95: [f64; 2],
    /// Per scored run, in the order of the group's `scored_runs`; null where the run has no value.
    pub values: Vec<Option<f64>>,
}

impl Spread {
    /// `None` when no run has a value.
    pub fn of(values: Vec<Option<f64>>) -> Option<Spread> {
        let v: Vec<f64> = values.iter().flatten().copied().collect();
        Some(Spread { mean: mean(&v), std: std_dev(&v), ci95: bootstrap_ci(&v)?, values })
    }

    /// The values present.
    pub fn present(&self) -> Vec<f64> {
        self.values.iter().flatten().copied().collect()
    }
}

/// Each score of a group's runs: name → spread (null where no run has a value).
pub fn spreads(runs: &[&Run]) -> BTreeMap<&'static str, Option<Spread>> {
    let scores: Vec<Vec<Option<f64>>> = runs.iter().map(|r| score(r)).collect();
    SCORES.iter().enumerate().map(|(k, s)| (s.name, Spread::of(scores.iter().map(|v| v[k]).collect()))).collect()
}

/// One pairwise claim the report judges: group `a` (ALaM) against group `b` on one score.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub score: &'static str,
    pub a: String,
    pub b: String,
    pub n_a: usize,
    pub n_b: usize,
    pub mean_a: f64,
    pub mean_b: f64,
    /// mean_a − mean_b.
    pub diff: f64,
    /// 95% percentile-bootstrap interval of `diff`, each group resampled on its own.
    pub ci_diff: Option<[f64; 2]>,
    /// Welch's t and its degrees of freedom; null with fewer than two values in a group.
    pub t: Option<f64>,
    pub df: Option<f64>,
    /// Two-sided p-values of mean_a = mean_b: Welch's t test, and a permutation test (exact,
    /// or Monte Carlo over [`crate::stats::RESAMPLES`] shuffles for large groups).
    pub p_welch: Option<f64>,
    pub p_permutation: Option<f64>,
    /// Whether `diff` points the better way for `a` (its score's `higher_is_better`).
    pub a_better: bool,
}

/// What the comparisons need of a group: its name, env, algorithm, variant and spreads.
pub struct GroupKey<'a> {
    pub group: &'a str,
    pub env: crate::env::EnvKind,
    pub algo: Algo,
    pub variant: &'a str,
    pub scores: &'a BTreeMap<&'static str, Option<Spread>>,
}

/// Every comparison of [`SCORES`]' `versus` lists that the groups allow, in one env:
/// - each ALaM group against each rival's group of the same variant (a variant name from `sweep
///   --variant` pairs `alam-stress` with `fac-stress`);
/// - the preset ALaM group (no variant) also against the rivals' variants (`fac-every1`: FAC
///   every update beside FAC as its authors run it) and, on every score that has rivals, against
///   ALaM's own variants (the ablation `alam-reanchored`, `alam-rho10`, `alam-m1`, …), so each
///   claim about the method and each ablation gets its test;
/// - every other algorithm's preset group against its own variants, on the same scores (`fac`
///   against `fac-every1`: what the authors' delay does to FAC).
pub fn comparisons(groups: &[GroupKey]) -> Vec<Comparison> {
    let mut out = Vec::new();
    for a in groups {
        for score in &SCORES {
            let rival = |b: &GroupKey| {
                let preset_vs_variant = a.variant.is_empty() && !b.variant.is_empty();
                let own_variant = preset_vs_variant && b.algo == a.algo && !score.versus.is_empty();
                let is_alam = a.algo == Algo::Alam;
                let same_variant = is_alam && score.versus.contains(&b.algo) && b.variant == a.variant;
                let rivals_variant = is_alam && preset_vs_variant && score.versus.contains(&b.algo);
                b.env == a.env && (own_variant || same_variant || rivals_variant)
            };
            for b in groups.iter().filter(|b| rival(b)) {
                let values = |g: &GroupKey| g.scores.get(score.name).cloned().flatten().map(|s| s.present());
                let (Some(va), Some(vb)) = (values(a), values(b)) else { continue };
                let w = welch(&va, &vb);
                let diff = mean(&va) - mean(&vb);
                out.push(Comparison {
                    score: score.name,
                    a: a.group.to_string(),
                    b: b.group.to_string(),
                    n_a: va.len(),
                    n_b: vb.len(),
                    mean_a: mean(&va),
                    mean_b: mean(&vb),
                    diff,
                    ci_diff: bootstrap_diff_ci(&va, &vb),
                    t: w.map(|w| w.t),
                    df: w.map(|w| w.df),
                    p_welch: w.map(|w| w.p),
                    p_permutation: permutation_p(&va, &vb),
                    a_better: if score.higher_is_better { diff > 0.0 } else { diff < 0.0 },
                });
            }
        }
    }
    out
}

/// A number in about four significant digits.
fn num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let x = x + 0.0; // −0 reads as 0
    let digits = if x == 0.0 { 0 } else { (3 - x.abs().log10().floor() as i32).clamp(0, 6) };
    format!("{x:.*}", digits as usize)
}

/// A p-value for the table: three decimals, or `< 0.001`.
fn p_text(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "< 0.001".into(),
        Some(p) => format!("{p:.3}"),
        None => "n/a".into(),
    }
}

/// One group's block of the printed table.
pub struct GroupRows<'a> {
    pub group: &'a str,
    /// Scored runs.
    pub n: usize,
    pub runs_found: usize,
    pub scores: &'a BTreeMap<&'static str, Option<Spread>>,
}

/// The table `alam report` prints: per group its n and, per score, the mean, the 95% interval
/// and the per-seed values; then the comparisons; then a warning when a group has fewer than 8
/// seeds, with the difference such a group can tell from noise.
pub fn table(groups: &[GroupRows], comparisons: &[Comparison]) -> String {
    let mut t = String::from("per group: each score (↑ higher is better, ↓ lower), its mean over seeds, 95% bootstrap interval and per-seed values\n");
    let width = SCORES.iter().map(|s| s.name.len()).max().unwrap_or(0) + 2;
    for g in groups {
        let missing = g.runs_found - g.n;
        let note =
            if missing > 0 { format!(" ({missing} of {} runs not scored)", g.runs_found) } else { String::new() };
        t += &format!("{}  n = {}{note}\n", g.group, g.n);
        for s in &SCORES {
            let Some(Some(sp)) = g.scores.get(s.name) else { continue };
            let per_seed: Vec<String> = sp.values.iter().map(|v| v.map_or("-".into(), num)).collect();
            t += &format!(
                "  {:<width$}{} {:>10}  [{}, {}]  seeds: {}\n",
                s.name,
                if s.higher_is_better { "↑" } else { "↓" },
                num(sp.mean),
                num(sp.ci95[0]),
                num(sp.ci95[1]),
                per_seed.join(" ")
            );
        }
    }
    if !comparisons.is_empty() {
        t += "\ncomparisons (a − b, 95% bootstrap interval; two-sided p: Welch's t, permutation)\n";
    }
    for c in comparisons {
        t += &format!(
            "  {} vs {}, {}: {} vs {}, diff {} [{}] ({}), p = {} (Welch), {} (permutation), n = {} vs {}\n",
            c.a,
            c.b,
            c.score,
            num(c.mean_a),
            num(c.mean_b),
            num(c.diff),
            c.ci_diff.map_or("n/a".into(), |[lo, hi]| format!("{}, {}", num(lo), num(hi))),
            if c.diff == 0.0 {
                "level"
            } else if c.a_better {
                "a better"
            } else {
                "b better"
            },
            p_text(c.p_welch),
            p_text(c.p_permutation),
            c.n_a,
            c.n_b
        );
    }
    if let Some(warning) = groups.iter().map(|g| g.n).filter(|&n| n > 0).min().and_then(small_sample_warning) {
        t += &format!("\n{warning}\n");
    }
    t
}

/// The warning for a smallest group of `n` seeds, or `None` from n = 8 on.
pub fn small_sample_warning(n: usize) -> Option<String> {
    if n >= 8 {
        return None;
    }
    let Some((just, power)) = detectable_difference(n) else {
        return Some(format!("warning: n = {n} in a group: no interval or test can tell its scores from noise"));
    };
    let at = |n| detectable_difference(n).map_or(f64::NAN, |d| d.1);
    Some(format!(
        "warning: n = {n} per group: a difference smaller than ~{just:.1} pooled SDs cannot be told from noise at 5% \
         (80% power needs ~{power:.1} SDs at n = {n}, ~{:.1} at n = 8, ~{:.1} at n = 16)",
        at(8),
        at(16)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_samples_are_warned_about() {
        let w = small_sample_warning(3).unwrap();
        assert!(w.contains("n = 3 per group") && w.contains("~2.3 pooled SDs") && w.contains("~1.5 at n = 8"), "{w}");
        assert!(w.contains("~1.0 at n = 16"), "{w}");
        assert!(small_sample_warning(1).unwrap().contains("n = 1"));
        assert_eq!(small_sample_warning(8), None);
    }

    #[test]
    fn every_score_has_a_unique_name_and_a_note() {
        let mut names: Vec<&str> = SCORES.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SCORES.len());
        assert!(SCORES.iter().all(|s| !s.note.is_empty() && !s.versus.contains(&Algo::Alam)));
    }

    #[test]
    fn numbers_keep_four_digits() {
        assert_eq!(num(107.734), "107.7");
        assert_eq!(num(0.012345), "0.01235");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(-2.5), "-2.500");
        assert_eq!(num(12345.6), "12346");
    }

    #[test]
    fn alam_is_compared_with_its_rivals_and_the_preset_with_every_variant() {
        use crate::env::EnvKind::{CarFollowing, DoubleIntegrator};
        // Every score of every group: its seeds' values 1, 2, 3 (FAC's shifted by 10).
        let spreads = |shift: f64| -> BTreeMap<&'static str, Option<Spread>> {
            SCORES
                .iter()
                .map(|s| (s.name, Spread::of(vec![Some(1.0 + shift), Some(2.0 + shift), Some(3.0 + shift)])))
                .collect()
        };
        let (plain, fac) = (spreads(0.0), spreads(10.0));
        let key = |group, env, algo, variant, scores| GroupKey { group, env, algo, variant, scores };
        let groups = [
            key("di-alam", DoubleIntegrator, Algo::Alam, "", &plain),
            key("di-fac", DoubleIntegrator, Algo::Fac, "", &fac),
            key("di-sac", DoubleIntegrator, Algo::Sac, "", &plain),
            key("di-alam-stress", DoubleIntegrator, Algo::Alam, "stress", &plain),
            key("di-fac-stress", DoubleIntegrator, Algo::Fac, "stress", &fac),
            key("di-alam-rho10", DoubleIntegrator, Algo::Alam, "rho10", &plain),
            key("cf-lag", CarFollowing, Algo::Lag, "", &plain),
        ];
        let found = comparisons(&groups);
        let pairs: Vec<(&str, &str)> = found.iter().map(|c| (c.a.as_str(), c.b.as_str())).collect();
        // Against FAC (no Lag or PID-Lag on the double integrator; car-following's Lag is
        // another env; SAC is no rival), once per score with FAC in `versus`: the same variant,
        // and the preset also against FAC's variant. The preset against its own variants on
        // every score that has a rival; a variant against nothing but its own variant's rival.
        let per_pair = SCORES.iter().filter(|s| s.versus.contains(&Algo::Fac)).count();
        let with_rivals = SCORES.iter().filter(|s| !s.versus.is_empty()).count();
        let count = |a, b| pairs.iter().filter(|p| **p == (a, b)).count();
        assert_eq!(count("di-alam", "di-fac"), per_pair);
        assert_eq!(count("di-alam-stress", "di-fac-stress"), per_pair);
        assert_eq!(count("di-alam", "di-fac-stress"), per_pair);
        assert_eq!(count("di-alam", "di-alam-stress"), with_rivals);
        assert_eq!(count("di-alam", "di-alam-rho10"), with_rivals);
        assert_eq!(count("di-alam-stress", "di-fac"), 0);
        assert_eq!(count("di-alam-rho10", "di-alam"), 0);
        // FAC's preset against its own variant, on the same scores as ALaM's; nothing else of
        // FAC's, and SAC has no variant here.
        assert_eq!(count("di-fac", "di-fac-stress"), with_rivals);
        assert_eq!(count("di-fac", "di-alam"), 0);
        assert_eq!(count("di-fac-stress", "di-fac"), 0);
        assert_eq!(found.len(), 3 * per_pair + 3 * with_rivals, "{pairs:?}");
        let c = found.iter().find(|c| c.score == "final_violations" && c.a == "di-alam").unwrap();
        // 1, 2, 3 against 11, 12, 13: diff −10, the most extreme of 20 splits (with its mirror).
        assert_eq!((c.mean_a, c.mean_b, c.diff, c.n_a, c.n_b), (2.0, 12.0, -10.0, 3, 3));
        assert!(c.a_better, "fewer violations is better");
        assert!((c.p_permutation.unwrap() - 0.1).abs() < 1e-15);
        assert_eq!(c.df, Some(4.0), "equal variances and sizes: df = 2n − 2");
        let final_return = found.iter().find(|c| c.score == "final_return" && c.a == "di-alam").unwrap();
        assert!(!final_return.a_better, "a lower return is worse");
    }
}
