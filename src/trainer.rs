//! One seed's run: its environment, replay buffer, exploration, counters ([`Counters`], one
//! struct, saved whole), update records, and its evaluator ([`crate::evaluation`]) — env →
//! replay → metrics records. Its agent is the seed's view (acting, evaluating, saving); the
//! networks train in the population's stacked learner.
//!
//! The loop itself (act, step, store, update, record) is [`crate::population::PopulationTrainer`]'s,
//! for one seed (`alam train`, a page run of one seed) as for many: one call of its `step` is
//! one environment step of every seed plus the updates the update-to-data ratio makes due, so
//! the CLI and the page drive the same loop at their own pace. It drives each seed through a
//! few crate-private calls: [`Trainer::act_and_step`], [`Trainer::batches_due`],
//! [`Trainer::record_updates`] (or [`Trainer::stop_diverged`]) and [`Trainer::evaluate`].

use crate::Rng64;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::agent::{squash_action, Agent, AgentNets, UpdateStats};
use crate::config::TrainConfig;
use crate::env::{make_env, Env};
use crate::error::{AlamError, Result};
use crate::evaluation::Evaluator;
use crate::metrics::{Record, StatsWindow};
use crate::replay::{Batch, ReplayBuffer};

pub struct Trainer {
    cfg: TrainConfig,
    env: Box<dyn Env>,
    agent: Agent,
    replay: ReplayBuffer,
    /// Exploration noise and replay sampling.
    rng: Rng64,
    obs: Vec<f32>,
    next_obs: Vec<f32>,
    counters: Counters,
    evaluator: Evaluator,
    /// When, at which step and after which update the last update record was made.
    last_log: (Instant, u64, u64),
}

/// One seed's progress through its run: steps, episodes, the episode in progress, violations
/// and the update schedule — held whole by the trainer and written whole into a full run file
/// ([`TrainerState::counters`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counters {
    /// Environment steps done. Not in [`TrainerState`]: a run file's header holds it (`steps`).
    #[serde(skip)]
    pub step: u64,
    /// Episodes finished.
    pub episode: u64,
    /// The episode in progress: its summed reward and cost, violating steps (cost > 0) and
    /// length in steps.
    pub ep_return: f64,
    pub ep_cost: f64,
    pub ep_violations: u64,
    pub ep_len: u64,
    /// Violating steps since the start, finished episodes or not.
    pub total_violations: u64,
    /// Fractional updates owed (utd_ratio < 1 accumulates), in [0, 1).
    pub update_credit: f64,
    /// Update statistics since the last update record.
    pub window: StatsWindow,
    /// Why training stopped early, if it did.
    pub diverged: Option<String>,
    /// No update before this step: a run resumed from a weights-only file first refills its
    /// empty replay with `learning_starts` steps of its loaded policy.
    pub updates_from: u64,
}

impl Counters {
    /// Counts one environment step with its `reward` and `cost`.
    fn count_step(&mut self, reward: f32, cost: f32) {
        self.step += 1;
        self.ep_return += reward as f64;
        self.ep_cost += cost as f64;
        self.ep_violations += (cost > 0.0) as u64;
        self.total_violations += (cost > 0.0) as u64;
        self.ep_len += 1;
    }

    /// Ends the episode in progress: its [`Record::Episode`]; the next one starts from zero.
    fn end_episode(&mut self) -> Record {
        self.episode += 1;
        let record = Record::Episode {
            step: self.step,
            episode: self.episode,
            ret: self.ep_return,
            cost: self.ep_cost,
            violations: self.ep_violations,
            length: self.ep_len,
        };
        (self.ep_return, self.ep_cost, self.ep_violations, self.ep_len) = (0.0, 0.0, 0, 0);
        record
    }

    /// Whether counters read from a file are sound.
    ///
    /// # Errors
    /// [`AlamError::Weights`] when the update credit is outside [0, 1) or a sum is not finite.
    fn check(&self) -> Result<()> {
        if self.update_credit.is_finite()
            && (0.0..1.0).contains(&self.update_credit)
            && self.ep_return.is_finite()
            && self.ep_cost.is_finite()
        {
            Ok(())
        } else {
            Err(AlamError::Weights("trainer state: a counter is out of range".into()))
        }
    }
}

