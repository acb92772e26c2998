//! Throughput measurements behind `alam bench` (the paper's shapes by default: obs 32, act 2, batch 256,
//! 2×256 MLPs). Timing is here, never in tests.

use crate::Rng64;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use web_time::Instant;

use crate::agent::stacked::{SeedSync, StackedAgents};
use crate::agent::Agent;
use crate::config::{Algo, TrainConfig};
use crate::env::{make_env, EnvKind};
use crate::error::Result;
use crate::replay::ReplayBuffer;

#[derive(Debug, Clone, Serialize)]
pub struct UpdateBench {
    pub obs_dim: usize,
    pub act_dim: usize,
    pub batch: usize,
    pub hidden: usize,
    pub algo: String,
    /// K: updates per host read ([`crate::agent::Agent::sync`]).
    pub sync_every: u64,
    pub updates: u64,
    pub sac_alam_updates_per_s: f64,
}

/// Full updates per second of `algo` (SAC-ALaM by default), replay sampling and the host reads
/// included: one packed read every `sync_every` updates, as a training run pays them.
#[allow(clippy::too_many_arguments)]
pub fn update_throughput(
    obs_dim: usize,
    act_dim: usize,
    batch: usize,
    hidden: usize,
    updates: u64,
    sync_every: u64,
    algo: Algo,
    device: &burn::tensor::Device,
) -> Result<UpdateBench> {
    let mut cfg = TrainConfig::preset(crate::env::EnvKind::DoubleIntegrator, algo);
    cfg.hidden = hidden;
    cfg.batch_size = batch;
    cfg.sync_every = sync_every;
    cfg.validate()?;
    let mut rng = Rng64::seed_from_u64(0);
    let replay = random_replay(obs_dim, act_dim, &mut rng);
    let mut agent = Agent::new(&cfg, obs_dim, act_dim, device);
    let mut run = |agent: &mut Agent, n: u64| -> Result<()> {
        for _ in 0..n {
            agent.update(&replay.sample(batch, &mut rng));
            if agent.sync_due() {
                pollster::block_on(agent.sync())?;
            }
        }
        pollster::block_on(agent.sync())?;
        Ok(())
    };
    run(&mut agent, (updates / 10).max(sync_every).max(5))?;
    let t0 = Instant::now();
    run(&mut agent, updates)?;
    let secs = t0.elapsed().as_secs_f64();
    Ok(UpdateBench {
        obs_dim,
        act_dim,
        batch,
        hidden,
        algo: algo.name().to_string(),
        sync_every,
        updates,
        sac_alam_updates_per_s: updates as f64 / secs,
    })
}

/// A full replay buffer of random transitions (10% with cost), to sample update batches from.
fn random_replay(obs_dim: usize, act_dim: usize, rng: &mut Rng64) -> ReplayBuffer {
    let mut replay = ReplayBuffer::new(100_000, obs_dim, act_dim);
    let row = |n: usize, rng: &mut Rng64| -> Vec<f32> { (0..n).map(|_| rng.random_range(-1.0..1.0)).collect() };
    for _ in 0..100_000 {
        let (o, a, n) = (row(obs_dim, rng), row(act_dim, rng), row(obs_dim, rng));
        let cost = (rng.random::<f32>() < 0.1) as u8 as f32;
        replay.push(&o, &a, rng.random(), cost, &n, rng.random::<f32>() < 0.01);
    }
    replay
}

#[derive(Debug, Clone, Serialize)]
pub struct PopulationBench {
    pub seeds: usize,
    pub batch: usize,
    pub hidden: usize,
    /// Seed-updates per second (one update of one seed's networks), both ways.
    pub separate_seed_updates_per_s: f64,
    pub batched_seed_updates_per_s: f64,
    pub batched_over_separate: f64,
}

/// N seeds' SAC-ALaM updates: N separate agents updated in turn (what `sweep --population off`
/// does), against one batched update of the same N agents as a population ([`StackedAgents`],
/// what `sweep` does). Each seed samples its own batch, both ways.
pub fn population_throughput(
    n: usize,
    obs_dim: usize,
    act_dim: usize,
    batch: usize,
    hidden: usize,
    updates: u64,
    device: &burn::tensor::Device,
) -> Result<PopulationBench> {
    let mut rng = Rng64::seed_from_u64(0);
    let replay = random_replay(obs_dim, act_dim, &mut rng);
    let warmup = (updates / 10).max(3);

    let mut agents: Vec<Agent> = (0..n as u64)
        .map(|seed| {
            let cfg = TrainConfig { seed, hidden, batch_size: batch, ..TrainConfig::default() };
            Agent::new(&cfg, obs_dim, act_dim, device)
        })
        .collect();
    let mut pop = StackedAgents::from_agents(&agents.iter().collect::<Vec<_>>())?;
    let mut time_separate = 0.0;
    for i in 0..warmup + updates {
        let t0 = Instant::now();
        for agent in agents.iter_mut() {
            agent.update_sync(&replay.sample(batch, &mut rng))?;
        }
        if i >= warmup {
            time_separate += t0.elapsed().as_secs_f64();
        }
    }

    let states = vec![agents[0].handler().state(); n];
    let mut time_batched = 0.0;
    for i in 0..warmup + updates {
        let t0 = Instant::now();
        let batches: Vec<_> = (0..n).map(|_| replay.sample(batch, &mut rng)).collect();
        // Judged every update, as each separate agent's `update_sync` is.
        pop.update(&batches, &states);
        for seed in pollster::block_on(pop.sync())? {
            if let SeedSync::Diverged { error, .. } = seed {
                return Err(error);
            }
        }
        if i >= warmup {
            time_batched += t0.elapsed().as_secs_f64();
        }
    }
    let seed_updates = (n as u64 * updates) as f64;
    let (separate, batched) = (seed_updates / time_separate, seed_updates / time_batched);
    Ok(PopulationBench {
        seeds: n,
        batch,
        hidden,
        separate_seed_updates_per_s: separate,
        batched_seed_updates_per_s: batched,
        batched_over_separate: batched / separate,
    })
}

/// Single-threaded environment steps per second with uniform random actions.
pub fn env_throughput(kind: EnvKind, steps: u64) -> f64 {
    let mut env = make_env(kind, 0);
    let mut rng = Rng64::seed_from_u64(1);
    let mut obs = vec![0.0; env.obs_dim()];
    let actions: Vec<f32> = (0..4096 * env.act_dim()).map(|_| rng.random_range(-1.0..1.0)).collect();
    let a = env.act_dim();
    env.reset(&mut obs);
    let t0 = Instant::now();
    let mut sink = 0.0f32;
    for i in 0..steps as usize {
        let j = (i % 4096) * a;
        let o = env.step(&actions[j..j + a], &mut obs);
        sink += o.reward;
        if o.terminated || o.truncated {
            env.reset(&mut obs);
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    std::hint::black_box(sink);
    steps as f64 / secs
}
