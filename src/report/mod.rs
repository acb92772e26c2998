//! `alam report`: reads a sweep's runs, scores each against the paper's claims (docs/method.md §6,
//! §8) and writes `summary.json` plus SVG figures. Reading and scoring live here; drawing in
//! `plots`.

mod plots;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::checkpoint;
use crate::config::TrainConfig;
use crate::env::{make_env, EnvKind};
use crate::error::{AlamError, Result};
use crate::metrics::Record;
use crate::run::{io_context, read_metrics, CONFIG_FILE, DONE_FILE, METRICS_FILE, WEIGHTS_FILE};
use crate::stats::{mean, mean_abs_change, second_half, std_dev};
use crate::sweep::clip;
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
        self.records.iter().filter(|r| matches!(r, Record::Probe { .. })).min_by_key(|r| match r {
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

/// A run the report found but did not score, and why: counted and named in its group's
/// line of `summary.json` so that no seed silently drops out of a mean.
#[derive(Debug, Clone, Serialize)]
pub struct NotScored {
    /// The run's folder name.
    pub run: String,
    #[serde(skip)]
    pub group: String,
    #[serde(skip)]
    pub cfg: Option<TrainConfig>,
    /// `diverged`, `unfinished` or `unreadable`.
    pub status: &'static str,
    /// Where it stopped (diverged, unfinished), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<u64>,
    pub reason: String,
}

/// What a sweep folder holds: the finished runs, and every other run with its reason.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub runs: Vec<Run>,
    pub not_scored: Vec<NotScored>,
}

/// One line of `summary.json`: a group (env × algo × variant) over its seeds.
#[derive(Debug, Clone, Serialize)]
pub struct GroupSummary {
    pub group: String,
    /// Unknown (null) only for a group none of whose configs could be read.
    pub env: Option<EnvKind>,
    pub algo: Option<String>,
    pub variant: String,
    /// Finished runs, the ones every score below is a mean ± std over.
    pub seeds: usize,
    /// Every run of the group found in the folder: `seeds` + diverged + unfinished + unreadable.
    pub runs_found: usize,
    /// Whether every run found finished and was scored. False means the means below are over
    /// the survivors only (a diverged seed's scores are missing, not good): read them so.
    pub complete: bool,
    pub total_steps: Option<u64>,
    pub final_return: Option<Spread>,
    pub final_violations: Option<Spread>,
    pub train_violations_last10: Option<Spread>,
    pub cost_std_second_half: Option<Spread>,
    pub lambda_std_second_half: Option<Spread>,
    pub lambda_change_second_half: Option<Spread>,
    pub calibration_auc: Option<Spread>,
    pub cost_value_auc: Option<Spread>,
    /// The runs not scored, by kind, each with its step and reason.
    pub diverged: Vec<NotScored>,
    pub unfinished: Vec<NotScored>,
    pub unreadable: Vec<NotScored>,
}

/// A group's line: scores over its finished runs (`runs`, possibly none) and the runs it has
/// that were not scored.
pub fn summarize_group(group: &str, runs: &[&Run], others: &[&NotScored]) -> GroupSummary {
    let scores: Vec<RunScores> = runs.iter().map(|r| score(r)).collect();
    let pick = |f: fn(&RunScores) -> Option<f64>| Spread::of(&scores.iter().filter_map(f).collect::<Vec<_>>());
    let cfg = runs.first().map(|r| &r.cfg).or_else(|| others.iter().find_map(|o| o.cfg.as_ref()));
    let variant = runs
        .first()
        .map(|r| r.variant.clone())
        .unwrap_or_else(|| cfg.map(|c| variant_of(group, c)).unwrap_or_default());
    let of = |kind: &str| others.iter().filter(|o| o.status == kind).map(|&o| o.clone()).collect::<Vec<_>>();
    GroupSummary {
        group: group.to_string(),
        env: cfg.map(|c| c.env),
        algo: cfg.map(|c| c.algo.name().to_string()),
        variant,
        seeds: runs.len(),
        runs_found: runs.len() + others.len(),
        complete: others.is_empty(),
        total_steps: cfg.map(|c| c.total_steps),
        final_return: pick(|s| Some(s.final_return)),
        final_violations: pick(|s| Some(s.final_violations)),
        train_violations_last10: pick(|s| Some(s.train_violations_last10)),
        cost_std_second_half: pick(|s| Some(s.cost_std_second_half)),
        lambda_std_second_half: pick(|s| Some(s.lambda_std_second_half)),
        lambda_change_second_half: pick(|s| Some(s.lambda_change_second_half)),
        calibration_auc: pick(|s| s.calibration_auc),
        cost_value_auc: pick(|s| s.cost_value_auc),
        diverged: of("diverged"),
        unfinished: of("unfinished"),
        unreadable: of("unreadable"),
    }
}

/// Values the report draws and averages are refused beyond this magnitude: no env here comes
/// near it, and a figure's axis over ±1e200 never finishes computing its ticks.
pub const SANE: f64 = 1e12;

/// Reads every run (a folder with `config.json` and `metrics.jsonl`) under `dir`: the
/// finished ones to score, and every other one with its reason, said on stderr as it goes.
/// A run is finished when it reached its `total_steps` (by its weights' step count, its
/// records or the sweep's `done` mark) without diverging.
pub fn load_runs(dir: &Path) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| AlamError::Report(format!("cannot read {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(CONFIG_FILE).is_file() || p.join(METRICS_FILE).is_file())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let group = strip_seed(&name).to_string();
        match load_run(&path, &name, &group) {
            Ok(run) => loaded.runs.push(run),
            Err(ns) => {
                eprintln!(
                    "skipped {} ({}{}: {})",
                    path.display(),
                    ns.status,
                    ns.step.map(|s| format!(" at step {s}")).unwrap_or_default(),
                    ns.reason
                );
                loaded.not_scored.push(*ns);
            }
        }
    }
    if loaded.runs.is_empty() && loaded.not_scored.is_empty() {
        return Err(AlamError::Report(format!(
            "no runs (folders with {CONFIG_FILE} and {METRICS_FILE}) in {}",
            dir.display()
        )));
    }
    Ok(loaded)
}

/// One run folder: the run, or why it is not scored.
fn load_run(path: &Path, name: &str, group: &str) -> std::result::Result<Run, Box<NotScored>> {
    let not = |cfg: Option<&TrainConfig>, status: &'static str, step: Option<u64>, reason: String| {
        Box::new(NotScored { run: name.to_string(), group: group.to_string(), cfg: cfg.cloned(), status, step, reason })
    };
    let config_path = path.join(CONFIG_FILE);
    let cfg = fs::read_to_string(&config_path)
        .map_err(|e| e.to_string())
        .and_then(|t| TrainConfig::from_json(&t).map_err(|e| e.to_string()))
        .map_err(|e| not(None, "unreadable", None, format!("{}: {}", config_path.display(), clip(&e, 200))))?;
    let records = match read_metrics(&path.join(METRICS_FILE)) {
        Ok(r) => r,
        // A torn last line is a write cut short: the run was stopped mid-way.
        Err(e) if e.torn_tail => return Err(not(Some(&cfg), "unfinished", None, e.message)),
        Err(e) => return Err(not(Some(&cfg), "unreadable", None, e.message)),
    };
    let metrics_path = path.join(METRICS_FILE);
    for (k, r) in records.iter().enumerate() {
        if let Some(why) = insane(r, cfg.total_steps) {
            return Err(not(
                Some(&cfg),
                "unreadable",
                None,
                format!("{}: record {}: {why}", metrics_path.display(), k + 1),
            ));
        }
    }
    if let Some((step, message)) = records.iter().find_map(|r| match r {
        Record::Diverged { step, message } => Some((*step, message.clone())),
        _ => None,
    }) {
        return Err(not(Some(&cfg), "diverged", Some(step), clip(&message, 200)));
    }
    // The weights' header holds the step count at its save (the last is at the very end) and
    // the config that ran: it must agree with config.json.
    let weights_path = path.join(WEIGHTS_FILE);
    let mut reached = records.iter().filter_map(record_step).max().unwrap_or(0);
    if let Ok(bytes) = fs::read(&weights_path) {
        match checkpoint::read_header(&bytes) {
            Ok((header, _)) if header.config != cfg => {
                return Err(not(
                    Some(&cfg),
                    "unreadable",
                    None,
                    format!("{} differs from the config in {}", config_path.display(), weights_path.display()),
                ));
            }
            Ok((header, _)) => reached = reached.max(header.steps),
            Err(e) => {
                return Err(not(
                    Some(&cfg),
                    "unreadable",
                    None,
                    format!("{}: {}", weights_path.display(), clip(&e.to_string(), 200)),
                ))
            }
        }
    }
    let done = path.join(DONE_FILE).is_file();
    if reached < cfg.total_steps && !done {
        return Err(not(Some(&cfg), "unfinished", Some(reached), format!("step {reached} of {}", cfg.total_steps)));
    }
    // A finished run evaluates at the last multiple of eval_every: without that record its
    // metrics lost their end (cut at a line boundary), and its final scores would be made up.
    if cfg.eval_every > 0 && cfg.eval_every <= cfg.total_steps {
        let last_eval = cfg.total_steps / cfg.eval_every * cfg.eval_every;
        if !records.iter().any(|r| matches!(r, Record::Eval { step, .. } if *step == last_eval)) {
            return Err(not(
                Some(&cfg),
                "unreadable",
                None,
                format!("{}: no eval record at step {last_eval}: its records are incomplete", metrics_path.display()),
            ));
        }
    }
    let variant = variant_of(group, &cfg);
    Ok(Run { group: group.to_string(), variant, cfg, records })
}

