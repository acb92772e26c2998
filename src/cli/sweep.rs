//! `alam sweep`: a grid of runs (or one shard of it), done runs checked and skipped.

use std::path::{Path, PathBuf};

use alam::config::{Algo, TrainConfig};
use alam::env::EnvKind;
use alam::lock::{describe, Claim, RunLock};
use alam::run::{
    io_context, resumable_step, resume_in_dir, resume_population_in_dirs, train_population_to_dirs, CONFIG_FILE,
    DONE_FILE, METRICS_FILE, WEIGHTS_FILE,
};
use alam::sweep::{clip, grid, seed_groups, shard, Cell, PopulationSize};
use alam::{checkpoint, AlamError, Result};

use super::train::{suspects, train};
use super::{build_config, read_config_file, ConfigArgs, Outcome, DEFAULT_ENV};

/// `alam sweep`: `envs`, `algos` and `seeds` are `None` where not given on the command line
/// (then the config file's one value, else the defaults).
// One parameter per flag of the subcommand.
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    envs: Option<Vec<EnvKind>>,
    algos: Option<Vec<Algo>>,
    seeds: Option<Vec<u64>>,
    variants: Vec<String>,
    args: ConfigArgs,
    (i, n): (usize, usize),
    population: PopulationSize,
    out: PathBuf,
    force: bool,
) -> Result<Outcome> {
    let file = read_config_file(&args)?;
    let envs = envs.unwrap_or_else(|| vec![file.as_ref().map_or(DEFAULT_ENV, |f| f.env)]);
    let algos = algos.unwrap_or_else(|| file.as_ref().map_or(Algo::ALL.to_vec(), |f| vec![f.algo]));
    let seeds = seeds.unwrap_or_else(|| vec![file.as_ref().map_or(0, |f| f.seed)]);
    let cells = grid(&envs, &algos, &seeds, &variants)?;
    // The whole grid's configs, every shard's, before anything trains: a bad variant
    // is refused before a good one has spent hours.
    let mut cfgs: Vec<(String, TrainConfig)> = Vec::with_capacity(cells.len());
    for c in &cells {
        let built = build_config(file.as_ref(), Some(c.env), Some(c.algo), Some(c.seed), &args, &c.overrides)
            .map_err(|e| AlamError::ConfigParse(format!("run {}: {}", c.dir_name(), clip(&e.to_string(), 300))))?;
        cfgs.push((c.dir_name(), built));
    }
    let config_of = |c: &Cell| -> TrainConfig {
        // Every cell's config was built above.
        cfgs.iter().find(|(d, _)| *d == c.dir_name()).map(|(_, t)| t.clone()).unwrap_or_default()
    };
    let mut warned = std::collections::BTreeSet::new();
    for (name, c) in &cfgs {
        for w in c.warnings() {
            if warned.insert(w.clone()) {
                eprintln!("warning: {w} (first: {name})");
            }
        }
    }
    if out.exists() && !out.is_dir() {
        return Err(AlamError::Io(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("--out {}: exists and is not a folder", out.display()),
        )));
    }
    let units: Vec<Vec<Cell>> = match population {
        PopulationSize::Off => shard(cells, i, n).into_iter().map(|c| vec![c]).collect(),
        _ => shard(seed_groups(cells), i, n),
    };
    let (todo_units, skipped) = plan(units, &out, force, &config_of)?;
    std::fs::create_dir_all(&out).map_err(io_context(&out, "--out: cannot create sweep folder"))?;
    let total: usize = todo_units.iter().map(Vec::len).sum::<usize>() + skipped.len();
    eprintln!("shard {i}/{n}: {total} runs into {}", out.display());
    for name in &skipped {
        eprintln!("{name} already done, skipped");
    }
    let mut k = skipped.len();
    let (mut diverged, mut held) = (0, 0);
    for todo in todo_units {
        for chunk in todo.chunks(population.max_seeds()) {
            k += chunk.len();
            let (d, h) = train_chunk(chunk, &out, force, &config_of, (k, total))?;
            (diverged, held) = (diverged + d, held + h);
        }
    }
    if held > 0 {
        eprintln!(
            "{held} run(s) held by other processes were skipped: run this sweep again once they end to check them"
        );
    }
    Ok(if diverged > 0 { Outcome::Diverged(diverged) } else { Outcome::Done })
}

