//! `alam report`: reads a sweep's runs, scores each against the paper's claims (docs/method.md §6,
//! §8) and writes `summary.json` plus SVG figures. Reading and scoring live here; drawing in
//! [`plots`].

mod plots;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::TrainConfig;
use crate::env::{make_env, EnvKind};
use crate::error::{AlamError, Result};
use crate::metrics::Record;
use crate::run::{read_metrics, CONFIG_FILE, METRICS_FILE};
use crate::stats::{mean, mean_abs_change, second_half, std_dev};
use crate::trainer::PROBE_GRID;

/// One finished run of a sweep.
#[derive(Debug, Clone)]
pub struct Run {
    /// The run's group: its folder name without the seed (`double-integrator-alam-rho10`).
    pub group: String,
    /// The variant part of the name ("" for the plain algorithm).
    pub variant: String,
    pub cfg: TrainConfig,
    pub records: Vec<Record>,
}

impl Run {
    /// Training episodes as (step, return, cost).
    pub fn episodes(&self) -> impl Iterator<Item = (u64, f64, f64)> + '_ {
        self.records.iter().filter_map(|r| match r {
            Record::Episode { step, ret, cost, .. } => Some((*step, *ret, *cost)),
            _ => None,
        })
    }

    /// Mean λ on the fixed probe grid, as (step, value).
    pub fn probe_lambda(&self) -> Vec<(u64, f64)> {
        self.records
            .iter()
            .filter_map(|r| match r {
                Record::Probe { step, lambda_mean, .. } => Some((*step, *lambda_mean)),
                _ => None,
            })
            .collect()
    }

    /// The probe record nearest to `step`.
    pub fn probe_near(&self, step: u64) -> Option<&Record> {
        self.records
            .iter()
            .filter(|r| matches!(r, Record::Probe { .. }))
            .min_by_key(|r| match r {
                Record::Probe { step: s, .. } => s.abs_diff(step),
                _ => u64::MAX,
            })
    }

    pub fn last_probe(&self) -> Option<&Record> {
        self.records.iter().rev().find(|r| matches!(r, Record::Probe { .. }))
    }
}

/// The scores of one run (each becomes a mean ± std over seeds in the summary).
#[derive(Debug, Clone, PartialEq)]
pub struct RunScores {
    /// Last deterministic evaluation: return and violating steps per episode.
    pub final_return: f64,
    pub final_violations: f64,
    /// Violating steps per training episode over the last 10% of training.
    pub train_violations_last10: f64,
    /// C2: standard deviation of the episode cost over the second half of training.
    pub cost_std_second_half: f64,
    /// C2/C4: standard deviation and mean absolute change of mean λ on the probe grid over
    /// the second half of training.
    pub lambda_std_second_half: f64,
    pub lambda_change_second_half: f64,
    /// C3 (double integrator): ROC-AUC of λ(s), and of Q_c(s, π(s)) for comparison, as
    /// detectors of doomed states at the end of training.
    pub calibration_auc: Option<f64>,
    pub cost_value_auc: Option<f64>,
}

/// Scores one run. Episodes and probes are read at their steps, so runs of any length compare.
pub fn score(run: &Run) -> RunScores {
    let total = run.cfg.total_steps;
    let episodes: Vec<(u64, f64, f64)> = run.episodes().collect();
    let last_eval = run.records.iter().rev().find_map(|r| match r {
        Record::Eval { return_mean, violations_mean, .. } => Some((*return_mean, *violations_mean)),
        _ => None,
    });
    let late: Vec<f64> = run
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Episode { step, violations, .. } if 10 * step > 9 * total => Some(*violations as f64),
            _ => None,
        })
        .collect();
    let late_violations = late.iter().sum::<f64>() / late.len().max(1) as f64;
    let costs: Vec<(u64, f64)> = episodes.iter().map(|&(s, _, c)| (s, c)).collect();
    let lambda_late = second_half(&run.probe_lambda(), total);
    let (calibration_auc, cost_value_auc) = match run.last_probe() {
        Some(Record::Probe { calibration_auc, cost_value_auc, .. }) => (*calibration_auc, *cost_value_auc),
        _ => (None, None),
    };
    RunScores {
        final_return: last_eval.map_or(f64::NAN, |e| e.0),
        final_violations: last_eval.map_or(f64::NAN, |e| e.1),
        train_violations_last10: late_violations,
        cost_std_second_half: std_dev(&second_half(&costs, total)),
        lambda_std_second_half: std_dev(&lambda_late),
        lambda_change_second_half: mean_abs_change(&lambda_late),
        calibration_auc,
        cost_value_auc,
    }
}