/// A record the report cannot draw or average: a value beyond ±[`SANE`] or a step past the end.
fn insane(r: &Record, total_steps: u64) -> Option<String> {
    let values: Vec<(&str, f64)> = match r {
        Record::Episode { ret, cost, .. } => vec![("return", *ret), ("cost", *cost)],
        Record::Eval { return_mean, cost_mean, violations_mean, .. } => {
            vec![("return_mean", *return_mean), ("cost_mean", *cost_mean), ("violations_mean", *violations_mean)]
        }
        Record::Probe {
            lambda_mean,
            lambda_std,
            lambda_max,
            cost_value_mean,
            flagged_frac,
            calibration_auc,
            cost_value_auc,
            lambda_grid,
            cost_value_grid,
            ..
        } => {
            let mut v = vec![
                ("lambda_mean", *lambda_mean),
                ("lambda_std", *lambda_std),
                ("lambda_max", *lambda_max),
                ("cost_value_mean", *cost_value_mean),
                ("flagged_frac", *flagged_frac),
            ];
            v.extend(calibration_auc.map(|a| ("calibration_auc", a)));
            v.extend(cost_value_auc.map(|a| ("cost_value_auc", a)));
            v.extend(lambda_grid.iter().map(|&x| ("lambda_grid", x as f64)));
            v.extend(cost_value_grid.iter().map(|&x| ("cost_value_grid", x as f64)));
            v
        }
        Record::Update { .. } | Record::Diverged { .. } => vec![],
    };
    if let Some((field, v)) = values.iter().find(|(_, v)| !(v.is_finite() && v.abs() <= SANE)) {
        return Some(format!("{field} = {v:.3e} is beyond ±{SANE:e}: not scored or drawn"));
    }
    match record_step(r) {
        Some(step) if step > total_steps => Some(format!("step {step} is past total_steps = {total_steps}")),
        _ => None,
    }
}

