//! `alam report`: reads a sweep's runs, scores each against the paper's claims (docs/method.md §6,
//! §8), compares the groups (§10) and writes `summary.json` plus SVG figures, all at once
//! (`output`). Reading runs lives here, the scores and their statistics in `scores`, drawing in
//! `plots`.

mod output;
mod plots;
mod scores;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

use crate::checkpoint;
use crate::config::{Algo, TrainConfig};
use crate::env::{make_env, EnvKind};
use crate::error::{AlamError, Result};
use crate::evaluation::PROBE_GRID;
use crate::metrics::Record;
use crate::run::{io_context, read_metrics, CONFIG_FILE, DONE_FILE, METRICS_FILE, WEIGHTS_FILE};
use crate::sweep::clip;

pub use scores::{score, Comparison, Score, Spread, SCORES};

/// One finished run of a sweep.
#[derive(Debug, Clone)]
pub struct Run {
    /// The run's folder name (`double-integrator-alam-rho10-s3`).
    pub name: String,
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

    /// The last deterministic evaluation, as (return, violating steps) per episode.
    pub fn last_eval(&self) -> Option<(f64, f64)> {
        self.records.iter().rev().find_map(|r| match r {
            Record::Eval { return_mean, violations_mean, .. } => Some((*return_mean, *violations_mean)),
            _ => None,
        })
    }
}

/// Why a run the report found was not scored (a finished run is a [`Run`]), with what is known
/// of where it stopped. Written to `summary.json` as today's strings: `status` is `diverged`,
/// `unfinished` or `unreadable`, beside `step` where known and `reason`.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Stopped on a non-finite value at `step`; its last good weights were kept.
    Diverged { step: u64, message: String },
    /// Stopped before its `total_steps` (killed, still running, or a torn last line).
    Unfinished { step: Option<u64>, reason: String },
    /// A file that cannot be read, or values the report refuses.
    Unreadable { reason: String },
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Diverged { .. } => "diverged",
            Status::Unfinished { .. } => "unfinished",
            Status::Unreadable { .. } => "unreadable",
        }
    }

    pub fn step(&self) -> Option<u64> {
        match self {
            Status::Diverged { step, .. } => Some(*step),
            Status::Unfinished { step, .. } => *step,
            Status::Unreadable { .. } => None,
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Status::Diverged { message, .. } => message,
            Status::Unfinished { reason, .. } | Status::Unreadable { reason } => reason,
        }
    }
}

/// A run the report found but did not score, and why: counted and named in its group's
/// line of `summary.json` so that no seed silently drops out of a mean.
#[derive(Debug, Clone)]
pub struct NotScored {
    /// The run's folder name.
    pub run: String,
    pub group: String,
    pub cfg: Option<TrainConfig>,
    pub status: Status,
}

impl Serialize for NotScored {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Line<'a> {
            run: &'a str,
            status: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            step: Option<u64>,
            reason: &'a str,
        }
        let st = &self.status;
        Line { run: &self.run, status: st.name(), step: st.step(), reason: st.reason() }.serialize(s)
    }
}

/// What a sweep folder holds: the finished runs, and every other run with its reason.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub runs: Vec<Run>,
    pub not_scored: Vec<NotScored>,
}

impl Loaded {
    /// The runs not scored for the reason `kind` selects.
    fn count(&self, kind: fn(&Status) -> bool) -> usize {
        self.not_scored.iter().filter(|n| kind(&n.status)).count()
    }
}

fn diverged(s: &Status) -> bool {
    matches!(s, Status::Diverged { .. })
}

fn unfinished(s: &Status) -> bool {
    matches!(s, Status::Unfinished { .. })
}

fn unreadable(s: &Status) -> bool {
    matches!(s, Status::Unreadable { .. })
}

