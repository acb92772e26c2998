//! A population: N seeds of one config trained side by side as one, as N runs of
//! [`Trainer`](crate::trainer::Trainer) would train them — each seed its own env, replay
//! buffer, episodes, evaluations, probes and records — with the seeds' acting (one policy
//! forward for all) and updates (one [`PopulationAgent`](crate::agent::population::PopulationAgent)
//! update for all, `agent::population`) batched into one network call each. `alam sweep` trains
//! the seeds of each group (env × algo × variant) this way, and the page trains its seeds so.
//!
//! Each seed's [`Trainer`](crate::trainer::Trainer) keeps everything that is its own (env,
//! replay, exploration RNG, counters, the handler's scalar multiplier state); its agent is a
//! view that the population writes the seed's networks into before it evaluates, probes or
//! saves. The device is read once per `sync_every` updates, asynchronously (the browser's
//! WebGPU allows no other read), as a single run reads it.

use burn::tensor::Device;

use crate::agent::population::{PopulationAgent, SeedSync};
use crate::config::{TrainConfig, MAX_SEED};
use crate::error::{AlamError, Result};
use crate::metrics::Record;
use crate::replay::Batch;
use crate::trainer::Trainer;

/// The most seeds one population trains (the page's Seeds setting: 1..=MAX_SEEDS).
pub const MAX_SEEDS: usize = 16;

/// The configs of a population of `seeds` seeds made from `cfg`: seed i trains with RNG seed
/// `cfg.seed + i` and is otherwise `cfg`.
///
/// # Errors
/// [`AlamError::Setting`] naming `seeds` when `seeds` is outside 1..=[`MAX_SEEDS`] or the last
/// seed would pass [`MAX_SEED`].
pub fn seed_configs(cfg: &TrainConfig, seeds: u64) -> Result<Vec<TrainConfig>> {
    let refuse = |message: String| AlamError::Setting { field: "seeds".into(), message };
    if !(1..=MAX_SEEDS as u64).contains(&seeds) {
        return Err(refuse(format!("{seeds} seeds: a population has 1 to {MAX_SEEDS}")));
    }
    if cfg.seed > MAX_SEED - (seeds - 1) {
        return Err(refuse(format!(
            "seeds {}..{} pass the largest seed, {MAX_SEED} (2^53 − 1): lower the seed or the number of seeds",
            cfg.seed,
            cfg.seed as u128 + seeds as u128 - 1
        )));
    }
    Ok((0..seeds).map(|i| TrainConfig { seed: cfg.seed + i, ..cfg.clone() }).collect())
}

/// Partial settings (the page's form: [`TrainConfig::from_partial_json`]'s fields, plus
/// `seeds`, a whole number in 1..=[`MAX_SEEDS`], default 1): the population's configs.
///
/// # Errors
/// As [`TrainConfig::from_partial_json`] and [`seed_configs`]; a `seeds` that is not a whole
/// number is refused naming `seeds`.
pub fn configs_from_partial_json(value: &serde_json::Value) -> Result<Vec<TrainConfig>> {
    let mut value = value.clone();
    let seeds = match value.as_object_mut().and_then(|o| o.remove("seeds")) {
        None => 1,
        Some(v) => v.as_u64().ok_or_else(|| AlamError::Setting {
            field: "seeds".into(),
            message: format!("{v} is not a whole number of seeds (1 to {MAX_SEEDS})"),
        })?,
    };
    seed_configs(&TrainConfig::from_partial_json(&value)?, seeds)
}

pub struct PopulationTrainer {
    trainers: Vec<Trainer>,
    agent: PopulationAgent,
}

impl PopulationTrainer {
    /// One trainer per config; the configs must differ in their seed only.
    pub fn new(cfgs: &[TrainConfig], device: &Device) -> Result<Self> {
        let trainers = cfgs.iter().map(|c| Trainer::new(c.clone(), device)).collect::<Result<Vec<_>>>()?;
        let agent = PopulationAgent::from_agents(&trainers.iter().map(|t| t.agent()).collect::<Vec<_>>())?;
        Ok(PopulationTrainer { trainers, agent })
    }

