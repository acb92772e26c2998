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
    use alam::run::{train_population_to_dirs, train_to_dir, WEIGHTS_FILE};
    use alam::sweep::{apply_overrides, grid, parse_override, parse_shard, seed_groups, shard, Batching, Cell};
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
        Train {
            #[arg(long, default_value = "double-integrator")]
            env: EnvKind,
            #[arg(long, default_value = "alam")]
            algo: Algo,
            #[arg(long, default_value_t = 0)]
            seed: u64,
            #[command(flatten)]
            cfg: ConfigArgs,
            #[arg(long, default_value = "runs/train")]
            out: PathBuf,
            /// No progress bar (for logs and CI).
            #[arg(long)]
            quiet: bool,
        },
        /// Evaluate saved weights with the deterministic policy.
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
        },
        /// Throughput: one JSON object on stdout.
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

    pub fn main() -> ExitCode {
        let cli = Cli::parse();
        match run(cli.command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        }
    }

    fn run(command: Command) -> Result<()> {
        match command {
            Command::Train { env, algo, seed, cfg, out, quiet } => {
                let cfg = build_config(env, algo, seed, &cfg, &[])?;
                train(&cfg, &out, quiet)
            }
            Command::Eval { weights, episodes, seed } => eval(&weights, episodes, seed),
            Command::Sweep { envs, algos, seeds, variants, cfg, shard: s, population, out } => {
                let (i, n) = parse_shard(&s)?;
                let cells = grid(&envs, &algos, &seeds, &variants)?;
                let units: Vec<Vec<Cell>> = match population {
                    Batching::Off => shard(cells, i, n).into_iter().map(|c| vec![c]).collect(),
                    _ => shard(seed_groups(cells), i, n),
                };
                let total: usize = units.iter().map(Vec::len).sum();
                eprintln!("shard {i}/{n}: {total} runs into {}", out.display());
                let mut k = 0;
                for unit in units {
                    let mut todo = Vec::new();
                    for cell in unit {
                        k += 1;
                        if out.join(cell.dir_name()).join("done").exists() {
                            eprintln!("[{k}/{total}] {} already done, skipped", cell.dir_name());
                        } else {
                            todo.push(cell);
                        }
                    }
                    for chunk in todo.chunks(population.max_seeds()) {
                        let cfgs = chunk.iter().map(|c| build_config(c.env, c.algo, c.seed, &cfg, &c.overrides)).collect::<Result<Vec<_>>>()?;
                        let dirs: Vec<PathBuf> = chunk.iter().map(|c| out.join(c.dir_name())).collect();
                        let names: Vec<String> = chunk.iter().map(Cell::dir_name).collect();
                        if chunk.len() == 1 {
                            eprintln!("[{k}/{total}] {}", names[0]);
                            train(&cfgs[0], &dirs[0], true)?;
                        } else {
                            eprintln!("[{k}/{total}] {} (one population)", names.join(", "));
                            train_population(&cfgs, &dirs)?;
                        }
                        for dir in &dirs {
                            std::fs::write(dir.join("done"), "")?;
                        }
                    }
                }
                Ok(())
            }
            Command::Bench { updates, obs_dim, act_dim, batch, hidden, env_steps, device, population, sync_every, algo } => {
                let (device, device_name) = bench_device(&device)?;
                if let Some(n) = population {
                    if n == 0 {
                        return Err(AlamError::Config { field: "population", value: "0".into(), allowed: "must be ≥ 1" });
                    }
                    let p = bench::population_throughput(n, obs_dim, act_dim, batch, hidden, updates, &device)?;
                    let mut out = serde_json::to_value(&p).unwrap_or_default();
                    out["impl"] = "burn".into();
                    out["device"] = device_name.into();
                    out["machine"] = machine().into();
                    println!("{out}");
                    return Ok(());
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
                Ok(())
            }
            Command::Report { runs, out } => {
                for path in alam::report::write_report(&runs, &out)? {
                    println!("wrote {}", path.display());
                }
                Ok(())
            }
            Command::Config { env, algo } => {
                println!("{}", TrainConfig::preset(env, algo).to_json());
                Ok(())
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
        overrides.extend_from_slice(extra);
        apply_overrides(&cfg, &overrides)
    }

    fn train(cfg: &TrainConfig, out: &Path, quiet: bool) -> Result<()> {
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
            Some(msg) => eprintln!("stopped early: {msg}; last good weights in {}", weights.display()),
            None => eprintln!("done: {} steps, {} episodes; weights in {}", trainer.steps_done(), trainer.episodes_done(), weights.display()),
        }
        Ok(())
    }

    /// Seeds of one config as one population, quietly (as a sweep's runs).
    fn train_population(cfgs: &[TrainConfig], dirs: &[PathBuf]) -> Result<()> {
        let population = train_population_to_dirs(cfgs, dirs, |_, _| {})?;
        for (t, dir) in population.trainers().iter().zip(dirs) {
            let weights = dir.join(WEIGHTS_FILE);
            match t.diverged() {
                Some(msg) => eprintln!("stopped early: {msg}; last good weights in {}", weights.display()),
                None => eprintln!("done: {} steps, {} episodes; weights in {}", t.steps_done(), t.episodes_done(), weights.display()),
            }
        }
        Ok(())
    }

    fn eval(weights: &Path, episodes: u64, seed: u64) -> Result<()> {
        let bytes = std::fs::read(weights).map_err(|e| AlamError::Weights(format!("{}: {e}", weights.display())))?;
        let device = burn::tensor::Device::flex();
        // `load` refuses a file whose networks do not fit its own env.
        let (agent, header) = checkpoint::load(&bytes, &device, None)?;
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