/// The trainer's host state in a full run file (the header's JSON): everything the loop
/// carries between steps except the agent, the replay's rows and the step count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainerState {
    /// Exploration noise and replay sampling.
    pub rng: Rng64,
    pub env: serde_json::Value,
    pub eval_env: serde_json::Value,
    /// The observation the next action answers, as f32 bits.
    pub obs: Vec<u32>,
    /// Flattened: the counters' fields sit here one by one, as in files of earlier versions.
    #[serde(flatten)]
    pub counters: Counters,
    /// The replay's cursor (rows stored, next slot); its rows are in the file's body.
    pub replay_len: usize,
    pub replay_next: usize,
}

impl Trainer {
    pub fn new(cfg: TrainConfig, device: &burn::tensor::Device) -> Result<Self> {
        cfg.validate()?;
        let mut env = make_env(cfg.env, cfg.seed);
        let (obs_dim, act_dim) = (env.obs_dim(), env.act_dim());
        let agent = Agent::new(&cfg, obs_dim, act_dim, device);
        let mut obs = vec![0.0; obs_dim];
        env.reset(&mut obs);
        Ok(Trainer {
            replay: ReplayBuffer::new(cfg.buffer_size, obs_dim, act_dim),
            rng: Rng64::seed_from_u64(cfg.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5EED),
            next_obs: vec![0.0; obs_dim],
            obs,
            evaluator: Evaluator::new(&cfg, env.as_ref()),
            env,
            agent,
            counters: Counters::default(),
            last_log: (Instant::now(), 0, 0),
            cfg,
        })
    }

    /// The loop's host state for a full run file ([`crate::checkpoint::save_run_async`]).
    pub fn state(&self) -> TrainerState {
        let (replay_len, replay_next) = self.replay.cursor();
        TrainerState {
            rng: self.rng.clone(),
            env: self.env.save_state(),
            eval_env: self.evaluator.save_state(),
            obs: self.obs.iter().map(|v| v.to_bits()).collect(),
            counters: self.counters.clone(),
            replay_len,
            replay_next,
        }
    }

    pub fn replay(&self) -> &ReplayBuffer {
        &self.replay
    }

    /// A trainer that goes on exactly where a full run file stopped: `agent` restored whole,
    /// `steps` done, the loop's `state` and the replay's rows `replay` (little-endian f32
    /// columns, [`ReplayBuffer::to_bytes`]).
    ///
    /// # Errors
    /// [`AlamError::Weights`] when a part does not fit the config (an env state of another
    /// env, a replay of the wrong size, an observation of the wrong length or non-finite, a
    /// counter out of range).
    pub fn restore(
        agent: Agent,
        steps: u64,
        state: TrainerState,
        replay: &[u8],
        device: &burn::tensor::Device,
    ) -> Result<Self> {
        let bad = |m: String| AlamError::Weights(m);
        let mut t = Trainer::new(agent.config().clone(), device)?;
        t.env.load_state(&state.env).map_err(bad)?;
        t.evaluator.load_state(&state.eval_env).map_err(bad)?;
        let obs: Vec<f32> = state.obs.iter().map(|&b| f32::from_bits(b)).collect();
        if obs.len() != t.obs.len() || obs.iter().any(|v| !v.is_finite()) {
            return Err(bad(format!(
                "trainer state: the observation has {} values (or a non-finite one), the env has {}",
                obs.len(),
                t.obs.len()
            )));
        }
        let (o, a) = (t.env.obs_dim(), t.env.act_dim());
        t.replay = ReplayBuffer::from_bytes(t.cfg.buffer_size, o, a, (state.replay_len, state.replay_next), replay)
            .map_err(bad)?;
        state.counters.check()?;
        t.obs = obs;
        t.agent = agent;
        t.rng = state.rng;
        t.counters = Counters { step: steps, ..state.counters };
        t.last_log = (Instant::now(), steps, t.agent.updates());
        Ok(t)
    }

