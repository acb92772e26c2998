//! One seed's run: its environment, replay buffer, exploration, episode counters, update
//! records, evaluations and probes — env → replay → metrics records. Its agent is the seed's
//! view (acting, evaluating, saving); the networks train in the population's stacked learner.
//!
//! The loop itself (act, step, store, update, record) is [`crate::population::PopulationTrainer`]'s,
//! for one seed (`alam train`, a page run of one seed) as for many: one call of its `step` is
//! one environment step of every seed plus the updates the update-to-data ratio makes due, so
//! the CLI and the page drive the same loop at their own pace.

use crate::Rng64;
use burn::tensor::Tensor;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::agent::{read_floats_async, Agent, UpdateStats};
use crate::config::TrainConfig;
use crate::env::{make_env, Env, ProbeGrid};
use crate::error::{AlamError, Result};
use crate::metrics::{quantize, summarize, Record, StatsWindow};
use crate::replay::{Batch, ReplayBuffer};
use crate::stats::roc_auc;

/// Side of the λ probe grid (docs/method.md §8: a fixed set of states, evaluated at intervals).
pub const PROBE_GRID: usize = 21;

pub struct Trainer {
    cfg: TrainConfig,
    env: Box<dyn Env>,
    eval_env: Box<dyn Env>,
    agent: Agent,
    replay: ReplayBuffer,
    /// Exploration noise and replay sampling.
    rng: Rng64,
    obs: Vec<f32>,
    next_obs: Vec<f32>,
    step: u64,
    episode: u64,
    ep_return: f64,
    ep_cost: f64,
    ep_violations: u64,
    ep_len: u64,
    /// Violating steps since the start, finished episodes or not.
    total_violations: u64,
    /// Fractional updates owed (utd_ratio < 1 accumulates).
    update_credit: f64,
    window: StatsWindow,
    last_log: (Instant, u64, u64),
    probe: Option<ProbeGrid>,
    diverged: Option<String>,
    /// No update before this step: a run resumed from a weights-only file first refills its
    /// empty replay with `learning_starts` steps of its loaded policy.
    updates_from: u64,
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
    pub episode: u64,
    pub ep_return: f64,
    pub ep_cost: f64,
    pub ep_violations: u64,
    pub ep_len: u64,
    pub total_violations: u64,
    pub update_credit: f64,
    pub window: StatsWindow,
    pub diverged: Option<String>,
    pub updates_from: u64,
    /// The replay's cursor (rows stored, next slot); its rows are in the file's body.
    pub replay_len: usize,
    pub replay_next: usize,
}

impl Trainer {
    pub fn new(cfg: TrainConfig, device: &burn::tensor::Device) -> Result<Self> {
        cfg.validate()?;
        let mut env = make_env(cfg.env, cfg.seed);
        let eval_env = make_env(cfg.env, cfg.seed.wrapping_add(1_000_003));
        let (obs_dim, act_dim) = (env.obs_dim(), env.act_dim());
        let agent = Agent::new(&cfg, obs_dim, act_dim, device);
        let mut obs = vec![0.0; obs_dim];
        env.reset(&mut obs);
        let probe = env.probe_grid(PROBE_GRID, PROBE_GRID);
        Ok(Trainer {
            replay: ReplayBuffer::new(cfg.buffer_size, obs_dim, act_dim),
            rng: Rng64::seed_from_u64(cfg.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5EED),
            next_obs: vec![0.0; obs_dim],
            obs,
            env,
            eval_env,
            agent,
            step: 0,
            episode: 0,
            ep_return: 0.0,
            ep_cost: 0.0,
            ep_violations: 0,
            ep_len: 0,
            total_violations: 0,
            update_credit: 0.0,
            window: StatsWindow::default(),
            last_log: (Instant::now(), 0, 0),
            probe,
            diverged: None,
            updates_from: 0,
            cfg,
        })
    }