/// Mean and standard deviation over seeds.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Spread {
    pub mean: f64,
    pub std: f64,
}

impl Spread {
    fn of(values: &[f64]) -> Option<Spread> {
        let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        Some(Spread { mean: mean(&v), std: std_dev(&v) })
    }
}

/// One line of `summary.json`: a group (env × algo × variant) over its seeds.
#[derive(Debug, Clone, Serialize)]
pub struct GroupSummary {
    pub group: String,
    pub env: EnvKind,
    pub algo: String,
    pub variant: String,
    pub seeds: usize,
    pub total_steps: u64,
    pub final_return: Option<Spread>,
    pub final_violations: Option<Spread>,
    pub train_violations_last10: Option<Spread>,
    pub cost_std_second_half: Option<Spread>,
    pub lambda_std_second_half: Option<Spread>,
    pub lambda_change_second_half: Option<Spread>,
    pub calibration_auc: Option<Spread>,
    pub cost_value_auc: Option<Spread>,
}

pub fn summarize_group(runs: &[&Run]) -> GroupSummary {
    let scores: Vec<RunScores> = runs.iter().map(|r| score(r)).collect();
    let pick = |f: fn(&RunScores) -> Option<f64>| Spread::of(&scores.iter().filter_map(f).collect::<Vec<_>>());
    let first = runs[0];
    GroupSummary {
        group: first.group.clone(),
        env: first.cfg.env,
        algo: first.cfg.algo.name().to_string(),
        variant: first.variant.clone(),
        seeds: runs.len(),
        total_steps: first.cfg.total_steps,
        final_return: pick(|s| Some(s.final_return)),
        final_violations: pick(|s| Some(s.final_violations)),
        train_violations_last10: pick(|s| Some(s.train_violations_last10)),
        cost_std_second_half: pick(|s| Some(s.cost_std_second_half)),
        lambda_std_second_half: pick(|s| Some(s.lambda_std_second_half)),
        lambda_change_second_half: pick(|s| Some(s.lambda_change_second_half)),
        calibration_auc: pick(|s| s.calibration_auc),
        cost_value_auc: pick(|s| s.cost_value_auc),
    }
}

