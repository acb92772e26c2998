//! `alam train`: one run into its folder, with a progress bar.

use std::path::{Path, PathBuf};
use std::time::Duration;

use alam::config::{Algo, TrainConfig};
use alam::env::EnvKind;
use alam::lock::RunLock;
use alam::metrics::Record;
use alam::run::{prepare_run_dir, resume_in_dir, train_to_dir, Resumed, WEIGHTS_FILE};
use alam::trainer::Trainer;
use alam::Result;
use indicatif::{ProgressBar, ProgressStyle};

use super::{build_config, read_config_file, ConfigArgs, Outcome};

/// `alam train`: `env`, `algo` and `seed` are `None` where not given on the command line.
pub(super) fn run(
    env: Option<EnvKind>,
    algo: Option<Algo>,
    seed: Option<u64>,
    args: ConfigArgs,
    out: PathBuf,
    force: bool,
    quiet: bool,
) -> Result<Outcome> {
    let cfg = build_config(read_config_file(&args)?.as_ref(), env, algo, seed, &args, &[])?;
    for w in cfg.warnings() {
        eprintln!("warning: {w}");
    }
    let lock = prepare_run_dir(&out, force)?;
    if let Some(note) = lock.stale_note() {
        eprintln!("{note}");
    }
    Ok(if train(&cfg, &out, quiet)? { Outcome::Diverged(1) } else { Outcome::Done })
}

/// `alam train --resume DIR [--steps N]`.
pub(super) fn resume(dir: PathBuf, steps: Option<u64>, quiet: bool) -> Result<Outcome> {
    // The run is this process's while the lock lives; a missing folder is refused by
    // `resume_in_dir`, with its reason.
    let lock = if dir.is_dir() { Some(RunLock::acquire(&dir)?) } else { None };
    if let Some(note) = lock.as_ref().and_then(RunLock::stale_note) {
        eprintln!("{note}");
    }
    let bar = progress_bar(0, quiet);
    let mut watch = Watch::default();
    let started = |r: &Resumed| {
        eprintln!("resuming {} from step {}: {}", dir.display(), r.from_step, r.note);
    };
    let trainer = resume_in_dir(&dir, steps, started, |t, records| {
        bar.set_length(t.config().total_steps);
        watch.show(&bar, t, records);
    })?;
    bar.finish();
    Ok(if report_end(&trainer, &dir) { Outcome::Diverged(1) } else { Outcome::Done })
}

fn progress_bar(len: u64, quiet: bool) -> ProgressBar {
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(len) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} steps {per_sec} | {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The live figures the progress bar shows: the last 10 episodes' return / cost / violations
/// and the last λ.
#[derive(Default)]
struct Watch {
    recent: std::collections::VecDeque<(f64, f64, u64)>,
    lambda: f64,
}

impl Watch {
    fn show(&mut self, bar: &ProgressBar, t: &Trainer, records: &[Record]) {
        bar.set_position(t.steps_done());
        for r in records {
            match r {
                Record::Episode { ret, cost, violations, .. } => {
                    self.recent.push_back((*ret, *cost, *violations));
                    if self.recent.len() > 10 {
                        self.recent.pop_front();
                    }
                }
                Record::Update { stats, .. } => self.lambda = stats.lambda_mean,
                Record::Diverged { message, .. } => bar.println(format!("warning: {message}")),
                _ => {}
            }
        }
        if !self.recent.is_empty() {
            let n = self.recent.len() as f64;
            let (r, c, v) = self.recent.iter().fold((0.0, 0.0, 0u64), |a, e| (a.0 + e.0, a.1 + e.1, a.2 + e.2));
            bar.set_message(format!(
                "ep {} return {:.1} cost {:.1} violations/ep {:.1} λ {:.3}",
                t.episodes_done(),
                r / n,
                c / n,
                v as f64 / n,
                self.lambda
            ));
        }
    }
}

/// Says how the run ended on stderr; true if it diverged.
fn report_end(trainer: &Trainer, out: &Path) -> bool {
    let weights = out.join(WEIGHTS_FILE);
    match trainer.diverged() {
        Some(msg) => {
            eprintln!(
                "diverged at step {}: {msg}; last good weights in {}{}",
                trainer.steps_done(),
                weights.display(),
                suspects(trainer.config())
            );
            true
        }
        None => {
            eprintln!(
                "done: {} steps, {} episodes; weights in {}",
                trainer.steps_done(),
                trainer.episodes_done(),
                weights.display()
            );
            false
        }
    }
}

/// Trains one run into `out`; true if it diverged (said on stderr).
pub(super) fn train(cfg: &TrainConfig, out: &Path, quiet: bool) -> Result<bool> {
    let bar = progress_bar(cfg.total_steps, quiet);
    let mut watch = Watch::default();
    let trainer = train_to_dir(cfg, out, |t, records| watch.show(&bar, t, records))?;
    bar.finish();
    Ok(report_end(&trainer, out))
}

/// The settings a divergence most likely comes from, as the end of its message ("" if none is
/// outside its usual range).
pub(super) fn suspects(cfg: &TrainConfig) -> String {
    let unusual = cfg.unusual_settings();
    if unusual.is_empty() {
        String::new()
    } else {
        format!(". Likely cause, outside the usual range: {}", unusual.join(", "))
    }
}