    /// The loop's host state for a full run file ([`crate::checkpoint::save_run_async`]).
    pub fn state(&self) -> TrainerState {
        let (replay_len, replay_next) = self.replay.cursor();
        TrainerState {
            rng: self.rng.clone(),
            env: self.env.save_state(),
            eval_env: self.eval_env.save_state(),
            obs: self.obs.iter().map(|v| v.to_bits()).collect(),
            episode: self.episode,
            ep_return: self.ep_return,
            ep_cost: self.ep_cost,
            ep_violations: self.ep_violations,
            ep_len: self.ep_len,
            total_violations: self.total_violations,
            update_credit: self.update_credit,
            window: self.window.clone(),
            diverged: self.diverged.clone(),
            updates_from: self.updates_from,
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
    /// env, a replay of the wrong size, an observation of the wrong length or non-finite).
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
        t.eval_env.load_state(&state.eval_env).map_err(bad)?;
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
        if !(state.update_credit.is_finite()
            && (0.0..1.0).contains(&state.update_credit)
            && state.ep_return.is_finite()
            && state.ep_cost.is_finite())
        {
            return Err(bad("trainer state: a counter is out of range".into()));
        }
        t.obs = obs;
        t.agent = agent;
        t.step = steps;
        t.rng = state.rng;
        t.episode = state.episode;
        t.ep_return = state.ep_return;
        t.ep_cost = state.ep_cost;
        t.ep_violations = state.ep_violations;
        t.ep_len = state.ep_len;
        t.total_violations = state.total_violations;
        t.update_credit = state.update_credit;
        t.window = state.window;
        t.diverged = state.diverged;
        t.updates_from = state.updates_from;
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
        trainer.step = steps;
        trainer.updates_from = steps.saturating_add(trainer.cfg.learning_starts);
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
        if self.step >= self.cfg.total_steps && self.diverged.is_none() {
            self.set_total_steps(self.step + self.cfg.total_steps)?;
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
        self.step < self.updates_from
    }

    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }
    pub fn agent(&self) -> &Agent {
        &self.agent
    }
    pub fn agent_mut(&mut self) -> &mut Agent {
        &mut self.agent
    }
    pub fn env(&self) -> &dyn Env {
        self.env.as_ref()
    }
    pub fn steps_done(&self) -> u64 {
        self.step
    }
    pub fn episodes_done(&self) -> u64 {
        self.episode
    }
    pub fn total_violations(&self) -> u64 {
        self.total_violations
    }
    pub fn is_done(&self) -> bool {
        self.step >= self.cfg.total_steps || self.diverged.is_some()
    }
    /// Why training stopped early, if it did.
    pub fn diverged(&self) -> Option<&str> {
        self.diverged.as_deref()
    }

    /// A uniform random action during the warm-up (`learning_starts`), else `None`: the policy
    /// acts, with [`Self::exploration_rng`].
    pub fn random_action(&mut self) -> Option<Vec<f32>> {
        (self.step < self.cfg.learning_starts)
            .then(|| (0..self.env.act_dim()).map(|_| self.rng.random_range(-1.0f32..1.0)).collect())
    }

    /// The observation the next action answers.
    pub fn observation(&self) -> &[f32] {
        &self.obs
    }

    /// Exploration noise and replay sampling draw from this RNG.
    pub fn exploration_rng(&mut self) -> &mut Rng64 {
        &mut self.rng
    }

    /// Steps the env with `action` and stores the transition; a finished episode gives its
    /// record and its cost to the handler (the scalar multipliers' signal).
    pub fn env_step(&mut self, action: &[f32], out: &mut Vec<Record>) {
        let o = self.env.step(action, &mut self.next_obs);
        self.replay.push(&self.obs, action, o.reward, o.cost, &self.next_obs, o.terminated);
        std::mem::swap(&mut self.obs, &mut self.next_obs);
        self.step += 1;
        self.ep_return += o.reward as f64;
        self.ep_cost += o.cost as f64;
        self.ep_violations += (o.cost > 0.0) as u64;
        self.total_violations += (o.cost > 0.0) as u64;
        self.ep_len += 1;
        if o.terminated || o.truncated {
            self.episode += 1;
            out.push(Record::Episode {
                step: self.step,
                episode: self.episode,
                ret: self.ep_return,
                cost: self.ep_cost,
                violations: self.ep_violations,
                length: self.ep_len,
            });
            self.agent.handler_mut().end_episode(self.ep_cost);
            self.ep_return = 0.0;
            self.ep_cost = 0.0;
            self.ep_violations = 0;
            self.ep_len = 0;
            self.env.reset(&mut self.obs);
        }
    }

    /// How many updates this step makes due (the update-to-data ratio's credit).
    pub fn updates_due(&mut self) -> u32 {
        let mut due = 0;
        // The replay check only bites after `resume` (learning_starts ≥ batch_size otherwise).
        if self.step >= self.cfg.learning_starts.max(self.updates_from) && self.replay.len() >= self.cfg.batch_size {
            self.update_credit += self.cfg.utd_ratio;
            while self.update_credit >= 1.0 {
                self.update_credit -= 1.0;
                due += 1;
            }
        }
        due
    }

    /// One update's batch from the replay buffer.
    pub fn sample_batch(&mut self) -> Batch {
        self.replay.sample(self.cfg.batch_size, &mut self.rng)
    }

    /// Adds an update's statistics to the window, and the window's record when it is full.
    /// Adds the statistics of update number `update` to the window, and the window's record
    /// (which says the number of its last update) when it is full.
    pub fn record_update(&mut self, stats: &UpdateStats, update: u64, out: &mut Vec<Record>) {
        self.window.push(stats);
        if self.window.len() >= self.cfg.log_every {
            out.push(self.update_record(update));
        }
    }

    /// Training stops here: the update that diverged has been undone.
    pub fn stop_diverged(&mut self, message: String, out: &mut Vec<Record>) {
        self.diverged = Some(message.clone());
        out.push(Record::Diverged { step: self.step, message });
    }

    /// Whether this step evaluates or probes (the agent must be current for it).
    pub fn periodic_due(&self) -> bool {
        self.eval_due() || self.probe_due()
    }

    fn eval_due(&self) -> bool {
        self.cfg.eval_every > 0 && self.step.is_multiple_of(self.cfg.eval_every)
    }

    fn probe_due(&self) -> bool {
        self.step.is_multiple_of(self.cfg.probe_every)
    }

    /// The evaluation and the probe this step makes due, after the step's records `out`.
    pub async fn periodic_records(&mut self, mut out: Vec<Record>) -> Result<Vec<Record>> {
        if self.eval_due() {
            out.push(self.evaluate(self.cfg.eval_episodes).await?);
        }
        if self.probe_due() {
            if let Some(r) = self.probe_record().await? {
                out.push(r);
            }
        }
        Ok(out)
    }

    fn update_record(&mut self, updates: u64) -> Record {
        let stats: UpdateStats = self.window.take();
        let (t0, step0, upd0) = self.last_log;
        let dt = t0.elapsed().as_secs_f64().max(1e-9);
        self.last_log = (Instant::now(), self.step, updates);
        Record::Update {
            step: self.step,
            updates,
            stats,
            updates_per_s: (updates - upd0) as f64 / dt,
            env_steps_per_s: (self.step - step0) as f64 / dt,
        }
    }

    /// Deterministic episodes (tanh of the mean action) on the separate evaluation env.
    pub async fn evaluate(&mut self, episodes: u64) -> Result<Record> {
        let e = evaluate_policy(&self.agent, self.eval_env.as_mut(), episodes).await?;
        Ok(Record::Eval {
            step: self.step,
            return_mean: e.return_mean,
            cost_mean: e.cost_mean,
            violations_mean: e.violations_mean,
            episodes,
        })
    }

    /// λ and Q_c on the fixed probe grid, if the env has one.
    pub async fn probe_record(&self) -> Result<Option<Record>> {
        let Some(grid) = &self.probe else { return Ok(None) };
        // λ and Q_c side by side: one read.
        let both = read_floats_async(Tensor::cat(
            vec![self.agent.lambda_tensor(&grid.obs), self.agent.cost_value_tensor(&grid.obs)],
            1,
        ))
        .await?;
        let lambda: Vec<f32> = both.iter().step_by(2).copied().collect();
        let qc: Vec<f32> = both.iter().skip(1).step_by(2).copied().collect();
        let (mean, std, max, flagged) = summarize(&lambda, self.cfg.lambda_max);
        let cost_value_mean = qc.iter().map(|&v| v as f64).sum::<f64>() / qc.len().max(1) as f64;
        let auc = |scores: &[f32]| {
            let doomed = grid.doomed.as_ref()?;
            roc_auc(&scores.iter().map(|&v| v as f64).collect::<Vec<_>>(), doomed)
        };
        Ok(Some(Record::Probe {
            step: self.step,
            lambda_mean: mean,
            lambda_std: std,
            lambda_max: max,
            cost_value_mean,
            flagged_frac: flagged,
            calibration_auc: auc(&lambda),
            cost_value_auc: auc(&qc),
            lambda_grid: quantize(&lambda),
            cost_value_grid: quantize(&qc),
        }))
    }

    /// The probe grid (for heat maps), fixed at the start of the run.
    pub fn probe_grid(&self) -> Option<&ProbeGrid> {
        self.probe.as_ref()
    }
}

/// Means over deterministic episodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    pub return_mean: f64,
    pub cost_mean: f64,
    pub violations_mean: f64,
    /// Episodes ended by a non-finite action, observation or reward: each such step counted as
    /// a violation (cost 1), the episode ended there. A policy with any is a failed policy,
    /// never a safe one (`alam eval` exits 3).
    pub non_finite_episodes: u64,
}

