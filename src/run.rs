//! A whole training run written to a folder: `config.json`, `metrics.jsonl` (one record per
//! line, flushed as it goes) and `weights.alam`. Native only (files); the CLI's `train` and
//! `sweep` and the tests share it.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::checkpoint;
use crate::config::TrainConfig;
use crate::error::Result;
use crate::metrics::Record;
use crate::population::PopulationTrainer;
use crate::trainer::Trainer;

pub const WEIGHTS_FILE: &str = "weights.alam";
pub const METRICS_FILE: &str = "metrics.jsonl";
pub const CONFIG_FILE: &str = "config.json";
/// Written by `alam sweep` once a run has finished (or diverged, which is final too).
pub const DONE_FILE: &str = "done";
/// Every file a run folder may hold (`weights.alam.tmp`: a save cut short).
pub const RUN_FILES: [&str; 5] = [CONFIG_FILE, METRICS_FILE, WEIGHTS_FILE, "weights.alam.tmp", DONE_FILE];

/// An I/O error that says which path and what was being done: "cannot create run folder
/// runs/x: File exists (os error 17)" rather than the bare OS message.
pub fn io_context(path: &Path, what: &str) -> impl FnOnce(std::io::Error) -> crate::AlamError {
    let msg = format!("{what} {}", path.display());
    move |e| crate::AlamError::Io(std::io::Error::new(e.kind(), format!("{msg}: {e}")))
}

/// Makes `out` ready for a new run: created if absent; a folder that already holds files is
/// refused (another run's results would be overwritten) unless `force`, which deletes the
/// run files in it. A folder with anything but run files in it is never emptied: it is not
/// a run folder, so `--force` refuses it too.
pub fn prepare_run_dir(out: &Path, force: bool) -> Result<()> {
    if out.exists() && !out.is_dir() {
        return Err(crate::AlamError::Io(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("--out {}: exists and is not a folder", out.display()),
        )));
    }
    if out.is_dir() {
        let entries: Vec<String> = fs::read_dir(out)
            .map_err(io_context(out, "cannot read run folder"))?
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        if !entries.is_empty() {
            let foreign: Vec<&String> = entries.iter().filter(|n| !RUN_FILES.contains(&n.as_str())).collect();
            if !foreign.is_empty() {
                return Err(crate::AlamError::Io(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!(
                        "--out {} holds files that are not a run's ({}): choose an empty or new folder",
                        out.display(),
                        foreign.iter().take(3).map(|s| crate::sweep::clip(s, 40)).collect::<Vec<_>>().join(", ")
                    ),
                )));
            }
            if !force {
                return Err(crate::AlamError::Io(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!(
                        "--out {} already holds a run ({}): choose a new folder, or pass --force to replace it",
                        out.display(),
                        entries.join(", ")
                    ),
                )));
            }
            for name in &entries {
                let p = out.join(name);
                fs::remove_file(&p).map_err(io_context(&p, "cannot remove"))?;
            }
        }
    }
    fs::create_dir_all(out).map_err(io_context(out, "--out: cannot create run folder"))
}

/// Trains `cfg` into `out`, calling `progress` after every step with the records it made.
/// Weights are saved at every evaluation and at the end (also after a divergence, with the
/// last good weights), so an interrupted run loses at most one evaluation interval.
pub fn train_to_dir(cfg: &TrainConfig, out: &Path, mut progress: impl FnMut(&Trainer, &[Record])) -> Result<Trainer> {
    let device = burn::tensor::Device::flex();
    // The config is checked before anything is written.
    let mut trainer = Trainer::new(cfg.clone(), &device)?;
    fs::create_dir_all(out).map_err(io_context(out, "cannot create run folder"))?;
    let (config_path, metrics_path) = (out.join(CONFIG_FILE), out.join(METRICS_FILE));
    fs::write(&config_path, cfg.to_json()).map_err(io_context(&config_path, "cannot write"))?;
    let mut metrics = BufWriter::new(File::create(&metrics_path).map_err(io_context(&metrics_path, "cannot create"))?);
    let write_err = || io_context(&metrics_path, "cannot write");
    while !trainer.is_done() {
        let records = trainer.step()?;
        for r in &records {
            writeln!(metrics, "{}", r.to_json_line()).map_err(write_err())?;
            if matches!(r, Record::Eval { .. }) {
                save_weights(&trainer, out)?;
                metrics.flush().map_err(write_err())?;
            }
        }
        progress(&trainer, &records);
    }
    metrics.flush().map_err(write_err())?;
    save_weights(&trainer, out)?;
    Ok(trainer)
}

