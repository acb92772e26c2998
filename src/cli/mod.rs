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

use alam::config::{Algo, TrainConfig};
use alam::env::EnvKind;
use alam::sweep::{apply_overrides, check_not_naming, clip, parse_override, Batching};
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

/// Settings shared by `train` and `sweep`: a config file, then flags, then `--set`.
#[derive(clap::Args, Clone)]
struct ConfigArgs {
    /// JSON config file with every field of the config (see `alam config`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Environment steps.
    #[arg(long)]
    steps: Option<u64>,
    /// Override any config field, e.g. `--set rho=10 --set hidden=64`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Train one agent; writes metrics.jsonl, config.json and weights.alam into --out.
    /// Exits 3 if training diverged (the last good weights are kept).
    #[command(allow_negative_numbers = true)]
    Train {
        #[arg(long, default_value = "double-integrator")]
        env: EnvKind,
        #[arg(long, default_value = "alam")]
        algo: Algo,
        #[arg(long, default_value_t = 0)]
        seed: u64,
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
        #[arg(long, default_value_t = 10)]
        episodes: u64,
        /// Seed of the evaluation env.
        #[arg(long, default_value_t = 12345)]
        seed: u64,
    },
    /// Run a grid of envs × algos × seeds (× variants), optionally one shard of it.
    /// The whole grid is checked before any run trains; a run already done is skipped if its
    /// stored config is the one asked for. Exits 3 if a run diverged.
    #[command(allow_negative_numbers = true)]
    Sweep {
        #[arg(long, value_delimiter = ',', default_value = "double-integrator")]
        envs: Vec<EnvKind>,
        #[arg(long, value_delimiter = ',', default_value = "sac,lag,pid-lag,fac,alam")]
        algos: Vec<Algo>,
        #[arg(long, value_delimiter = ',', default_value = "0")]
        seeds: Vec<u64>,
        /// Named override sets, each a run of its own: `rho10:rho=10,multiplier_every=4`.
        #[arg(long = "variant")]
        variants: Vec<String>,
        #[command(flatten)]
        cfg: ConfigArgs,
        /// Run only shard i of n (0-based), e.g. `$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`:
        /// every n-th group of seeds (env × algo × variant), or every n-th run with
        /// `--population off`.
        #[arg(long, default_value = "0/1")]
        shard: String,
        /// Train the seeds of a group (same env, algo and variant) as one population, each
        /// update one batched call for all of them (same files per run): `auto` (all its
        /// seeds at once), `off` (one run at a time, as `alam train`) or N (at most N seeds).
        #[arg(long, default_value = "auto")]
        population: Batching,
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
        #[arg(long, default_value_t = 300)]
        updates: u64,
        #[arg(long, default_value_t = 32)]
        obs_dim: usize,
        #[arg(long, default_value_t = 2)]
        act_dim: usize,
        #[arg(long, default_value_t = 256)]
        batch: usize,
        #[arg(long, default_value_t = 256)]
        hidden: usize,
        /// Environment steps timed per env.
        #[arg(long, default_value_t = 2_000_000)]
        env_steps: u64,
        /// `cpu` (burn's pure-Rust flex device) or `vulkan` (wgpu, needs the `vulkan` feature).
        #[arg(long, default_value = "cpu")]
        device: String,
        /// Instead: N seeds' updates as N separate agents vs one batched call of N stacked agents.
        #[arg(long)]
        population: Option<usize>,
        /// K: updates per host read (the config's `sync_every`).
        #[arg(long, default_value_t = 16)]
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
        Command::Eval { weights, episodes, seed } => eval::run(weights, episodes, seed),
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

/// Preset of env × algo, then the config file, then `--steps`, then `--set` overrides.
fn build_config(
    env: EnvKind,
    algo: Algo,
    seed: u64,
    args: &ConfigArgs,
    extra: &[(String, String)],
) -> Result<TrainConfig> {
    let mut cfg = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| AlamError::ConfigParse(format!("{}: {e}", path.display())))?;
            TrainConfig::from_json(&text).map_err(|e| AlamError::ConfigParse(format!("{}: {e}", path.display())))?
        }
        None => TrainConfig::preset(env, algo),
    };
    // Flags name the run; a config file gives the hyper-parameters.
    cfg.env = env;
    cfg.algo = algo;
    cfg.seed = seed;
    if let Some(steps) = args.steps {
        cfg.total_steps = steps;
    }
    let mut overrides = args.set.iter().map(|s| parse_override(s)).collect::<Result<Vec<_>>>()?;
    // `--set seed=5` would train every seed of a sweep as seed 5 under their own names.
    check_not_naming(&overrides)?;
    overrides.extend_from_slice(extra);
    apply_overrides(&cfg, &overrides)
}