/// One line of `summary.json`: a group (env × algo × variant) over its seeds.
#[derive(Debug, Clone, Serialize)]
pub struct GroupSummary {
    pub group: String,
    /// Unknown (null) only for a group none of whose configs could be read.
    pub env: Option<EnvKind>,
    pub algo: Option<Algo>,
    pub variant: String,
    /// Finished runs, the ones every score below is over.
    pub seeds: usize,
    /// Their folder names, in the order of each score's `values`.
    pub scored_runs: Vec<String>,
    /// Every run of the group found in the folder: `seeds` + diverged + unfinished + unreadable.
    pub runs_found: usize,
    /// Whether every run found finished and was scored. False means the means below are over
    /// the survivors only (a diverged seed's scores are missing, not good): read them so.
    pub complete: bool,
    pub total_steps: Option<u64>,
    /// One entry per score of [`SCORES`], by its name: mean, std, 95% interval and the values.
    #[serde(flatten)]
    pub scores: BTreeMap<&'static str, Option<Spread>>,
    /// The runs not scored, by kind, each with its step and reason.
    pub diverged: Vec<NotScored>,
    pub unfinished: Vec<NotScored>,
    pub unreadable: Vec<NotScored>,
}

/// A group's line: scores over its finished runs (`runs`, possibly none) and the runs it has
/// that were not scored.
pub fn summarize_group(group: &str, runs: &[&Run], others: &[&NotScored]) -> GroupSummary {
    let cfg = runs.first().map(|r| &r.cfg).or_else(|| others.iter().find_map(|o| o.cfg.as_ref()));
    let variant = runs
        .first()
        .map(|r| r.variant.clone())
        .unwrap_or_else(|| cfg.map(|c| variant_of(group, c)).unwrap_or_default());
    let of = |kind: fn(&Status) -> bool| others.iter().filter(|o| kind(&o.status)).map(|&o| o.clone()).collect();
    GroupSummary {
        group: group.to_string(),
        env: cfg.map(|c| c.env),
        algo: cfg.map(|c| c.algo),
        variant,
        seeds: runs.len(),
        scored_runs: runs.iter().map(|r| r.name.clone()).collect(),
        runs_found: runs.len() + others.len(),
        complete: others.is_empty(),
        total_steps: cfg.map(|c| c.total_steps),
        scores: scores::spreads(runs),
        diverged: of(diverged),
        unfinished: of(unfinished),
        unreadable: of(unreadable),
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
    // By group, then by seed as a number, so a group's per-seed values read in seed order
    // (`-s8` before `-s10`, which a sort by name would put first).
    entries.sort_by_cached_key(|p| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (group, seed) = split_seed(&name);
        (group.to_string(), seed, name)
    });
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let group = strip_seed(&name).to_string();
        match load_run(&path, &name, &group) {
            Ok(run) => loaded.runs.push(run),
            Err(ns) => {
                eprintln!(
                    "skipped {} ({}{}: {})",
                    path.display(),
                    ns.status.name(),
                    ns.status.step().map(|s| format!(" at step {s}")).unwrap_or_default(),
                    ns.status.reason()
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
    let not = |cfg: Option<&TrainConfig>, status: Status| {
        Box::new(NotScored { run: name.to_string(), group: group.to_string(), cfg: cfg.cloned(), status })
    };
    let unreadable = |reason: String| Status::Unreadable { reason };
    let config_path = path.join(CONFIG_FILE);
    let cfg = fs::read_to_string(&config_path)
        .map_err(|e| e.to_string())
        .and_then(|t| TrainConfig::from_json(&t).map_err(|e| e.to_string()))
        .map_err(|e| not(None, unreadable(format!("{}: {}", config_path.display(), clip(&e, 200)))))?;
    let records = match read_metrics(&path.join(METRICS_FILE)) {
        Ok(r) => r,
        // A torn last line is a write cut short: the run was stopped mid-way.
        Err(e) if e.torn_tail => return Err(not(Some(&cfg), Status::Unfinished { step: None, reason: e.message })),
        Err(e) => return Err(not(Some(&cfg), unreadable(e.message))),
    };
    let metrics_path = path.join(METRICS_FILE);
    for (k, r) in records.iter().enumerate() {
        if let Some(why) = insane(r, cfg.total_steps) {
            return Err(not(Some(&cfg), unreadable(format!("{}: record {}: {why}", metrics_path.display(), k + 1))));
        }
    }
    if let Some((step, message)) = records.iter().find_map(|r| match r {
        Record::Diverged { step, message } => Some((*step, message.clone())),
        _ => None,
    }) {
        return Err(not(Some(&cfg), Status::Diverged { step, message: clip(&message, 200) }));
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
                    unreadable(format!(
                        "{} differs from the config in {}",
                        config_path.display(),
                        weights_path.display()
                    )),
                ));
            }
            Ok((header, _)) => reached = reached.max(header.steps),
            Err(e) => {
                return Err(not(
                    Some(&cfg),
                    unreadable(format!("{}: {}", weights_path.display(), clip(&e.to_string(), 200))),
                ))
            }
        }
    }
    let done = path.join(DONE_FILE).is_file();
    if reached < cfg.total_steps && !done {
        return Err(not(
            Some(&cfg),
            Status::Unfinished { step: Some(reached), reason: format!("step {reached} of {}", cfg.total_steps) },
        ));
    }
    // A finished run evaluates at the last multiple of eval_every: without that record its
    // metrics lost their end (cut at a line boundary), and its final scores would be made up.
    if cfg.eval_every > 0 && cfg.eval_every <= cfg.total_steps {
        let last_eval = cfg.total_steps / cfg.eval_every * cfg.eval_every;
        if !records.iter().any(|r| matches!(r, Record::Eval { step, .. } if *step == last_eval)) {
            return Err(not(
                Some(&cfg),
                unreadable(format!(
                    "{}: no eval record at step {last_eval}: its records are incomplete",
                    metrics_path.display()
                )),
            ));
        }
    }
    let variant = variant_of(group, &cfg);
    Ok(Run { name: name.to_string(), group: group.to_string(), variant, cfg, records })
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
    split_seed(name).0
}