/// The runs of `units` still to train, and the names of those done and skipped. A done run's
/// stored config must be the one asked for (else refused, or with `force` trained again), and
/// a done run missing a file is trained again.
fn plan(
    units: Vec<Vec<Cell>>,
    out: &Path,
    force: bool,
    config_of: &impl Fn(&Cell) -> TrainConfig,
) -> Result<(Vec<Vec<Cell>>, Vec<String>)> {
    let mut todo_units = Vec::new();
    let mut skipped = Vec::new();
    let mut differ = Vec::new();
    for unit in units {
        let mut todo = Vec::new();
        for cell in unit {
            let dir = out.join(cell.dir_name());
            match done_state(&dir, &config_of(&cell)) {
                DoneRun::NotDone => todo.push(cell),
                DoneRun::Done => skipped.push(cell.dir_name()),
                DoneRun::Incomplete(why) => {
                    eprintln!("{} is marked done but {why}: training it again", cell.dir_name());
                    todo.push(cell);
                }
                DoneRun::Differs(fields) if force => {
                    eprintln!(
                        "{} was done with another config ({}): --force, training it again",
                        cell.dir_name(),
                        clip(&fields.join(", "), 300)
                    );
                    todo.push(cell);
                }
                DoneRun::Differs(fields) => {
                    differ.push(format!("{} ({})", cell.dir_name(), clip(&fields.join(", "), 300)))
                }
            }
        }
        todo_units.push(todo);
    }
    if !differ.is_empty() {
        return Err(AlamError::ConfigParse(format!(
            "{} done run(s) in {} were trained with another config than the one asked for: {}. \
             Use another --out, the same settings, or --force to train them again",
            differ.len(),
            out.display(),
            clip(&differ.join("; "), 1000)
        )));
    }
    Ok((todo_units, skipped))
}

/// Trains one chunk of runs (one population, or one run): claims every run's folder first (a
/// population's seeds together) and lets the locks go once the chunk is done; a run another
/// process holds, or finished meanwhile, is skipped. `(k, total)` numbers the progress line.
/// Returns the runs that diverged and the runs skipped because another process held them.
fn train_chunk(
    chunk: &[Cell],
    out: &Path,
    force: bool,
    config_of: &impl Fn(&Cell) -> TrainConfig,
    (k, total): (usize, usize),
) -> Result<(usize, usize)> {
    let mut held = 0;
    let mut claimed: Vec<(&Cell, RunLock)> = Vec::with_capacity(chunk.len());
    for cell in chunk {
        let (name, dir) = (cell.dir_name(), out.join(cell.dir_name()));
        std::fs::create_dir_all(&dir).map_err(io_context(&dir, "cannot create run folder"))?;
        let lock = match RunLock::try_acquire(&dir)? {
            Claim::Taken(lock) => lock,
            Claim::HeldBy(holder) => {
                eprintln!("{name} is being trained by {}: skipped", describe(holder.as_ref()));
                held += 1;
                continue;
            }
        };
        if let Some(note) = lock.stale_note() {
            eprintln!("{note}");
        }
        // Another process may have finished it since this sweep looked.
        match done_state(&dir, &config_of(cell)) {
            DoneRun::Done => eprintln!("{name} was finished by another process meanwhile: skipped"),
            DoneRun::Differs(_) if !force => {
                eprintln!("{name} was finished by another process meanwhile, with another config: skipped")
            }
            _ => claimed.push((cell, lock)),
        }
    }
    if claimed.is_empty() {
        return Ok((0, held));
    }
    let cfgs: Vec<TrainConfig> = claimed.iter().map(|(c, _)| config_of(c)).collect();
    let dirs: Vec<PathBuf> = claimed.iter().map(|(c, _)| out.join(c.dir_name())).collect();
    let names: Vec<String> = claimed.iter().map(|(c, _)| c.dir_name()).collect();
    for dir in &dirs {
        // A run not done is the sweep's own, cut short: resumed from its checkpoint below when
        // it has one for this config, else started over.
        let stale = dir.join(DONE_FILE);
        if stale.exists() {
            std::fs::remove_file(&stale).map_err(io_context(&stale, "cannot remove"))?;
        }
    }
    let resume_at: Vec<Option<u64>> = dirs.iter().zip(&cfgs).map(|(d, c)| resumable_step(d, c)).collect();
    let diverged = if claimed.len() == 1 {
        eprintln!("[{k}/{total}] {}", names[0]);
        match resume_at[0] {
            Some(step) => {
                eprintln!("resuming {} from its checkpoint at step {step}", names[0]);
                resume_in_dir(&dirs[0], None, |_| {}, |_, _| {})?.diverged().is_some() as usize
            }
            None => train(&cfgs[0], &dirs[0], true)? as usize,
        }
    } else if resume_at.iter().all(|s| s.is_some() && *s == resume_at[0]) {
        eprintln!(
            "[{k}/{total}] {} (one population, resumed from step {})",
            names.join(", "),
            resume_at[0].unwrap_or(0)
        );
        report_population(resume_population_in_dirs(&dirs, |_, _| {})?, &dirs)
    } else {
        eprintln!("[{k}/{total}] {} (one population)", names.join(", "));
        report_population(train_population_to_dirs(&cfgs, &dirs, |_, _| {})?, &dirs)
    };
    for dir in &dirs {
        let done = dir.join(DONE_FILE);
        std::fs::write(&done, "").map_err(io_context(&done, "cannot write"))?;
    }
    drop(claimed);
    Ok((diverged, held))
}

