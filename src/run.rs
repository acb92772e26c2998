//! A whole training run written to a folder: `config.json`, `metrics.jsonl` (one record per
//! line, flushed as it goes), `weights.alam` (weights only) and `checkpoint.alam` (the full
//! training state, every `checkpoint_every` steps, from which [`resume_in_dir`] continues a
//! killed run exactly). Native only (files); the CLI's `train` and `sweep` and the tests share it.
//! A process writes a run folder only while it holds the folder's lock ([`crate::lock`]): the
//! functions here that write one expect their caller to hold it.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::checkpoint;
use crate::config::TrainConfig;
use crate::error::{AlamError, Result};
use crate::lock::{RunLock, LOCK_FILE};
use crate::metrics::Record;
use crate::population::PopulationTrainer;
use crate::trainer::Trainer;

pub const WEIGHTS_FILE: &str = "weights.alam";
pub const METRICS_FILE: &str = "metrics.jsonl";
pub const CONFIG_FILE: &str = "config.json";
/// The full training state (`ALAMRUN2`), replaced atomically at every checkpoint.
pub const CHECKPOINT_FILE: &str = "checkpoint.alam";
/// Written by `alam sweep` once a run has finished (or diverged, which is final too).
pub const DONE_FILE: &str = "done";
/// Every file a run folder may hold (`weights.alam.tmp`: a save cut short).
pub const RUN_FILES: [&str; 7] =
    [CONFIG_FILE, METRICS_FILE, WEIGHTS_FILE, "weights.alam.tmp", DONE_FILE, CHECKPOINT_FILE, "checkpoint.alam.tmp"];

/// An I/O error that says which path and what was being done: "cannot create run folder
/// runs/x: File exists (os error 17)" rather than the bare OS message.
pub fn io_context(path: &Path, what: &str) -> impl FnOnce(std::io::Error) -> crate::AlamError {
    let msg = format!("{what} {}", path.display());
    move |e| crate::AlamError::Io(std::io::Error::new(e.kind(), format!("{msg}: {e}")))
}