    /// Goes on from seeds' trainers restored from run files (full ones written after
    /// [`Self::sync_agents`], at any step, or weights-only ones): their agents are stacked
    /// again (networks, Adam moments, update-noise RNGs, and between syncs the unread
    /// statistics, last good networks and acting policy), so the population continues as if
    /// it had never stopped. A seed that had diverged stays stopped.
    ///
    /// # Errors
    /// When the trainers do not share their config (seed apart), or the seeds still training
    /// are not at the same step and update.
    pub fn from_trainers(trainers: Vec<Trainer>) -> Result<Self> {
        let stopped: Vec<bool> = trainers.iter().map(|t| t.diverged().is_some()).collect();
        let steps = trainers.iter().find(|t| t.diverged().is_none()).map(Trainer::steps_done);
        if trainers.iter().any(|t| t.diverged().is_none() && Some(t.steps_done()) != steps) {
            return Err(crate::AlamError::Resume("a population's seeds must resume from the same step".into()));
        }
        let agents: Vec<_> = trainers.iter().map(|t| t.agent()).collect();
        let agent = PopulationAgent::from_agents_stopped(&agents, &stopped)?;
        Ok(PopulationTrainer { trainers, agent })
    }

    /// Whether the population has no acting policy yet (before its first sync).
    pub fn policy_missing(&self) -> bool {
        self.agent.policy_missing()
    }

    /// Policy updates done by each seed (the same for all).
    pub fn updates(&self) -> u64 {
        self.agent.updates()
    }

    /// Updates made since the last sync (their statistics not read yet), the same for every seed.
    pub fn unread_updates(&self) -> usize {
        self.agent.unread_updates()
    }

    /// Whether every seed's statistics have been read (the acting policy is the current actor):
    /// a full run file written now ([`Self::sync_agents`] first) resumes exactly.
    pub fn at_sync_point(&self) -> bool {
        self.agent.unread_updates() == 0
    }

    /// The seeds' trainers, in the order of the configs.
    pub fn trainers(&self) -> &[Trainer] {
        &self.trainers
    }

    pub fn is_done(&self) -> bool {
        self.trainers.iter().all(Trainer::is_done)
    }

    /// The seeds' trainers, each holding its seed's networks ([`Self::sync_agents`] first).
    pub fn into_trainers(mut self) -> Vec<Trainer> {
        self.sync_agents();
        self.trainers
    }