/// Reads every finished run (a folder with `config.json` and `metrics.jsonl`) under `dir`.
pub fn load_runs(dir: &Path) -> Result<Vec<Run>> {
    let mut runs = Vec::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| AlamError::Report(format!("cannot read {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(CONFIG_FILE).is_file() && p.join(METRICS_FILE).is_file())
        .collect();
    entries.sort();
    for path in entries {
        let cfg = TrainConfig::from_json(&fs::read_to_string(path.join(CONFIG_FILE))?)?;
        let records = read_metrics(&path.join(METRICS_FILE))?;
        // A run still going (or killed) would bias every late-training score: left out, said.
        let last_step = records.iter().filter_map(record_step).max().unwrap_or(0);
        if last_step < cfg.total_steps {
            eprintln!("skipped {} (unfinished: step {last_step} of {})", path.display(), cfg.total_steps);
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let group = strip_seed(name).to_string();
        let prefix = format!("{}-{}", cfg.env, cfg.algo);
        let variant = group.strip_prefix(&prefix).unwrap_or("").trim_start_matches('-').to_string();
        runs.push(Run { group, variant, cfg, records });
    }
    if runs.is_empty() {
        return Err(AlamError::Report(format!("no runs (folders with {CONFIG_FILE} and {METRICS_FILE}) in {}", dir.display())));
    }
    Ok(runs)
}

fn record_step(r: &Record) -> Option<u64> {
    match r {
        Record::Episode { step, .. } | Record::Update { step, .. } | Record::Eval { step, .. } | Record::Probe { step, .. } => Some(*step),
        Record::Diverged { .. } => None,
    }
}

/// `double-integrator-alam-rho10-s3` → `double-integrator-alam-rho10`.
fn strip_seed(name: &str) -> &str {
    match name.rsplit_once("-s") {
        Some((head, seed)) if !seed.is_empty() && seed.chars().all(|c| c.is_ascii_digit()) => head,
        _ => name,
    }
}

/// Runs grouped by their group name, in a stable order.
pub fn groups(runs: &[Run]) -> BTreeMap<String, Vec<&Run>> {
    let mut map: BTreeMap<String, Vec<&Run>> = BTreeMap::new();
    for r in runs {
        map.entry(r.group.clone()).or_default().push(r);
    }
    map
}

/// The doomed labels of the double integrator's probe grid: the oracle the calibration
/// score and the heat maps compare λ with.
pub fn doomed_labels() -> Vec<bool> {
    make_env(EnvKind::DoubleIntegrator, 0)
        .probe_grid(PROBE_GRID, PROBE_GRID)
        .and_then(|g| g.doomed)
        .unwrap_or_default()
}

/// Reads the runs under `runs_dir`, writes `summary.json` and the figures into `out`, and
/// returns the paths written.
pub fn write_report(runs_dir: &Path, out: &Path) -> Result<Vec<PathBuf>> {
    let runs = load_runs(runs_dir)?;
    fs::create_dir_all(out)?;
    let grouped = groups(&runs);
    let summaries: Vec<GroupSummary> = grouped.values().map(|g| summarize_group(g)).collect();
    let summary = serde_json::json!({
        "runs_dir": runs_dir.display().to_string(),
        "runs": runs.len(),
        "notes": {
            "final_*": "last deterministic evaluation (mean action), per episode; mean ± std over seeds",
            "train_violations_last10": "violating steps per training episode over the last 10% of steps",
            "cost_std_second_half": "C2: std of episode cost over the second half of training",
            "lambda_std_second_half": "C2/C4: std of mean λ on the fixed probe grid over the second half",
            "lambda_change_second_half": "C4: mean |Δ| of mean λ between consecutive probes, second half",
            "calibration_auc": "C3: ROC-AUC of final λ(s) as a detector of doomed states on the 21×21 probe grid (envs with an oracle: double integrator, car-following)",
            "cost_value_auc": "the same for the cost critic Q_c(s, π(s))",
        },
        "groups": summaries,
    });
    let mut written = vec![out.join("summary.json")];
    fs::write(&written[0], serde_json::to_string_pretty(&summary).unwrap_or_default())?;
    written.extend(plots::draw_all(&grouped, out)?);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Algo;

    fn probe(step: u64, lambda_mean: f64, auc: Option<f64>) -> Record {
        Record::Probe {
            step,
            lambda_mean,
            lambda_std: 0.0,
            lambda_max: 0.0,
            cost_value_mean: 0.0,
            flagged_frac: 0.0,
            calibration_auc: auc,
            cost_value_auc: None,
            lambda_grid: vec![],
            cost_value_grid: vec![],
        }
    }

    fn episode(step: u64, cost: f64) -> Record {
        Record::Episode { step, episode: step / 100, ret: 1.0, cost, violations: cost as u64, length: 100 }
    }

    #[test]
    fn scores_by_hand() {
        let mut cfg = TrainConfig::preset(EnvKind::DoubleIntegrator, Algo::Alam);
        cfg.total_steps = 1000;
        let records = vec![
            episode(200, 9.0),
            probe(400, 7.0, Some(0.5)),
            // second half: costs 2, 4 (std 1), λ 1, 3, 2 (std √(2/3), mean |Δ| 1.5)
            episode(600, 2.0),
            probe(600, 1.0, Some(0.6)),
            probe(800, 3.0, Some(0.7)),
            Record::Eval { step: 1000, return_mean: 12.0, cost_mean: 1.0, violations_mean: 1.0, episodes: 5 },
            episode(1000, 4.0),
            probe(1000, 2.0, Some(0.9)),
        ];
        let run = Run { group: "g".into(), variant: String::new(), cfg, records };
        let s = score(&run);
        assert_eq!((s.final_return, s.final_violations), (12.0, 1.0));
        assert_eq!(s.train_violations_last10, 4.0);
        assert!((s.cost_std_second_half - 1.0).abs() < 1e-12);
        assert!((s.lambda_std_second_half - (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((s.lambda_change_second_half - 1.5).abs() < 1e-12);
        assert_eq!(s.calibration_auc, Some(0.9));
    }

    #[test]
    fn group_names_drop_the_seed_only() {
        assert_eq!(strip_seed("double-integrator-alam-rho10-s3"), "double-integrator-alam-rho10");
        assert_eq!(strip_seed("point-goal-sac-s12"), "point-goal-sac");
        assert_eq!(strip_seed("point-goal-sac"), "point-goal-sac");
    }
}
