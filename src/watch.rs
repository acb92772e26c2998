//! Watching a policy act, without learning: env → agent (deterministic act) → episode tallies.
//!
//! The page's pretrained demo shows a trained run *as it is*: its policy drives an environment of
//! its own with tanh(μ), as evaluation does, and nothing flows back into training — no replay
//! push, no update, no draw from the trainer's RNGs, no step of the trainer's environment. So a
//! run can be watched for as long as one likes and then trained on exactly where it stopped.

use rand::SeedableRng;
use serde::Serialize;

use crate::agent::Agent;
use crate::env::{make_env, Env, EnvKind, Scene};
use crate::error::Result;
use crate::Rng64;

/// The watched environment's seed: `alam eval`'s default, so that the episodes the page shows
/// are the ones `alam eval --weights FILE --episodes N` scores natively (the same policy, the
/// same hazards and goals, in the same order).
pub const WATCH_SEED: u64 = 12345;

/// One finished watched episode.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WatchedEpisode {
    /// 1 for the first episode watched.
    pub episode: u64,
    #[serde(rename = "return")]
    pub ret: f64,
    pub cost: f64,
    /// Steps with cost > 0.
    pub violations: u64,
    pub length: u64,
}

/// A policy acting in its own environment, episode after episode.
pub struct Watcher {
    env: Box<dyn Env>,
    obs: Vec<f32>,
    /// Deterministic actions draw nothing from it; [`Agent::act`] only needs one to hand.
    rng: Rng64,
    steps: u64,
    episodes: u64,
    violations: u64,
    current: WatchedEpisode,
}

impl Watcher {
    /// A watcher of `env` seeded with `seed` (the page uses [`WATCH_SEED`]).
    pub fn new(env: EnvKind, seed: u64) -> Self {
        let mut env = make_env(env, seed);
        let mut obs = vec![0.0; env.obs_dim()];
        env.reset(&mut obs);
        Watcher {
            env,
            obs,
            rng: Rng64::seed_from_u64(0),
            steps: 0,
            episodes: 0,
            violations: 0,
            current: WatchedEpisode { episode: 1, ret: 0.0, cost: 0.0, violations: 0, length: 0 },
        }
    }

    /// One step of `agent`'s deterministic policy (tanh μ); the episode it finished, if any.
    /// `agent` is only read ([`Agent::act`], whose read is async: it never blocks on WebGPU).
    pub async fn step(&mut self, agent: &Agent) -> Result<Option<WatchedEpisode>> {
        let action = agent.act(&self.obs, true, &mut self.rng).await?;
        let o = self.env.step(&action, &mut self.obs);
        self.steps += 1;
        let violated = (o.cost > 0.0) as u64;
        self.violations += violated;
        let ep = &mut self.current;
        ep.ret += o.reward as f64;
        ep.cost += o.cost as f64;
        ep.violations += violated;
        ep.length += 1;
        if !(o.terminated || o.truncated) {
            return Ok(None);
        }
        let done = *ep;
        self.episodes += 1;
        self.current = WatchedEpisode { episode: done.episode + 1, ret: 0.0, cost: 0.0, violations: 0, length: 0 };
        self.env.reset(&mut self.obs);
        Ok(Some(done))
    }

    /// [`Self::step`], blocking: the native path (not compiled for wasm).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn step_blocking(&mut self, agent: &Agent) -> Result<Option<WatchedEpisode>> {
        pollster::block_on(self.step(agent))
    }

    /// What the canvas draws now.
    pub fn scene(&self) -> Scene {
        self.env.scene()
    }

    /// Steps watched so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Episodes finished so far.
    pub fn episodes(&self) -> u64 {
        self.episodes
    }

    /// Violating steps so far, the episode in progress included.
    pub fn violations(&self) -> u64 {
        self.violations
    }
}