    /// [`Self::step_async`], blocking: the native path (not compiled for wasm).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn step(&mut self) -> Result<Vec<Vec<Record>>> {
        pollster::block_on(self.step_async())
    }

    /// One environment step of every seed still training and the updates it makes due;
    /// returns each seed's records. Async only for the browser's WebGPU readback; on the CPU
    /// it never waits.
    pub async fn step_async(&mut self) -> Result<Vec<Vec<Record>>> {
        let mut out: Vec<Vec<Record>> = vec![Vec::new(); self.trainers.len()];
        let live: Vec<bool> = self.trainers.iter().map(|t| !t.is_done()).collect();
        self.act_and_step(&live, &mut out).await?;
        self.update(&mut out).await?;
        // As a single run: the last step and every evaluation or probe read what is left.
        if self.trainers.iter().any(Trainer::needs_current_agent) && self.agent.unread_updates() > 0 {
            self.sync(&mut out).await?;
        }
        // Evaluation and probe, per seed, on its own agent with its networks written back.
        for (i, t) in self.trainers.iter_mut().enumerate() {
            if live[i] && t.evaluation_due() {
                self.agent.write_seed(i, t.agent_mut());
                t.evaluate(&mut out[i]).await?;
            }
        }
        Ok(out)
    }

    /// Every `live` seed acts and steps its env: at random during the warm-up, else on its
    /// row of one policy forward for all seeds, with its own exploration noise (as
    /// `Agent::act`).
    async fn act_and_step(&mut self, live: &[bool], out: &mut [Vec<Record>]) -> Result<()> {
        let mut policy = None;
        if self.trainers.iter().zip(live).any(|(t, &l)| l && t.acts_on_policy()) {
            if self.agent.policy_missing() || self.agent.unread_updates() as u64 >= self.sync_every() {
                self.sync(out).await?;
            }
            let obs: Vec<f32> = self.trainers.iter().flat_map(|t| t.observation().iter().copied()).collect();
            policy = Some(self.agent.policy(&obs).await?);
        }
        // [μ | log σ] of every seed, 2·act_dim floats each.
        let width = 2 * self.trainers[0].env().act_dim();
        for (i, t) in self.trainers.iter_mut().enumerate() {
            // A seed whose update diverged at the sync above steps no more.
            if live[i] && t.diverged().is_none() {
                t.act_and_step(policy.as_ref().map(|p| &p[i * width..(i + 1) * width]), &mut out[i]);
            }
        }
        Ok(())
    }

    /// The updates this step makes due: the seeds share their config, so the same number falls
    /// due for each still training; one population update per round, each seed on its batch.
    async fn update(&mut self, out: &mut [Vec<Record>]) -> Result<()> {
        let mut due: Vec<std::vec::IntoIter<Batch>> =
            self.trainers.iter_mut().map(|t| t.batches_due().into_iter()).collect();
        let rounds = due.iter().map(ExactSizeIterator::len).max().unwrap_or(0);
        for _ in 0..rounds {
            let batches: Vec<Batch> = due.iter_mut().map(|d| d.next().unwrap_or_else(|| self.idle_batch())).collect();
            let states: Vec<_> = self.trainers.iter().map(|t| t.agent().handler().state()).collect();
            self.agent.update(&batches, &states);
            // As a single agent judged its first update at once (no acting policy yet).
            if self.agent.unread_updates() as u64 >= self.sync_every() || self.agent.policy_missing() {
                self.sync(out).await?;
            }
        }
        Ok(())
    }

    fn sync_every(&self) -> u64 {
        self.trainers[0].config().sync_every
    }

    /// The population's sync, for every seed at once: one read
    /// ([`PopulationAgent::sync`]); each seed's statistics since the last sync go to its handler
    /// and records, and a seed that diverged stops with its last good networks.
    ///
    /// # Errors
    /// [`crate::AlamError::Device`] when the read fails.
    async fn sync(&mut self, out: &mut [Vec<Record>]) -> Result<()> {
        let results = self.agent.sync().await?;
        let updates = self.agent.updates();
        for ((t, result), out) in self.trainers.iter_mut().zip(results).zip(out.iter_mut()) {
            match result {
                SeedSync::Idle => {}
                SeedSync::Done(stats) => t.record_updates(&stats, updates, out),
                SeedSync::Diverged { error, last_good, updates } => {
                    t.stop_diverged(error.to_string(), *last_good, updates, out)
                }
            }
        }
        Ok(())
    }

    /// Reads everything the population still holds on the device (statistics, the acting
    /// policy), so that it can be saved, evaluated or watched as it is now: afterwards it is at
    /// a sync point. Returns each seed's records that the read made.
    pub async fn settle(&mut self) -> Result<Vec<Vec<Record>>> {
        let mut out = vec![Vec::new(); self.trainers.len()];
        if self.agent.unread_updates() > 0 || self.agent.policy_missing() {
            self.sync(&mut out).await?;
        }
        Ok(out)
    }

    /// Writes seed i into its trainer's agent (to watch, probe or save it: see
    /// [`Self::sync_agents`]); a diverged seed's agent already holds its last good networks.
    pub fn sync_agent(&mut self, i: usize) {
        if self.trainers[i].diverged().is_none() {
            self.agent.write_seed(i, self.trainers[i].agent_mut());
        }
    }

    /// A stand-in batch for a seed that no longer trains: its slice is updated on it and
    /// never read again.
    fn idle_batch(&self) -> Batch {
        let t = &self.trainers[0];
        Batch::zeros(t.config().batch_size, t.env().obs_dim(), t.env().act_dim())
    }

    /// Writes every seed into its trainer's agent ([`PopulationAgent::write_seed`]: a full run
    /// file saved from it then goes on exactly, at any step); a diverged seed's agent already
    /// holds its last good networks.
    pub fn sync_agents(&mut self) {
        for i in 0..self.trainers.len() {
            self.sync_agent(i);
        }
    }
}