/// Makes `out` ready for a new run and takes its lock ([`RunLock`]): created if absent; a folder
/// that another live process holds is refused ([`AlamError::Locked`]); one that already holds
/// files is refused (another run's results would be overwritten) unless `force`, which deletes
/// the run files in it. A folder with anything but run files in it is never emptied: it is not
/// a run folder, so `--force` refuses it too. The run is this process's while the lock lives.
pub fn prepare_run_dir(out: &Path, force: bool) -> Result<RunLock> {
    if out.exists() && !out.is_dir() {
        return Err(AlamError::Io(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("--out {}: exists and is not a folder", out.display()),
        )));
    }
    fs::create_dir_all(out).map_err(io_context(out, "--out: cannot create run folder"))?;
    let lock = RunLock::acquire(out)?;
    let entries: Vec<String> = fs::read_dir(out)
        .map_err(io_context(out, "cannot read run folder"))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|name| name != LOCK_FILE)
        .collect();
    if !entries.is_empty() {
        let foreign: Vec<&String> = entries.iter().filter(|n| !RUN_FILES.contains(&n.as_str())).collect();
        if !foreign.is_empty() {
            return Err(AlamError::Io(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!(
                    "--out {} holds files that are not a run's ({}): choose an empty or new folder",
                    out.display(),
                    foreign.iter().take(3).map(|s| crate::sweep::clip(s, 40)).collect::<Vec<_>>().join(", ")
                ),
            )));
        }
        if !force {
            return Err(AlamError::Io(std::io::Error::new(
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
    Ok(lock)
}

/// Trains `cfg` into `out`, calling `progress` after every step with the records it made.
/// Weights are saved at every evaluation and at the end (also after a divergence, with the
/// last good weights); the full training state every `checkpoint_every` steps and at the end,
/// so a killed run loses nothing ([`resume_in_dir`]).
pub fn train_to_dir(cfg: &TrainConfig, out: &Path, progress: impl FnMut(&Trainer, &[Record])) -> Result<Trainer> {
    let device = burn::tensor::Device::flex();
    // The config is checked before anything is written.
    let trainer = Trainer::new(cfg.clone(), &device)?;
    fs::create_dir_all(out).map_err(io_context(out, "cannot create run folder"))?;
    let (config_path, metrics_path) = (out.join(CONFIG_FILE), out.join(METRICS_FILE));
    fs::write(&config_path, cfg.to_json()).map_err(io_context(&config_path, "cannot write"))?;
    let metrics = File::create(&metrics_path).map_err(io_context(&metrics_path, "cannot create"))?;
    train_loop(trainer, out, metrics, progress)
}

/// How [`resume_in_dir`] picked up a run.
#[derive(Debug, Clone)]
pub struct Resumed {
    pub kind: checkpoint::RunKind,
    /// The step it continues from.
    pub from_step: u64,
    /// What the resumed run does differently, for the user (weights-only: the replay refill).
    pub note: String,
}

/// Continues the run in `dir` from its last checkpoint (`checkpoint.alam`; without one, from
/// `weights.alam` as weights only) to `total_steps` (default: the run's own), appending to its
/// `metrics.jsonl`: the records written after the checkpoint (before a kill) are dropped first,
/// so none is lost or written twice. `started` is told how it resumed before training.
///
/// # Errors
/// [`AlamError::Resume`] with what to do for a folder with no run file, a finished or diverged
/// run, a `total_steps` not past the checkpoint, or a metrics file shorter than the checkpoint
/// says; the loader's errors for a bad file.
pub fn resume_in_dir(
    dir: &Path,
    total_steps: Option<u64>,
    started: impl FnOnce(&Resumed),
    progress: impl FnMut(&Trainer, &[Record]),
) -> Result<Trainer> {
    let (trainer, metrics, resumed) = open_for_resume(dir, total_steps)?;
    started(&resumed);
    train_loop(trainer, dir, metrics, progress)
}

/// The trainer `dir`'s last checkpoint continues with (to `total_steps`, default its own), and
/// its metrics file cut back to the checkpoint's records (see [`resume_in_dir`]).
pub fn open_for_resume(dir: &Path, total_steps: Option<u64>) -> Result<(Trainer, File, Resumed)> {
    let resume_err = |m: String| AlamError::Resume(m);
    if !dir.is_dir() {
        return Err(resume_err(format!("--resume {}: not a folder", dir.display())));
    }
    let (path, full) = match (dir.join(CHECKPOINT_FILE), dir.join(WEIGHTS_FILE)) {
        (c, _) if c.is_file() => (c, true),
        (_, w) if w.is_file() => (w, false),
        _ => {
            return Err(resume_err(format!(
                "--resume {}: no {CHECKPOINT_FILE} or {WEIGHTS_FILE} in it: nothing to resume (a run killed \
                 before its first checkpoint starts again with `alam train --force`)",
                dir.display()
            )))
        }
    };
    let bytes = fs::read(&path).map_err(io_context(&path, "cannot read"))?;
    let device = burn::tensor::Device::flex();
    let (mut trainer, header, kind) =
        checkpoint::load_run(&bytes, &device, None).map_err(|e| resume_err(format!("{}: {e}", path.display())))?;
    if let Some(msg) = trainer.diverged() {
        return Err(resume_err(format!("{}: the run diverged ({msg}); there is nothing to resume", dir.display())));
    }
    let from_step = header.steps;
    let target = total_steps.unwrap_or(header.config.total_steps);
    if target <= from_step {
        return Err(resume_err(match total_steps {
            None => format!(
                "{}: the run has finished ({from_step} of {target} steps); pass --steps N (N > {from_step}) \
                 to train it further",
                dir.display()
            ),
            Some(n) => format!("{}: --steps {n} is not past the run's {from_step} steps", dir.display()),
        }));
    }
    trainer.set_total_steps(target)?;
    // The records the checkpoint already holds stay; the rest is written again.
    let metrics_path = dir.join(METRICS_FILE);
    if !metrics_path.exists() && header.state.as_ref().and_then(|s| s.metrics_len).is_none() {
        // A run file from the page (a file alone in its folder): the records it carries (its
        // history, bounded as the page keeps it) start the metrics file.
        let lines: String = header.history.iter().map(|r| r.to_json_line() + "\n").collect();
        fs::write(&metrics_path, lines).map_err(io_context(&metrics_path, "cannot write"))?;
    }
    let metrics = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&metrics_path)
        .map_err(io_context(&metrics_path, "cannot open"))?;
    let have = metrics.metadata().map_err(io_context(&metrics_path, "cannot read"))?.len();
    let keep = match header.state.as_ref().and_then(|s| s.metrics_len) {
        Some(len) if full => len,
        // Weights only: keep the records up to its step.
        _ => records_through(&metrics_path, from_step)?,
    };
    if keep > have {
        return Err(resume_err(format!(
            "{}: holds {have} bytes, the checkpoint was written after {keep}: the metrics file was cut or replaced",
            metrics_path.display()
        )));
    }
    metrics.set_len(keep).map_err(io_context(&metrics_path, "cannot truncate"))?;
    let config_path = dir.join(CONFIG_FILE);
    fs::write(&config_path, trainer.config().to_json()).map_err(io_context(&config_path, "cannot write"))?;
    let note = kind.note(trainer.config().learning_starts);
    Ok((trainer, metrics, Resumed { kind, from_step, note }))
}

/// The step of `dir`'s full checkpoint when it can be resumed for a run of `cfg` (same
/// config, not diverged, not finished); `None` otherwise.
pub fn resumable_step(dir: &Path, cfg: &TrainConfig) -> Option<u64> {
    let bytes = fs::read(dir.join(CHECKPOINT_FILE)).ok()?;
    let (header, _) = checkpoint::read_header(&bytes).ok()?;
    let state = header.state.as_ref()?;
    (header.config == *cfg
        && state.trainer.counters.diverged.is_none()
        && header.steps < cfg.total_steps
        && dir.join(METRICS_FILE).is_file())
    .then_some(header.steps)
}

/// The byte length of the leading lines of a metrics file whose records are at or before
/// `step` (a line that is no record ends them).
fn records_through(path: &Path, step: u64) -> Result<u64> {
    let text = fs::read(path).map_err(io_context(path, "cannot read"))?;
    let mut len = 0u64;
    for line in text.split_inclusive(|&b| b == b'\n') {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(line) else { break };
        if !line.ends_with(b"\n") || value.get("step").and_then(|s| s.as_u64()).is_none_or(|s| s > step) {
            break;
        }
        len += line.len() as u64;
    }
    Ok(len)
}

/// Steps `trainer` to its end as a population of one (the loop every run trains through),
/// appending its records to `metrics`, saving weights at evaluations and the full state every
/// `checkpoint_every` steps.
fn train_loop(
    trainer: Trainer,
    out: &Path,
    metrics: File,
    mut progress: impl FnMut(&Trainer, &[Record]),
) -> Result<Trainer> {
    let population = PopulationTrainer::from_trainers(vec![trainer])?;
    let outs = [out.to_path_buf()];
    let population =
        population_loop(population, &outs, vec![metrics], |p, records| progress(&p.trainers()[0], &records[0]))?;
    population.into_trainers().pop().ok_or_else(|| AlamError::Resume("a run of no seed".into()))
}

/// Writes the full training state atomically (temp file + rename), with the metrics file's
/// length now (its records so far belong to this state).
pub fn save_checkpoint(trainer: &Trainer, out: &Path, metrics: &File) -> Result<()> {
    let metrics_len = metrics.metadata().map_err(io_context(&out.join(METRICS_FILE), "cannot read"))?.len();
    let bytes = checkpoint::save_run(trainer, Vec::new(), Some(metrics_len))?;
    write_atomically(out, CHECKPOINT_FILE, &bytes)
}

/// `bytes` into `out/name` through `name.tmp` and a rename: a crash mid-write never leaves a
/// half-written file in place of a good one.
fn write_atomically(out: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = out.join(format!("{name}.tmp"));
    let mut f = File::create(&tmp).map_err(io_context(&tmp, "cannot write"))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io_context(&tmp, "cannot write"))?;
    let dest = out.join(name);
    fs::rename(&tmp, &dest).map_err(io_context(&dest, "cannot write"))?;
    Ok(())
}

/// Trains seeds of one config (they differ in their seed only) as one batched population,
/// seed i into `outs[i]`: the same files as [`train_to_dir`] writes for each, saved at the
/// same points (every evaluation, the end; a diverged seed keeps its last good weights).
pub fn train_population_to_dirs(
    cfgs: &[TrainConfig],
    outs: &[PathBuf],
    progress: impl FnMut(&PopulationTrainer, &[Vec<Record>]),
) -> Result<PopulationTrainer> {
    let mut metrics = Vec::with_capacity(outs.len());
    for cfg in cfgs {
        cfg.validate()?;
    }
    for (cfg, out) in cfgs.iter().zip(outs) {
        fs::create_dir_all(out).map_err(io_context(out, "cannot create run folder"))?;
        let (config_path, metrics_path) = (out.join(CONFIG_FILE), out.join(METRICS_FILE));
        fs::write(&config_path, cfg.to_json()).map_err(io_context(&config_path, "cannot write"))?;
        metrics.push(File::create(&metrics_path).map_err(io_context(&metrics_path, "cannot create"))?);
    }
    let device = burn::tensor::Device::flex();
    let population = PopulationTrainer::new(cfgs, &device)?;
    population_loop(population, outs, metrics, progress)
}

/// [`train_population_to_dirs`] going on from the seeds' checkpoints (all at the same step,
/// written at a sync point, as [`train_population_to_dirs`] writes them): exactly where the
/// population stopped, each seed's metrics file cut back to its checkpoint.
pub fn resume_population_in_dirs(
    outs: &[PathBuf],
    progress: impl FnMut(&PopulationTrainer, &[Vec<Record>]),
) -> Result<PopulationTrainer> {
    let mut trainers = Vec::with_capacity(outs.len());
    let mut metrics = Vec::with_capacity(outs.len());
    for out in outs {
        let (t, m, resumed) = open_for_resume(out, None)?;
        if resumed.kind != checkpoint::RunKind::Full {
            return Err(AlamError::Resume(format!(
                "{}: a population resumes from full checkpoints only",
                out.display()
            )));
        }
        trainers.push(t);
        metrics.push(m);
    }
    population_loop(PopulationTrainer::from_trainers(trainers)?, outs, metrics, progress)
}

/// Steps `population` to its end, appending each seed's records to its metrics file, saving
/// weights at evaluations and every seed's full state every `checkpoint_every` steps (while no
/// seed has diverged: the seeds resume together).
fn population_loop(
    mut population: PopulationTrainer,
    outs: &[PathBuf],
    files: Vec<File>,
    mut progress: impl FnMut(&PopulationTrainer, &[Vec<Record>]),
) -> Result<PopulationTrainer> {
    use std::io::Seek;
    let mut metrics = Vec::with_capacity(files.len());
    for (mut f, out) in files.into_iter().zip(outs) {
        f.seek(std::io::SeekFrom::End(0)).map_err(io_context(&out.join(METRICS_FILE), "cannot write"))?;
        metrics.push(BufWriter::new(f));
    }
    let every = population.trainers().first().map_or(1, |t| t.config().checkpoint_every);
    while !population.is_done() {
        let records = population.step()?;
        for ((seed_records, m), (trainer, out)) in
            records.iter().zip(&mut metrics).zip(population.trainers().iter().zip(outs))
        {
            for r in seed_records {
                writeln!(m, "{}", r.to_json_line()).map_err(io_context(&out.join(METRICS_FILE), "cannot write"))?;
                if matches!(r, Record::Eval { .. }) {
                    // The population wrote the seed's networks into its agent to evaluate.
                    save_weights(trainer, out)?;
                    m.flush().map_err(io_context(&out.join(METRICS_FILE), "cannot write"))?;
                }
            }
        }
        let step = population.trainers().iter().map(Trainer::steps_done).max().unwrap_or(0);
        let resumable = population.trainers().iter().all(|t| t.diverged().is_none());
        if step.is_multiple_of(every) && resumable && !population.is_done() {
            population.sync_agents();
            for ((m, trainer), out) in metrics.iter_mut().zip(population.trainers()).zip(outs) {
                m.flush().map_err(io_context(&out.join(METRICS_FILE), "cannot write"))?;
                save_checkpoint(trainer, out, m.get_ref())?;
            }
        }
        progress(&population, &records);
    }
    population.sync_agents();
    for ((m, trainer), out) in metrics.iter_mut().zip(population.trainers()).zip(outs) {
        m.flush().map_err(io_context(&out.join(METRICS_FILE), "cannot write"))?;
        save_weights(trainer, out)?;
        save_checkpoint(trainer, out, m.get_ref())?;
    }
    Ok(population)
}

/// Writes the weights atomically (temp file + rename): a crash mid-write never leaves a
/// half-written weights file in place of a good one.
pub fn save_weights(trainer: &Trainer, out: &Path) -> Result<()> {
    let bytes = checkpoint::save(trainer.agent(), trainer.steps_done())?;
    write_atomically(out, WEIGHTS_FILE, &bytes)
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
    let text = fs::read_to_string(path)
        .map_err(|e| MetricsError { message: format!("cannot read {}: {e}", path.display()), torn_tail: false })?;
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
                    message: format!(
                        "{}: line {}: {what}: {}",
                        path.display(),
                        k + 1,
                        crate::sweep::clip(&e.to_string(), 120)
                    ),
                    torn_tail,
                });
            }
        }
    }
    Ok(records)
}