/// Runs `episodes` deterministic episodes (tanh of the mean action) of `agent` on `env`:
/// the trainer's periodic evaluation and `alam eval` alike. A non-finite action, observation
/// or reward is a violation and ends its episode ([`Evaluation::non_finite_episodes`]): a NaN
/// state compares as "no violation" in an env's own check and must never read as safe.
pub async fn evaluate_policy(agent: &Agent, env: &mut dyn Env, episodes: u64) -> Result<Evaluation> {
    let (mut ret, mut cost, mut viol, mut non_finite) = (0.0, 0.0, 0u64, 0u64);
    let mut obs = vec![0.0; env.obs_dim()];
    // Deterministic actions draw nothing from it; `act` only needs one to hand.
    let mut rng = Rng64::seed_from_u64(0);
    for _ in 0..episodes {
        env.reset(&mut obs);
        loop {
            let a = agent.act(&obs, true, &mut rng).await?;
            if a.iter().any(|v| !v.is_finite()) {
                (cost, viol, non_finite) = (cost + 1.0, viol + 1, non_finite + 1);
                break;
            }
            let o = env.step(&a, &mut obs);
            if !o.reward.is_finite() || obs.iter().any(|v| !v.is_finite()) {
                (cost, viol, non_finite) = (cost + 1.0, viol + 1, non_finite + 1);
                break;
            }
            ret += o.reward as f64;
            cost += o.cost as f64;
            viol += (o.cost > 0.0) as u64;
            if o.terminated || o.truncated {
                break;
            }
        }
    }
    let n = episodes.max(1) as f64;
    Ok(Evaluation {
        return_mean: ret / n,
        cost_mean: cost / n,
        violations_mean: viol as f64 / n,
        non_finite_episodes: non_finite,
    })
}
