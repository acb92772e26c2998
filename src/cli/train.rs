//! `alam train`: one run into its folder, with a progress bar.

use std::path::{Path, PathBuf};
use std::time::Duration;

use alam::config::{Algo, TrainConfig};
use alam::env::EnvKind;
use alam::metrics::Record;
use alam::run::{prepare_run_dir, train_to_dir, WEIGHTS_FILE};
use alam::Result;
use indicatif::{ProgressBar, ProgressStyle};

use super::{build_config, ConfigArgs, Outcome};

pub(super) fn run(env: EnvKind, algo: Algo, seed: u64, cfg: ConfigArgs, out: PathBuf, force: bool, quiet: bool) -> Result<Outcome> {
    let cfg = build_config(env, algo, seed, &cfg, &[])?;
    for w in cfg.warnings() {
        eprintln!("warning: {w}");
    }
    prepare_run_dir(&out, force)?;
    Ok(if train(&cfg, &out, quiet)? { Outcome::Diverged(1) } else { Outcome::Done })
}

/// Trains one run into `out`; true if it diverged (said on stderr).
pub(super) fn train(cfg: &TrainConfig, out: &Path, quiet: bool) -> Result<bool> {
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(cfg.total_steps) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} steps {per_sec} | {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    // Last 10 episodes: the live return / cost / violations the bar shows.
    let mut recent: std::collections::VecDeque<(f64, f64, u64)> = Default::default();
    let mut lambda = 0.0;
    let trainer = train_to_dir(cfg, out, |t, records| {
        bar.set_position(t.steps_done());
        for r in records {
            match r {
                Record::Episode { ret, cost, violations, .. } => {
                    recent.push_back((*ret, *cost, *violations));
                    if recent.len() > 10 {
                        recent.pop_front();
                    }
                }
                Record::Update { stats, .. } => lambda = stats.lambda_mean,
                Record::Diverged { message, .. } => bar.println(format!("warning: {message}")),
                _ => {}
            }
        }
        if !recent.is_empty() {
            let n = recent.len() as f64;
            let (r, c, v) = recent.iter().fold((0.0, 0.0, 0u64), |a, e| (a.0 + e.0, a.1 + e.1, a.2 + e.2));
            bar.set_message(format!(
                "ep {} return {:.1} cost {:.1} violations/ep {:.1} λ {:.3}",
                t.episodes_done(),
                r / n,
                c / n,
                v as f64 / n,
                lambda
            ));
        }
    })?;
    bar.finish();
    let weights = out.join(WEIGHTS_FILE);
    match trainer.diverged() {
        Some(msg) => {
            eprintln!("diverged at step {}: {msg}; last good weights in {}", trainer.steps_done(), weights.display());
            Ok(true)
        }
        None => {
            eprintln!("done: {} steps, {} episodes; weights in {}", trainer.steps_done(), trainer.episodes_done(), weights.display());
            Ok(false)
        }
    }
}