/// `double-integrator-alam-rho10-s3` → (`double-integrator-alam-rho10`, Some(3)); a name with no
/// `-s<digits>` suffix is its own group, with no seed (and so is a seed past u64's range).
fn split_seed(name: &str) -> (&str, Option<u64>) {
    match name.rsplit_once("-s") {
        Some((head, seed)) if !seed.is_empty() && seed.chars().all(|c| c.is_ascii_digit()) => (head, seed.parse().ok()),
        _ => (name, None),
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

/// What `alam report` wrote: its files (under `out`) and the table it prints.
#[derive(Debug, Clone)]
pub struct Written {
    pub files: Vec<PathBuf>,
    /// Per group its n and each score's mean, 95% interval and per-seed values; the
    /// comparisons; a warning for small groups.
    pub table: String,
}

/// Reads the runs under `runs_dir` and writes `summary.json` and the figures into `out`, all at
/// once: the previous report's files there are replaced as a whole, or not at all (`output`).
/// Every run found is in the summary: finished runs scored, diverged, unfinished and unreadable
/// ones counted and named in their group's line. If no run can be scored the summary is still
/// written and the error says so.
pub fn write_report(runs_dir: &Path, out: &Path) -> Result<Written> {
    let loaded = load_runs(runs_dir)?;
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
    let keys: Vec<scores::GroupKey> = summaries
        .iter()
        .filter_map(|g| {
            Some(scores::GroupKey {
                group: &g.group,
                env: g.env?,
                algo: g.algo?,
                variant: &g.variant,
                scores: &g.scores,
            })
        })
        .collect();
    let comparisons = scores::comparisons(&keys);
    let mut notes = serde_json::json!({
        "seeds": "finished runs of the group; every score is over these only",
        "scored_runs": "their folder names, in the order of each score's `values`",
        "complete": "false when the group has diverged, unfinished or unreadable runs: its means are over the survivors (a diverged seed is missing, not good)",
        "diverged": "runs stopped on a non-finite loss (their last good weights kept), with the step and message",
        "unfinished": "runs that stopped before total_steps without diverging (killed, still running, or a torn last line)",
        "unreadable": "runs whose files could not be read or hold values the report refuses (beyond ±1e12), with the file and reason",
        "scores": format!("each score below, per group: mean and std over its scored runs, ci95 = 95% percentile-bootstrap interval of the mean ({} resamples, a fixed seed), values = per scored run (null: no value)", crate::stats::RESAMPLES),
        "comparisons": "ALaM against SAC-Lag, PID-Lag and FAC (C1) and FAC (C2–C4) in the same env and variant; the preset ALaM also against the rivals' variants (FAC every update) and its own variants (the re-anchored ablation, ρ, m); every other algorithm's preset against its own variants (FAC against FAC every update): diff = mean_a − mean_b with ci_diff, its 95% bootstrap interval; t and df of Welch's test; two-sided p-values of Welch's t test (p_welch) and of a permutation test (p_permutation: exact up to 100 000 splits, else Monte Carlo); a_better: diff points the score's better way",
    });
    for s in &SCORES {
        notes[s.name] =
            format!("{} ({} is better)", s.note, if s.higher_is_better { "higher" } else { "lower" }).into();
    }
    let count = |kind| loaded.count(kind);
    let summary = serde_json::json!({
        "runs_dir": runs_dir.display().to_string(),
        "runs": loaded.runs.len(),
        "runs_found": loaded.runs.len() + loaded.not_scored.len(),
        "diverged": count(diverged),
        "unfinished": count(unfinished),
        "unreadable": count(unreadable),
        "notes": notes,
        "groups": summaries,
        "comparisons": comparisons,
    });
    let files = output::replace_report(out, |dir| {
        let summary_path = dir.join("summary.json");
        fs::write(&summary_path, serde_json::to_string_pretty(&summary).unwrap_or_default())
            .map_err(io_context(&summary_path, "cannot write"))?;
        let mut written = vec![summary_path];
        written.extend(plots::draw_all(&grouped, &summaries, dir)?);
        // Named where they will be once the folder is in place.
        Ok(written.iter().filter_map(|p| p.file_name()).map(|n| out.join(n)).collect::<Vec<_>>())
    })?;
    if loaded.runs.is_empty() {
        return Err(AlamError::Report(format!(
            "no finished run to score in {} ({} diverged, {} unfinished, {} unreadable; {} lists them)",
            runs_dir.display(),
            count(diverged),
            count(unfinished),
            count(unreadable),
            files[0].display()
        )));
    }
    let rows: Vec<scores::GroupRows> = summaries
        .iter()
        .map(|g| scores::GroupRows { group: &g.group, n: g.seeds, runs_found: g.runs_found, scores: &g.scores })
        .collect();
    Ok(Written { files, table: scores::table(&rows, &comparisons) })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let run = Run { name: "g-s0".into(), group: "g".into(), variant: String::new(), cfg, records };
        let scores = score(&run);
        let s = |name: &str| scores[SCORES.iter().position(|s| s.name == name).unwrap()];
        let close = |name: &str, want: f64| (s(name).unwrap() - want).abs() < 1e-12;
        assert_eq!((s("final_return"), s("final_violations")), (Some(12.0), Some(1.0)));
        assert_eq!(s("train_violations_last10"), Some(4.0));
        assert!(close("cost_std_second_half", 1.0));
        assert!(close("lambda_std_second_half", (2.0f64 / 3.0).sqrt()));
        assert!(close("lambda_change_second_half", 1.5));
        assert_eq!(s("calibration_auc"), Some(0.9));
        assert_eq!(s("cost_value_auc"), None);
    }

    #[test]
    fn group_names_drop_the_seed_only() {
        assert_eq!(strip_seed("double-integrator-alam-rho10-s3"), "double-integrator-alam-rho10");
        assert_eq!(strip_seed("point-goal-sac-s12"), "point-goal-sac");
        assert_eq!(strip_seed("point-goal-sac"), "point-goal-sac");
    }
}