/// Trains seeds of one config (they differ in their seed only) as one batched population,
/// seed i into `outs[i]`: the same files as [`train_to_dir`] writes for each, saved at the
/// same points (every evaluation, the end; a diverged seed keeps its last good weights).
pub fn train_population_to_dirs(cfgs: &[TrainConfig], outs: &[PathBuf], mut progress: impl FnMut(&PopulationTrainer, &[Vec<Record>])) -> Result<PopulationTrainer> {
    let mut metrics = Vec::with_capacity(outs.len());
    for cfg in cfgs {
        cfg.validate()?;
    }
    for (cfg, out) in cfgs.iter().zip(outs) {
        fs::create_dir_all(out).map_err(io_context(out, "cannot create run folder"))?;
        let (config_path, metrics_path) = (out.join(CONFIG_FILE), out.join(METRICS_FILE));
        fs::write(&config_path, cfg.to_json()).map_err(io_context(&config_path, "cannot write"))?;
        metrics.push(BufWriter::new(File::create(&metrics_path).map_err(io_context(&metrics_path, "cannot create"))?));
    }
    let device = burn::tensor::Device::flex();
    let mut population = PopulationTrainer::new(cfgs, &device)?;
    while !population.is_done() {
        let records = population.step()?;
        for ((seed_records, m), (trainer, out)) in records.iter().zip(&mut metrics).zip(population.trainers().iter().zip(outs)) {
            for r in seed_records {
                writeln!(m, "{}", r.to_json_line()).map_err(io_context(&out.join(METRICS_FILE), "cannot write"))?;
                if matches!(r, Record::Eval { .. }) {
                    // The population wrote the seed's networks into its agent to evaluate.
                    save_weights(trainer, out)?;
                    m.flush().map_err(io_context(&out.join(METRICS_FILE), "cannot write"))?;
                }
            }
        }
        progress(&population, &records);
    }
    population.sync_agents();
    for ((m, trainer), out) in metrics.iter_mut().zip(population.trainers()).zip(outs) {
        m.flush().map_err(io_context(&out.join(METRICS_FILE), "cannot write"))?;
        save_weights(trainer, out)?;
    }
    Ok(population)
}

/// Writes the weights atomically (temp file + rename): a crash mid-write never leaves a
/// half-written weights file in place of a good one.
pub fn save_weights(trainer: &Trainer, out: &Path) -> Result<()> {
    let bytes = checkpoint::save(trainer.agent(), trainer.steps_done())?;
    let tmp = out.join(format!("{WEIGHTS_FILE}.tmp"));
    fs::write(&tmp, bytes).map_err(io_context(&tmp, "cannot write"))?;
    let dest = out.join(WEIGHTS_FILE);
    fs::rename(&tmp, &dest).map_err(io_context(&dest, "cannot write"))?;
    Ok(())
}

/// Why a metrics file could not be read: the path, the line and what was wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsError {
    pub message: String,
    /// The bad line is the file's last and has no newline: a write cut short (a killed run).
    pub torn_tail: bool,
}

impl std::fmt::Display for MetricsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Reads every record of a metrics file (skipping none: a bad line is an error that names the
/// file and the line, and says whether it is a torn last line).
pub fn read_metrics(path: &Path) -> std::result::Result<Vec<Record>, MetricsError> {
    let text = fs::read_to_string(path).map_err(|e| MetricsError { message: format!("cannot read {}: {e}", path.display()), torn_tail: false })?;
    let lines: Vec<&str> = text.split('\n').collect();
    let mut records = Vec::with_capacity(lines.len());
    for (k, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) => records.push(r),
            Err(e) => {
                let torn_tail = k + 1 == lines.len();
                let what = if torn_tail { "torn last line (a write cut short)" } else { "bad line" };
                return Err(MetricsError {
                    message: format!("{}: line {}: {what}: {}", path.display(), k + 1, crate::sweep::clip(&e.to_string(), 120)),
                    torn_tail,
                });
            }
        }
    }
    Ok(records)
}
