//! The `alam` command line: the clap types, the exit codes, and dispatch to one module per subcommand.

mod bench;
mod config;
mod eval;
mod history;
mod report;
mod sweep;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use alam::config::{Algo, TrainConfig, MAX_SEED, SEED_RANGE};
use alam::env::EnvKind;
use alam::sweep::{apply_overrides, check_not_naming, clip, parse_override, parse_shard, PopulationSize};
use alam::{AlamError, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "alam",
    version,
    about = "ALaM Playground: safe RL with state-wise constraints (SAC-ALaM and baselines)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Settings shared by `train` and `sweep`. Precedence, lowest first: the env × algo's preset
/// (without `--config`) or the config file's values; the flags given on the command line; `--set`.
#[derive(clap::Args, Clone)]
struct ConfigArgs {
    /// JSON config file with every field of the config (see `alam config`). Its values stand
    /// unless a flag given on the command line overrides them (--env, --algo, --seed, --steps;
    /// a sweep's --envs, --algos, --seeds); `--set` overrides both.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Environment steps (total_steps) [default: the preset's, or the config file's].
    #[arg(long, value_parser = whole::<u64>)]
    steps: Option<u64>,
    /// Override any config field, e.g. `--set rho=10 --set hidden=64`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Train one agent; writes metrics.jsonl, config.json and weights.alam into --out.
    /// Exits 3 if training diverged (the last good weights are kept).
    ///
    /// The config: the preset of --env × --algo, or with --config that file's values; a flag
    /// given on the command line (--env, --algo, --seed, --steps) overrides the file's value;
    /// --set overrides both.
    ///
    /// One process per run folder: while a process trains (or resumes) a run, its folder holds
    /// a `lock` file naming it, and another `train --out`/`--resume` on that folder is refused
    /// with the holder's pid. A lock left by a killed process is taken over, with a note.
    #[command(allow_negative_numbers = true)]
    Train {
        /// [default: double-integrator, or the --config file's env]
        #[arg(long)]
        env: Option<EnvKind>,
        /// [default: alam, or the --config file's algo]
        #[arg(long)]
        algo: Option<Algo>,
        /// 0 ≤ seed ≤ 2^53 − 1 [default: 0, or the --config file's seed]
        #[arg(long, value_parser = seed_value)]
        seed: Option<u64>,
        #[command(flatten)]
        cfg: ConfigArgs,
        /// The run's folder: new or empty (see --force).
        #[arg(long, default_value = "runs/train")]
        out: PathBuf,
        /// Replace the run already in --out (its run files are deleted first).
        #[arg(long)]
        force: bool,
        /// No progress bar (for logs and CI).
        #[arg(long)]
        quiet: bool,
        /// Continue the run in this folder from its last checkpoint (checkpoint.alam; else
        /// weights.alam, weights only) to --steps total steps (default: its own total_steps),
        /// appending to its metrics.jsonl. The run keeps its config: no --set, --config or
        /// naming flags.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["env", "algo", "seed", "config", "set", "out", "force"])]
        resume: Option<PathBuf>,
    },
    /// Evaluate saved weights with the deterministic policy.
    #[command(allow_negative_numbers = true)]
    Eval {
        #[arg(long)]
        weights: PathBuf,
        #[arg(long, default_value_t = 10, value_parser = whole::<u64>)]
        episodes: u64,
        /// Seed of the evaluation env (0 ≤ seed ≤ 2^53 − 1).
        #[arg(long, default_value_t = 12345, value_parser = seed_value)]
        seed: u64,
        /// Also list each episode's return, cost and violating steps.
        #[arg(long)]
        per_episode: bool,
    },
    /// Run a grid of envs × algos × seeds (× variants), optionally one shard of it.
    /// The whole grid is checked before any run trains; a run already done is skipped if its
    /// stored config is the one asked for. Exits 3 if a run diverged.
    ///
    /// Each run's config: the preset of its env × algo, or with --config that file's values;
    /// --envs, --algos, --seeds and --steps given on the command line override the file's;
    /// --set and a variant's settings override both.
    ///
    /// Two sweeps over one --out (a shard run twice by mistake, or two shards sharing it) never
    /// train one run at once: a process claims a run's folder (its `lock` file; for a
    /// population, every seed's folder) before training it and lets go when done. A sweep skips
    /// the runs another live process holds, naming its pid, trains the rest and exits 0; run it
    /// again after the other ends to check them. A lock left by a killed process is taken over,
    /// with a note.
    #[command(allow_negative_numbers = true)]
    Sweep {
        /// [default: double-integrator, or the --config file's env]
        #[arg(long, value_delimiter = ',')]
        envs: Option<Vec<EnvKind>>,
        /// [default: sac,lag,pid-lag,fac,alam, or the --config file's algo]
        #[arg(long, value_delimiter = ',')]
        algos: Option<Vec<Algo>>,
        /// Each 0 ≤ seed ≤ 2^53 − 1 [default: 0, or the --config file's seed]
        #[arg(long, value_delimiter = ',', value_parser = seed_value, allow_hyphen_values = true)]
        seeds: Option<Vec<u64>>,
        /// Named override sets, each a run of its own: `rho10:rho=10,multiplier_every=4`.
        #[arg(long = "variant")]
        variants: Vec<String>,
        #[command(flatten)]
        cfg: ConfigArgs,
        /// Run only shard i of n (0-based), e.g. `$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`:
        /// every n-th group of seeds (env × algo × variant), or every n-th run with
        /// `--population off`.
        #[arg(long, default_value = "0/1", value_parser = shard_value, allow_hyphen_values = true)]
        shard: (usize, usize),
        /// Train the seeds of a group (same env, algo and variant) as one population, each
        /// update one batched call for all of them (same files per run): `auto` (all its
        /// seeds at once), `off` (one run at a time, as `alam train`) or N (at most N seeds).
        #[arg(long, default_value = "auto")]
        population: PopulationSize,
        #[arg(long, default_value = "runs/sweep")]
        out: PathBuf,
        /// Train again (replacing them) the done runs whose stored config differs from the
        /// one asked for, instead of refusing.
        #[arg(long)]
        force: bool,
    },
    /// Throughput: one JSON object on stdout.
    #[command(allow_negative_numbers = true)]
    Bench {
        /// Timed SAC-ALaM updates.
        #[arg(long, default_value_t = 300, value_parser = whole::<u64>)]
        updates: u64,
        #[arg(long, default_value_t = 32, value_parser = whole::<usize>)]
        obs_dim: usize,
        #[arg(long, default_value_t = 2, value_parser = whole::<usize>)]
        act_dim: usize,
        #[arg(long, default_value_t = 256, value_parser = whole::<usize>)]
        batch: usize,
        #[arg(long, default_value_t = 256, value_parser = whole::<usize>)]
        hidden: usize,
        /// Environment steps timed per env.
        #[arg(long, default_value_t = 2_000_000, value_parser = whole::<u64>)]
        env_steps: u64,
        /// `cpu` (burn's pure-Rust flex device) or `vulkan` (wgpu, needs the `vulkan` feature).
        #[arg(long, default_value = "cpu")]
        device: String,
        /// Instead: N seeds' updates as N separate agents vs one batched call of N stacked agents.
        #[arg(long, value_parser = whole::<usize>)]
        population: Option<usize>,
        /// K: updates per host read (the config's `sync_every`).
        #[arg(long, default_value_t = 16, value_parser = whole::<u64>)]
        sync_every: u64,
        /// The algorithm whose update is timed.
        #[arg(long, default_value = "alam")]
        algo: Algo,
    },
    /// Score a sweep's runs against the paper's claims: summary.json and SVG figures.
    Report {
        /// A sweep's output folder (one subfolder per run).
        #[arg(long, default_value = "runs/sweep")]
        runs: PathBuf,
        #[arg(long, default_value = "reports")]
        out: PathBuf,
    },
    /// Write a run's records (its metrics.jsonl, bounded as the page's saves are) into its run
    /// file, so the page draws the run's curves as soon as the file loads.
    EmbedHistory {
        /// The run's folder (from `alam train`): its metrics.jsonl and weights.alam.
        #[arg(long)]
        run: PathBuf,
        /// Where to write the file with its history (default: the run file, replaced).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Into the run's full training state (checkpoint.alam: replay, optimiser moments,
        /// RNGs; a file a page trains on from exactly where the run stopped) instead of its
        /// weights-only weights.alam.
        #[arg(long)]
        full: bool,
    },
    /// Print the default config of an env × algo as JSON (a starting point for --config).
    Config {
        #[arg(long, default_value = "double-integrator")]
        env: EnvKind,
        #[arg(long, default_value = "alam")]
        algo: Algo,
        /// Instead: every field, one a line, with its default, its allowed range and what it is.
        #[arg(long)]
        explain: bool,
    },
}

/// Exit status of a command that ran but whose training diverged (weights kept): scripts
/// can tell it from success (0) and from a refused or failed command (2).
const EXIT_DIVERGED: u8 = 3;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            // clap quotes the bad value whole: a 50 MB argument is not echoed back.
            eprint!("{}", clip_message(&e.render().to_string()));
            return ExitCode::from(2);
        }
    };
    match run(cli.command) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Diverged(n)) => {
            eprintln!("error: {n} run(s) diverged (see above; their last good weights were kept)");
            ExitCode::from(EXIT_DIVERGED)
        }
        Ok(Outcome::Failed) => ExitCode::from(EXIT_DIVERGED),
        Err(e) => {
            eprintln!("error: {}", clip_message(&e.to_string()));
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<Outcome> {
    match command {
        Command::Train { resume: Some(dir), cfg, quiet, .. } => train::resume(dir, cfg.steps, quiet),
        Command::Train { env, algo, seed, cfg, out, force, quiet, resume: None } => {
            train::run(env, algo, seed, cfg, out, force, quiet)
        }
        Command::Eval { weights, episodes, seed, per_episode } => eval::run(weights, episodes, seed, per_episode),
        Command::Sweep { envs, algos, seeds, variants, cfg, shard, population, out, force } => {
            sweep::run(envs, algos, seeds, variants, cfg, shard, population, out, force)
        }
        Command::Bench {
            updates,
            obs_dim,
            act_dim,
            batch,
            hidden,
            env_steps,
            device,
            population,
            sync_every,
            algo,
        } => bench::run(updates, obs_dim, act_dim, batch, hidden, env_steps, device, population, sync_every, algo),
        Command::Report { runs, out } => report::run(runs, out),
        Command::EmbedHistory { run, out, full } => history::run(run, out, full),
        Command::Config { env, algo, explain } => config::run(env, algo, explain),
    }
}

/// A message as printed: every word longer than 200 characters clipped, and the whole
/// message to 4000 characters (a value is never echoed back whole).
fn clip_message(msg: &str) -> String {
    let clipped: String = msg
        .split_inclusive(char::is_whitespace)
        .map(|w| if w.chars().count() > 200 { clip(w, 200) + " " } else { w.to_string() })
        .collect();
    let mut out = clip(&clipped, 4000);
    if msg.ends_with('\n') && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// How a command that did not fail ended.
enum Outcome {
    Done,
    /// This many runs stopped on a non-finite loss.
    Diverged(usize),
    /// An evaluated policy failed (a non-finite action or state): said where it happened.
    Failed,
}

/// A CLI number checked like a config field: named by its flag, with its range.
fn flag_in(flag: &'static str, v: u64, lo: u64, hi: u64, allowed: &'static str) -> Result<()> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(AlamError::Config { field: flag, value: v.to_string(), allowed })
    }
}