/// Whether a done run's folder holds what was asked for: its stored config is `cfg` and
/// the files a finished run has are there.
enum DoneRun {
    NotDone,
    Done,
    /// Done with another config: the fields that differ.
    Differs(Vec<String>),
    /// Marked done but a file is missing or unreadable.
    Incomplete(String),
}

fn done_state(dir: &Path, cfg: &TrainConfig) -> DoneRun {
    if !dir.join(DONE_FILE).exists() {
        return DoneRun::NotDone;
    }
    for f in [CONFIG_FILE, METRICS_FILE, WEIGHTS_FILE] {
        if !dir.join(f).is_file() {
            return DoneRun::Incomplete(format!("{f} is missing"));
        }
    }
    let stored = match std::fs::read_to_string(dir.join(CONFIG_FILE))
        .map_err(AlamError::from)
        .and_then(|t| TrainConfig::from_json(&t))
    {
        Ok(c) => c,
        Err(e) => return DoneRun::Incomplete(format!("{CONFIG_FILE}: {}", clip(&e.to_string(), 200))),
    };
    if &stored != cfg {
        let (a, b) = (serde_json::to_value(&stored).unwrap_or_default(), serde_json::to_value(cfg).unwrap_or_default());
        let fields = a
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(k, v)| b.get(k.as_str()) != Some(v))
                    .map(|(k, v)| format!("{k}: {v} → {}", b[k.as_str()]))
                    .collect()
            })
            .unwrap_or_default();
        return DoneRun::Differs(fields);
    }
    match std::fs::read(dir.join(WEIGHTS_FILE))
        .map_err(AlamError::from)
        .and_then(|b| checkpoint::read_header(&b).map(|(h, _)| h))
    {
        Ok(h) if h.config != *cfg => DoneRun::Incomplete(format!("{WEIGHTS_FILE} was made with another config")),
        Ok(_) => DoneRun::Done,
        Err(e) => DoneRun::Incomplete(format!("{WEIGHTS_FILE}: {}", clip(&e.to_string(), 200))),
    }
}

/// How each seed of a population ended, on stderr; how many diverged.
fn report_population(population: alam::population::PopulationTrainer, dirs: &[PathBuf]) -> usize {
    let mut diverged = 0;
    for (t, dir) in population.trainers().iter().zip(dirs) {
        let weights = dir.join(WEIGHTS_FILE);
        match t.diverged() {
            Some(msg) => {
                diverged += 1;
                eprintln!(
                    "{} diverged at step {}: {msg}; last good weights in {}{}",
                    dir.display(),
                    t.steps_done(),
                    weights.display(),
                    suspects(t.config())
                );
            }
            None => eprintln!(
                "done: {} steps, {} episodes; weights in {}",
                t.steps_done(),
                t.episodes_done(),
                weights.display()
            ),
        }
    }
    diverged
}