/// The variant part of a group name (`double-integrator-alam-rho10` → `rho10`).
fn variant_of(group: &str, cfg: &TrainConfig) -> String {
    let prefix = format!("{}-{}", cfg.env, cfg.algo);
    group.strip_prefix(&prefix).unwrap_or("").trim_start_matches('-').to_string()
}

fn record_step(r: &Record) -> Option<u64> {
    match r {
        Record::Episode { step, .. }
        | Record::Update { step, .. }
        | Record::Eval { step, .. }
        | Record::Probe { step, .. } => Some(*step),
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
    make_env(EnvKind::DoubleIntegrator, 0).probe_grid(PROBE_GRID, PROBE_GRID).and_then(|g| g.doomed).unwrap_or_default()
}

/// Reads the runs under `runs_dir`, writes `summary.json` and the figures into `out`, and
/// returns the paths written. Every run found is in the summary: finished runs scored,
/// diverged, unfinished and unreadable ones counted and named in their group's line.
pub fn write_report(runs_dir: &Path, out: &Path) -> Result<Vec<PathBuf>> {
    let loaded = load_runs(runs_dir)?;
    fs::create_dir_all(out).map_err(io_context(out, "--out: cannot create report folder"))?;
    let grouped = groups(&loaded.runs);
    let mut names: Vec<&String> = grouped.keys().chain(loaded.not_scored.iter().map(|n| &n.group)).collect();
    names.sort();
    names.dedup();
    let summaries: Vec<GroupSummary> = names
        .iter()
        .map(|g| {
            let runs = grouped.get(*g).cloned().unwrap_or_default();
            let others: Vec<&NotScored> = loaded.not_scored.iter().filter(|n| &n.group == *g).collect();
            summarize_group(g, &runs, &others)
        })
        .collect();
    let count = |kind: &str| loaded.not_scored.iter().filter(|n| n.status == kind).count();
    let summary = serde_json::json!({
        "runs_dir": runs_dir.display().to_string(),
        "runs": loaded.runs.len(),
        "runs_found": loaded.runs.len() + loaded.not_scored.len(),
        "diverged": count("diverged"),
        "unfinished": count("unfinished"),
        "unreadable": count("unreadable"),
        "notes": {
            "seeds": "finished runs of the group; every score is a mean ± std over these only",
            "complete": "false when the group has diverged, unfinished or unreadable runs: its means are over \
                         the survivors (a diverged seed is missing, not good)",
            "diverged": "runs stopped on a non-finite loss (their last good weights kept), with the step and message",
            "unfinished": "runs that stopped before total_steps without diverging (killed, still running, or a \
                           torn last line)",
            "unreadable": "runs whose files could not be read or hold values the report refuses (beyond ±1e12), \
                           with the file and reason",
            "final_*": "last deterministic evaluation (mean action), per episode; mean ± std over seeds",
            "train_violations_last10": "violating steps per training episode over the last 10% of steps",
            "cost_std_second_half": "C2: std of episode cost over the second half of training",
            "lambda_std_second_half": "C2/C4: std of mean λ on the fixed probe grid over the second half",
            "lambda_change_second_half": "C4: mean |Δ| of mean λ between consecutive probes, second half",
            "calibration_auc": "C3: ROC-AUC of final λ(s) as a detector of doomed states on the 21×21 probe grid \
                                (envs with an oracle: double integrator, car-following)",
            "cost_value_auc": "the same for the cost critic Q_c(s, π(s))",
        },
        "groups": summaries,
    });
    let summary_path = out.join("summary.json");
    fs::write(&summary_path, serde_json::to_string_pretty(&summary).unwrap_or_default())
        .map_err(io_context(&summary_path, "cannot write"))?;
    let mut written = vec![summary_path];
    written.extend(plots::draw_all(&grouped, out)?);
    if loaded.runs.is_empty() {
        return Err(AlamError::Report(format!(
            "no finished run to score in {} ({} diverged, {} unfinished, {} unreadable; {} lists them)",
            runs_dir.display(),
            count("diverged"),
            count("unfinished"),
            count("unreadable"),
            written[0].display()
        )));
    }
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