/// A whole-number flag's value, refused with a sentence where clap would say "invalid digit
/// found in string" (`--steps -5`, `--episodes 1e3`); each flag's range is checked where it is
/// used, by its name.
fn whole<T: TryFrom<u128>>(s: &str) -> std::result::Result<T, String> {
    let t = s.trim();
    if t.strip_prefix('-').is_some_and(|r| r.parse::<f64>().is_ok()) {
        return Err("must be a whole number ≥ 0, not negative".into());
    }
    let n: u128 = t.parse().map_err(|_| "must be a whole number ≥ 0 (digits only, e.g. 1000)".to_string())?;
    T::try_from(n).map_err(|_| "is too large for this flag".to_string())
}

/// `--shard i/n`: shard i of n, counted from 0.
fn shard_value(s: &str) -> std::result::Result<(usize, usize), String> {
    parse_shard(s).map_err(|_| "must be i/n with 0 ≤ i < n (shard i of n, from 0), e.g. 0/4".into())
}

/// A seed (`--seed`, each of `--seeds`): 0 ≤ seed ≤ 2^53 − 1, as [`TrainConfig::validate`]
/// checks it.
fn seed_value(s: &str) -> std::result::Result<u64, String> {
    whole::<u64>(s).ok().filter(|&n| n <= MAX_SEED).ok_or_else(|| format!("a seed {SEED_RANGE}"))
}

