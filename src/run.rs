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

/// Trains `cfg` into `out`, calling `progress` after every step with the records it made.
/// Weights are saved at every evaluation and at the end (also after a divergence, with the
/// last good weights), so an interrupted run loses at most one evaluation interval.
pub fn train_to_dir(cfg: &TrainConfig, out: &Path, mut progress: impl FnMut(&Trainer, &[Record])) -> Result<Trainer> {
    fs::create_dir_all(out)?;
    fs::write(out.join(CONFIG_FILE), cfg.to_json())?;
    let device = burn::tensor::Device::flex();
    let mut trainer = Trainer::new(cfg.clone(), &device)?;
    let mut metrics = BufWriter::new(File::create(out.join(METRICS_FILE))?);
    while !trainer.is_done() {
        let records = trainer.step()?;
        for r in &records {
            writeln!(metrics, "{}", r.to_json_line())?;
            if matches!(r, Record::Eval { .. }) {
                save_weights(&trainer, out)?;
                metrics.flush()?;
            }
        }
        progress(&trainer, &records);
    }
    metrics.flush()?;
    save_weights(&trainer, out)?;
    Ok(trainer)
}

/// Trains seeds of one config (they differ in their seed only) as one batched population,
/// seed i into `outs[i]`: the same files as [`train_to_dir`] writes for each, saved at the
/// same points (every evaluation, the end; a diverged seed keeps its last good weights).
pub fn train_population_to_dirs(cfgs: &[TrainConfig], outs: &[PathBuf], mut progress: impl FnMut(&PopulationTrainer, &[Vec<Record>])) -> Result<PopulationTrainer> {
    let mut metrics = Vec::with_capacity(outs.len());
    for (cfg, out) in cfgs.iter().zip(outs) {
        fs::create_dir_all(out)?;
        fs::write(out.join(CONFIG_FILE), cfg.to_json())?;
        metrics.push(BufWriter::new(File::create(out.join(METRICS_FILE))?));
    }
    let device = burn::tensor::Device::flex();
    let mut population = PopulationTrainer::new(cfgs, &device)?;
    while !population.is_done() {
        let records = population.step()?;
        for ((seed_records, m), (trainer, out)) in records.iter().zip(&mut metrics).zip(population.trainers().iter().zip(outs)) {
            for r in seed_records {
                writeln!(m, "{}", r.to_json_line())?;
                if matches!(r, Record::Eval { .. }) {
                    // The population wrote the seed's networks into its agent to evaluate.
                    save_weights(trainer, out)?;
                    m.flush()?;
                }
            }
        }
        progress(&population, &records);
    }
    population.sync_agents();
    for ((m, trainer), out) in metrics.iter_mut().zip(population.trainers()).zip(outs) {
        m.flush()?;
        save_weights(trainer, out)?;
    }
    Ok(population)
}

/// Writes the weights atomically (temp file + rename): a crash mid-write never leaves a
/// half-written weights file in place of a good one.
pub fn save_weights(trainer: &Trainer, out: &Path) -> Result<()> {
    let bytes = checkpoint::save(trainer.agent(), trainer.steps_done())?;
    let tmp = out.join(format!("{WEIGHTS_FILE}.tmp"));
    fs::write(&tmp, bytes)?;
    fs::rename(tmp, out.join(WEIGHTS_FILE))?;
    Ok(())
}

/// Reads every record of a metrics file (skipping none: a bad line is an error).
pub fn read_metrics(path: &Path) -> Result<Vec<Record>> {
    let text = fs::read_to_string(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| crate::AlamError::ConfigParse(format!("{}: {e}", path.display()))))
        .collect()
}