    /// Goes on from a saved agent (a run downloaded from the page, or `alam train`'s weights):
    /// the step count resumes where it stopped, so there is no random warm-up, and updates wait
    /// until the new, empty replay buffer holds one batch. A finished run gets another
    /// `total_steps` to train, so that loading it always shows its policy acting.
    ///
    /// The replay is refilled first: no update before `learning_starts` more steps of the
    /// loaded policy ([`Self::refilling`]), so the first updates do not train on a tiny,
    /// correlated buffer.
    pub fn resume(agent: Agent, steps: u64, device: &burn::tensor::Device) -> Result<Self> {
        let mut trainer = Trainer::new(agent.config().clone(), device)?;
        trainer.agent = agent;
        trainer.counters.step = steps;
        trainer.counters.updates_from = steps.saturating_add(trainer.cfg.learning_starts);
        trainer.last_log = (Instant::now(), steps, trainer.agent.updates());
        trainer.train_on_if_finished()?;
        Ok(trainer)
    }

    /// A run that has reached its `total_steps` (and did not diverge) gets another
    /// `total_steps` to train: a loaded run, of either kind, always trains on when played.
    ///
    /// # Errors
    /// [`AlamError::Config`] when the longer run is out of range.
    pub fn train_on_if_finished(&mut self) -> Result<()> {
        if self.counters.step >= self.cfg.total_steps && self.counters.diverged.is_none() {
            self.set_total_steps(self.counters.step + self.cfg.total_steps)?;
        }
        Ok(())
    }

    /// Trains on to `total_steps` (a resumed run given a new length); the config is checked.
    ///
    /// # Errors
    /// [`AlamError::Config`] when the config with that length is not valid.
    pub fn set_total_steps(&mut self, total_steps: u64) -> Result<()> {
        let cfg = TrainConfig { total_steps, ..self.cfg.clone() };
        cfg.validate()?;
        self.cfg = cfg;
        Ok(())
    }