/// The `--config` file's config, if one was given: parsed, but not checked yet (flags and
/// `--set` may change it; the config they make is checked as a whole).
///
/// # Errors
/// [`AlamError::ConfigParse`] naming the file when it cannot be read or is not a full config.
fn read_config_file(args: &ConfigArgs) -> Result<Option<TrainConfig>> {
    let Some(path) = &args.config else { return Ok(None) };
    let named = |e: &dyn std::fmt::Display| AlamError::ConfigParse(format!("{}: {e}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| named(&e))?;
    serde_json::from_str(&text).map(Some).map_err(|e| named(&e))
}

/// One run's config. Precedence, lowest first: the preset of the env × algo (no config file)
/// or the config file's values (`file`); the flags given on the command line (`env`, `algo`,
/// `seed`: `None` when not given; `--steps`); `--set`, then a variant's overrides (`extra`).
fn build_config(
    file: Option<&TrainConfig>,
    env: Option<EnvKind>,
    algo: Option<Algo>,
    seed: Option<u64>,
    args: &ConfigArgs,
    extra: &[(String, String)],
) -> Result<TrainConfig> {
    let mut cfg = match file {
        Some(file) => file.clone(),
        None => TrainConfig::preset(env.unwrap_or(DEFAULT_ENV), algo.unwrap_or(DEFAULT_ALGO)),
    };
    if let Some(env) = env {
        cfg.env = env;
    }
    if let Some(algo) = algo {
        cfg.algo = algo;
    }
    if let Some(seed) = seed {
        cfg.seed = seed;
    }
    if let Some(steps) = args.steps {
        cfg.total_steps = steps;
    }
    let mut overrides = args.set.iter().map(|s| parse_override(s)).collect::<Result<Vec<_>>>()?;
    // `--set seed=5` would train every seed of a sweep as seed 5 under their own names.
    check_not_naming(&overrides)?;
    overrides.extend_from_slice(extra);
    apply_overrides(&cfg, &overrides)
}

/// The env and algo of `train` (and the env of `sweep`, whose algos are then all five) when
/// neither a flag nor a config file gives one.
const DEFAULT_ENV: EnvKind = EnvKind::DoubleIntegrator;
const DEFAULT_ALGO: Algo = Algo::Alam;
