//! `alam`: headless training, evaluation, sweeps and benchmarks (native only; the browser
//! build has its own entry).

/// burn's CPU device allocates a fresh buffer for every op; glibc hands large ones back to the
/// OS each time (a page fault per touch), mimalloc keeps and reuses them (measured: BENCHMARKS.md).
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;
    use std::time::Duration;

    use alam::config::{Algo, TrainConfig};
    use alam::env::{make_env, EnvKind};
    use alam::metrics::Record;
    use alam::run::{io_context, prepare_run_dir, train_population_to_dirs, train_to_dir, CONFIG_FILE, DONE_FILE, METRICS_FILE, WEIGHTS_FILE};
    use alam::sweep::{apply_overrides, check_not_naming, clip, grid, parse_override, parse_shard, seed_groups, shard, Batching, Cell};
    use alam::trainer::evaluate_policy;
    use alam::{bench, checkpoint, AlamError, Result};
    use clap::{Parser, Subcommand};
    use indicatif::{ProgressBar, ProgressStyle};

    #[derive(Parser)]
    #[command(name = "alam", version, about = "ALaM Playground: safe RL with state-wise constraints (SAC-ALaM and baselines)")]
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
        /// Print the default config of an env × algo as JSON (a starting point for --config).
        Config {
            #[arg(long, default_value = "double-integrator")]
            env: EnvKind,
            #[arg(long, default_value = "alam")]
            algo: Algo,
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
                if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) {
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
            Err(e) => {
                eprintln!("error: {}", clip_message(&e.to_string()));
                ExitCode::from(2)
            }
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
    }

    /// A CLI number checked like a config field: named by its flag, with its range.
    fn flag_in(flag: &'static str, v: u64, lo: u64, hi: u64, allowed: &'static str) -> Result<()> {
        if (lo..=hi).contains(&v) {
            Ok(())
        } else {
            Err(AlamError::Config { field: flag, value: v.to_string(), allowed })
        }
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
        let stored = match std::fs::read_to_string(dir.join(CONFIG_FILE)).map_err(AlamError::from).and_then(|t| TrainConfig::from_json(&t)) {
            Ok(c) => c,
            Err(e) => return DoneRun::Incomplete(format!("{CONFIG_FILE}: {}", clip(&e.to_string(), 200))),
        };
        if &stored != cfg {
            let (a, b) = (serde_json::to_value(&stored).unwrap_or_default(), serde_json::to_value(cfg).unwrap_or_default());
            let fields = a
                .as_object()
                .map(|o| o.iter().filter(|(k, v)| b.get(k.as_str()) != Some(v)).map(|(k, v)| format!("{k}: {v} → {}", b[k.as_str()])).collect())
                .unwrap_or_default();
            return DoneRun::Differs(fields);
        }
        match std::fs::read(dir.join(WEIGHTS_FILE)).map_err(AlamError::from).and_then(|b| checkpoint::read_header(&b).map(|(h, _)| h)) {
            Ok(h) if h.config != *cfg => DoneRun::Incomplete(format!("{WEIGHTS_FILE} was made with another config")),
            Ok(_) => DoneRun::Done,
            Err(e) => DoneRun::Incomplete(format!("{WEIGHTS_FILE}: {}", clip(&e.to_string(), 200))),
        }
    }

    fn run(command: Command) -> Result<Outcome> {
        match command {
            Command::Train { env, algo, seed, cfg, out, force, quiet } => {
                let cfg = build_config(env, algo, seed, &cfg, &[])?;
                for w in cfg.warnings() {
                    eprintln!("warning: {w}");
                }
                prepare_run_dir(&out, force)?;
                Ok(if train(&cfg, &out, quiet)? { Outcome::Diverged(1) } else { Outcome::Done })
            }
            Command::Eval { weights, episodes, seed } => {
                flag_in("--episodes", episodes, 1, 100_000, "must be in 1..=100000")?;
                eval(&weights, episodes, seed)?;
                Ok(Outcome::Done)
            }
            Command::Sweep { envs, algos, seeds, variants, cfg, shard: s, population, out, force } => {
                let (i, n) = parse_shard(&s)?;
                let cells = grid(&envs, &algos, &seeds, &variants)?;
                // The whole grid's configs, every shard's, before anything trains: a bad variant
                // is refused before a good one has spent hours.
                let mut cfgs: Vec<(String, TrainConfig)> = Vec::with_capacity(cells.len());
                for c in &cells {
                    let built = build_config(c.env, c.algo, c.seed, &cfg, &c.overrides)
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
                    return Err(AlamError::Io(std::io::Error::new(std::io::ErrorKind::AlreadyExists, format!("--out {}: exists and is not a folder", out.display()))));
                }
                let units: Vec<Vec<Cell>> = match population {
                    Batching::Off => shard(cells, i, n).into_iter().map(|c| vec![c]).collect(),
                    _ => shard(seed_groups(cells), i, n),
                };
                // Done runs: the stored config must be the one asked for (else refused, or with
                // --force trained again), and a done run missing a file is trained again.
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
                                eprintln!("{} was done with another config ({}): --force, training it again", cell.dir_name(), clip(&fields.join(", "), 300));
                                todo.push(cell);
                            }
                            DoneRun::Differs(fields) => differ.push(format!("{} ({})", cell.dir_name(), clip(&fields.join(", "), 300))),
                        }
                    }
                    todo_units.push(todo);
                }
                if !differ.is_empty() {
                    return Err(AlamError::ConfigParse(format!(
                        "{} done run(s) in {} were trained with another config than the one asked for: {}. Use another --out, the same settings, or --force to train them again",
                        differ.len(),
                        out.display(),
                        clip(&differ.join("; "), 1000)
                    )));
                }
                std::fs::create_dir_all(&out).map_err(io_context(&out, "--out: cannot create sweep folder"))?;
                let total: usize = todo_units.iter().map(Vec::len).sum::<usize>() + skipped.len();
                eprintln!("shard {i}/{n}: {total} runs into {}", out.display());
                for name in &skipped {
                    eprintln!("{name} already done, skipped");
                }
                let mut k = skipped.len();
                let mut diverged = 0;
                for todo in todo_units {
                    for chunk in todo.chunks(population.max_seeds()) {
                        k += chunk.len();
                        let cfgs: Vec<TrainConfig> = chunk.iter().map(&config_of).collect();
                        let dirs: Vec<PathBuf> = chunk.iter().map(|c| out.join(c.dir_name())).collect();
                        let names: Vec<String> = chunk.iter().map(Cell::dir_name).collect();
                        for dir in &dirs {
                            // A run not done is the sweep's own, cut short: started over.
                            let stale = dir.join(DONE_FILE);
                            if stale.exists() {
                                std::fs::remove_file(&stale).map_err(io_context(&stale, "cannot remove"))?;
                            }
                        }
                        if chunk.len() == 1 {
                            eprintln!("[{k}/{total}] {}", names[0]);
                            diverged += train(&cfgs[0], &dirs[0], true)? as usize;
                        } else {
                            eprintln!("[{k}/{total}] {} (one population)", names.join(", "));
                            diverged += train_population(&cfgs, &dirs)?;
                        }
                        for dir in &dirs {
                            let done = dir.join(DONE_FILE);
                            std::fs::write(&done, "").map_err(io_context(&done, "cannot write"))?;
                        }
                    }
                }
                Ok(if diverged > 0 { Outcome::Diverged(diverged) } else { Outcome::Done })
            }
            Command::Bench { updates, obs_dim, act_dim, batch, hidden, env_steps, device, population, sync_every, algo } => {
                // Checked like config fields, before anything is allocated: a zero count would
                // print a throughput as if measured, a zero size panics in the networks.
                flag_in("--updates", updates, 1, 1_000_000, "must be in 1..=1000000")?;
                flag_in("--env-steps", env_steps, 1, 10_000_000_000, "must be in 1..=10000000000")?;
                flag_in("--obs-dim", obs_dim as u64, 1, 1024, "must be in 1..=1024")?;
                flag_in("--act-dim", act_dim as u64, 1, 64, "must be in 1..=64")?;
                flag_in("--batch", batch as u64, 1, 65_536, "must be in 1..=65536 (as batch_size)")?;
                flag_in("--hidden", hidden as u64, 1, 4096, "must be in 1..=4096 (as hidden)")?;
                flag_in("--sync-every", sync_every, 1, 1024, "must be in 1..=1024 (as sync_every)")?;
                if let Some(n) = population {
                    flag_in("--population", n as u64, 1, 64, "must be in 1..=64")?;
                }
                let (device, device_name) = bench_device(&device)?;
                if let Some(n) = population {
                    let p = bench::population_throughput(n, obs_dim, act_dim, batch, hidden, updates, &device)?;
                    let mut out = serde_json::to_value(&p).unwrap_or_default();
                    out["impl"] = "burn".into();
                    out["device"] = device_name.into();
                    out["machine"] = machine().into();
                    println!("{out}");
                    return Ok(Outcome::Done);
                }
                let upd = bench::update_throughput(obs_dim, act_dim, batch, hidden, updates, sync_every, algo, &device)?;
                let envs: serde_json::Map<String, serde_json::Value> = EnvKind::ALL
                    .iter()
                    .map(|&k| (k.name().to_string(), bench::env_throughput(k, env_steps).into()))
                    .collect();
                let out = serde_json::json!({
                    "impl": "burn",
                    "device": device_name,
                    "machine": machine(),
                    "fusion": cfg!(feature = "fusion"),
                    "obs_dim": upd.obs_dim, "act_dim": upd.act_dim, "batch": upd.batch, "hidden": upd.hidden,
                    "algo": upd.algo, "sync_every": upd.sync_every,
                    "updates": upd.updates,
                    "sac_alam_updates_per_s": upd.sac_alam_updates_per_s,
                    "env_steps_per_s": envs,
                });
                println!("{out}");
                Ok(Outcome::Done)
            }
            Command::Report { runs, out } => {
                for path in alam::report::write_report(&runs, &out)? {
                    println!("wrote {}", path.display());
                }
                Ok(Outcome::Done)
            }
            Command::Config { env, algo } => {
                println!("{}", TrainConfig::preset(env, algo).to_json());
                Ok(Outcome::Done)
            }
        }
    }

    fn bench_device(name: &str) -> Result<(burn::tensor::Device, &'static str)> {
        match name {
            "cpu" => Ok((burn::tensor::Device::flex(), "flex (pure-Rust CPU)")),
            #[cfg(feature = "vulkan")]
            "vulkan" => {
                let d = burn::tensor::Device::wgpu_options()
                    .init()
                    .map_err(|e| AlamError::Device(format!("Vulkan device: {e}")))?;
                Ok((d, "wgpu on Vulkan"))
            }
            other => Err(AlamError::Device(format!(
                "unknown or not built-in device `{other}` (cpu; vulkan needs `--features vulkan`)"
            ))),
        }
    }

    /// Preset of env × algo, then the config file, then `--steps`, then `--set` overrides.
    fn build_config(env: EnvKind, algo: Algo, seed: u64, args: &ConfigArgs, extra: &[(String, String)]) -> Result<TrainConfig> {
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

    /// Trains one run into `out`; true if it diverged (said on stderr).
    fn train(cfg: &TrainConfig, out: &Path, quiet: bool) -> Result<bool> {
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

    /// Seeds of one config as one population, quietly (as a sweep's runs); how many diverged.
    fn train_population(cfgs: &[TrainConfig], dirs: &[PathBuf]) -> Result<usize> {
        let population = train_population_to_dirs(cfgs, dirs, |_, _| {})?;
        let mut diverged = 0;
        for (t, dir) in population.trainers().iter().zip(dirs) {
            let weights = dir.join(WEIGHTS_FILE);
            match t.diverged() {
                Some(msg) => {
                    diverged += 1;
                    eprintln!("{} diverged at step {}: {msg}; last good weights in {}", dir.display(), t.steps_done(), weights.display());
                }
                None => eprintln!("done: {} steps, {} episodes; weights in {}", t.steps_done(), t.episodes_done(), weights.display()),
            }
        }
        Ok(diverged)
    }

    fn eval(weights: &Path, episodes: u64, seed: u64) -> Result<()> {
        let bytes = std::fs::read(weights).map_err(|e| AlamError::Weights(format!("{}: {e}", weights.display())))?;
        let device = burn::tensor::Device::flex();
        // `load` refuses a file whose networks do not fit its own env.
        // Errors name the file they are about.
        let (agent, header) = checkpoint::load(&bytes, &device, None).map_err(|e| match e {
            AlamError::Weights(m) => AlamError::Weights(format!("{}: {m}", weights.display())),
            other => AlamError::Weights(format!("{}: {other}", weights.display())),
        })?;
        let mut env = make_env(header.config.env, seed);
        let e = pollster::block_on(evaluate_policy(&agent, env.as_mut(), episodes))?;
        println!(
            "{}",
            serde_json::json!({
                "env": header.config.env, "algo": header.config.algo, "episodes": episodes,
                "return_mean": e.return_mean, "cost_mean": e.cost_mean, "violations_mean": e.violations_mean,
            })
        );
        Ok(())
    }

    /// CPU model and core count, so every bench figure names its machine.
    fn machine() -> String {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        format!("{cpu}, {cores} cores")
    }
}