    /// Whether the replay is still being refilled after a weights-only resume (no updates).
    pub fn refilling(&self) -> bool {
        self.counters.step < self.counters.updates_from
    }

    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }
    /// The seed's agent: its networks are current after the population wrote them
    /// ([`crate::population::PopulationTrainer::sync_agents`]).
    pub fn agent(&self) -> &Agent {
        &self.agent
    }
    pub fn agent_mut(&mut self) -> &mut Agent {
        &mut self.agent
    }
    pub fn env(&self) -> &dyn Env {
        self.env.as_ref()
    }
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
    pub fn steps_done(&self) -> u64 {
        self.counters.step
    }
    pub fn episodes_done(&self) -> u64 {
        self.counters.episode
    }
    pub fn total_violations(&self) -> u64 {
        self.counters.total_violations
    }
    pub fn is_done(&self) -> bool {
        self.counters.step >= self.cfg.total_steps || self.counters.diverged.is_some()
    }
    /// Why training stopped early, if it did.
    pub fn diverged(&self) -> Option<&str> {
        self.counters.diverged.as_deref()
    }

    // What the population's loop ([`crate::population::PopulationTrainer::step_async`]) does
    // with each seed, in the order it does it: act and step, update, record, evaluate.

    /// Whether the warm-up (`learning_starts` steps) is over: the policy acts.
    pub(crate) fn acts_on_policy(&self) -> bool {
        self.counters.step >= self.cfg.learning_starts
    }

    /// The observation the next action answers, `obs_dim` floats.
    pub(crate) fn observation(&self) -> &[f32] {
        &self.obs
    }

    /// Acts, steps the env and stores the transition: a uniform random action during the
    /// warm-up, else one sampled from `policy`, this seed's row of the population's policy
    /// forward ([μ | log σ], 2·act_dim floats; `None` only during the warm-up), with this
    /// seed's exploration RNG. A finished episode's record goes to `out`, and its cost to the
    /// handler (the scalar multipliers' signal).
    pub(crate) fn act_and_step(&mut self, policy: Option<&[f32]>, out: &mut Vec<Record>) {
        let act_dim = self.env.act_dim();
        let action: Vec<f32> = match policy {
            Some(row) if self.acts_on_policy() => squash_action(row, act_dim, false, &mut self.rng),
            _ => {
                debug_assert!(!self.acts_on_policy(), "no policy to act on after the warm-up");
                (0..act_dim).map(|_| self.rng.random_range(-1.0f32..1.0)).collect()
            }
        };
        let o = self.env.step(&action, &mut self.next_obs);
        self.replay.push(&self.obs, &action, o.reward, o.cost, &self.next_obs, o.terminated);
        std::mem::swap(&mut self.obs, &mut self.next_obs);
        self.counters.count_step(o.reward, o.cost);
        if o.terminated || o.truncated {
            self.agent.handler_mut().end_episode(self.counters.ep_cost);
            out.push(self.counters.end_episode());
            self.env.reset(&mut self.obs);
        }
    }

    /// The batches of the updates this step makes due (the update-to-data ratio's credit),
    /// sampled from the replay with this seed's RNG; none once the run is done.
    pub(crate) fn batches_due(&mut self) -> Vec<Batch> {
        // The replay check only bites after `resume` (learning_starts ≥ batch_size otherwise).
        let starts = self.cfg.learning_starts.max(self.counters.updates_from);
        if self.is_done() || self.counters.step < starts || self.replay.len() < self.cfg.batch_size {
            return Vec::new();
        }
        self.counters.update_credit += self.cfg.utd_ratio;
        let mut batches = Vec::new();
        while self.counters.update_credit >= 1.0 {
            self.counters.update_credit -= 1.0;
            batches.push(self.replay.sample(self.cfg.batch_size, &mut self.rng));
        }
        batches
    }

    /// The statistics of this seed's updates since the last sync, oldest first, the last of
    /// them update number `updates`: each goes to the handler (the violation signal) and to
    /// the window, and the window's record (which says the number of its last update) to
    /// `out` when it is full.
    pub(crate) fn record_updates(&mut self, stats: &[UpdateStats], updates: u64, out: &mut Vec<Record>) {
        // The i-th of n statistics is update number (updates − n + i + 1).
        let first = updates + 1 - stats.len() as u64;
        for (k, s) in stats.iter().enumerate() {
            self.agent.handler_mut().observe_violation(s.violation);
            self.counters.window.push(s);
            if self.counters.window.len() >= self.cfg.log_every {
                out.push(self.update_record(first + k as u64));
            }
        }
        self.agent.set_updates(updates);
    }

    /// Training stops here: an update since the last sync diverged (`message` says how), and
    /// the seed keeps `last_good`, its networks after update number `updates`.
    pub(crate) fn stop_diverged(&mut self, message: String, last_good: AgentNets, updates: u64, out: &mut Vec<Record>) {
        self.agent.set_nets(last_good);
        self.agent.set_updates(updates);
        self.counters.diverged = Some(message.clone());
        out.push(Record::Diverged { step: self.counters.step, message });
    }

    /// Whether this step ends the run, evaluates or probes: the population reads what is left
    /// on the device first.
    pub(crate) fn needs_current_agent(&self) -> bool {
        self.counters.diverged.is_none() && (self.counters.step >= self.cfg.total_steps || self.evaluation_due())
    }

    /// Whether this step evaluates or probes (the agent must be current for it); never after
    /// a divergence.
    pub(crate) fn evaluation_due(&self) -> bool {
        self.counters.diverged.is_none() && Evaluator::due(&self.cfg, self.counters.step)
    }

    /// The evaluation and the probe this step makes due ([`Evaluator::records`]), after the
    /// step's records in `out`.
    ///
    /// # Errors
    /// [`AlamError::Device`] when a read of the device fails.
    pub(crate) async fn evaluate(&mut self, out: &mut Vec<Record>) -> Result<()> {
        self.evaluator.records(&self.agent, &self.cfg, self.counters.step, out).await
    }

    fn update_record(&mut self, updates: u64) -> Record {
        let stats: UpdateStats = self.counters.window.take();
        let (t0, step0, upd0) = self.last_log;
        let step = self.counters.step;
        let dt = t0.elapsed().as_secs_f64().max(1e-9);
        self.last_log = (Instant::now(), step, updates);
        Record::Update {
            step,
            updates,
            stats,
            updates_per_s: (updates - upd0) as f64 / dt,
            env_steps_per_s: (step - step0) as f64 / dt,
        }
    }
}
