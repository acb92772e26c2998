//! SAC with a cost critic and a pluggable constraint handler (docs/method.md §4), device-generic:
//! the same code runs on burn's pure-Rust CPU device, in wasm and on WebGPU.
//!
//! One update reads top to bottom in the paper's order: critics, actor (with the handler's
//! penalty), temperature, multiplier, targets. All randomness (replay indices, Gaussian noise)
//! comes from one seeded host RNG, so a seed fixes a run on every device.

pub mod adam;
pub mod handler;
pub mod nets;
/// A population's agents: N seeds' networks stacked and updated as one batched call (networks
/// and update only; driven by [`crate::population`]), read once per sync, asynchronously.
pub mod population;
pub mod readback;
pub mod steps;

use crate::Rng64;
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::error::{AlamError, Result};
use adam::Adam;
use handler::{make_handler, ConstraintHandler, HandlerState};
use nets::{Actor, CriticEnsemble, MultiplierNet, Temperature, REWARD_HEADS};

/// Losses and multiplier statistics of one update, in the order [`UpdateStats::NAMES`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateStats {
    /// Twin reward critics' MSE, summed.
    pub critic_loss: f64,
    pub cost_critic_loss: f64,
    pub actor_loss: f64,
    pub alpha_loss: f64,
    pub alpha: f64,
    /// Mean and max of λ over the batch states.
    pub lambda_mean: f64,
    pub lambda_max: f64,
    /// Multiplier loss when the multiplier was trained this update, else 0.
    pub multiplier_loss: f64,
    /// Mean Q_c(s, π(s)) over the batch.
    pub cost_value: f64,
    /// Mean max(0, h): how far the batch's constraint is violated.
    pub violation: f64,
}

impl UpdateStats {
    pub const NAMES: [&'static str; 10] = [
        "critic_loss",
        "cost_critic_loss",
        "actor_loss",
        "alpha_loss",
        "alpha",
        "lambda_mean",
        "lambda_max",
        "multiplier_loss",
        "cost_value",
        "violation",
    ];

    /// The inverse of [`UpdateStats::values`]: the statistics in [`UpdateStats::NAMES`] order.
    pub fn from_values(v: [f64; 10]) -> Self {
        UpdateStats {
            critic_loss: v[0],
            cost_critic_loss: v[1],
            actor_loss: v[2],
            alpha_loss: v[3],
            alpha: v[4],
            lambda_mean: v[5],
            lambda_max: v[6],
            multiplier_loss: v[7],
            cost_value: v[8],
            violation: v[9],
        }
    }

    pub fn values(&self) -> [f64; 10] {
        [
            self.critic_loss,
            self.cost_critic_loss,
            self.actor_loss,
            self.alpha_loss,
            self.alpha,
            self.lambda_mean,
            self.lambda_max,
            self.multiplier_loss,
            self.cost_value,
            self.violation,
        ]
    }
}

/// Everything an update changes: cloned before each update (cheap: tensors are shared) so a
/// diverged update can be undone whole.
#[derive(Clone)]
struct Learner {
    actor: Actor,
    critics: CriticEnsemble,
    /// Target critics never need gradients: they live on the plain device.
    critics_target: CriticEnsemble,
    temperature: Temperature,
    actor_opt: Adam<Actor>,
    critic_opt: Adam<CriticEnsemble>,
    alpha_opt: Adam<Temperature>,
    handler: Box<dyn ConstraintHandler>,
}

impl Clone for Box<dyn ConstraintHandler> {
    fn clone(&self) -> Self {
        self.box_clone()
    }
}

/// The networks of an agent, as one module so they save and load as one record.
#[derive(Module, Debug)]
pub struct AgentNets {
    pub actor: Actor,
    pub critics: CriticEnsemble,
    pub critics_target: CriticEnsemble,
    pub temperature: Temperature,
    pub multiplier: Option<MultiplierNet>,
}

pub struct Agent {
    cfg: TrainConfig,
    obs_dim: usize,
    act_dim: usize,
    /// The autodiff device the online networks live on.
    device: Device,
    /// The CPU device the acting policy lives on.
    host: Device,
    learner: Learner,
    /// The learner as of the last sync whose reads were all finite: a diverged sync rolls
    /// back here. Cloning is cheap (tensors are shared), so this costs no copy.
    checked: Learner,
    checked_updates: u64,
    /// Statistics `[10]` of the updates since the last sync, still on the device.
    unread: Vec<Tensor<1>>,
    /// The acting policy: the actor as of the last sync, on the CPU device, so that acting and
    /// evaluating never read from the GPU. `None` until the first sync after the networks
    /// changed wholesale (new agent, load); [`Agent::act`] then uses the online actor.
    policy: Option<Actor>,
    rng: Rng64,
    updates: u64,
}

impl Agent {
    /// A fresh agent on `device` (the plain device; autodiff is turned on here).
    pub fn new(cfg: &TrainConfig, obs_dim: usize, act_dim: usize, device: &Device) -> Self {
        let device = device.clone().autodiff();
        let mut rng = Rng64::seed_from_u64(cfg.seed ^ 0xA1A4_5EED);
        let actor = Actor::new(&mut rng, obs_dim, act_dim, cfg.hidden, &device);
        let heads = REWARD_HEADS + cost_heads(cfg);
        let critics = CriticEnsemble::new(&mut rng, obs_dim + act_dim, cfg.hidden, heads, &device);
        let critics_target = critics.valid();
        let handler = make_handler(cfg, obs_dim, &mut rng, &device);
        let temperature = Temperature::new(cfg.init_alpha, &device);
        let learner = Learner {
            actor_opt: Adam::new(&actor),
            critic_opt: Adam::new(&critics),
            alpha_opt: Adam::new(&temperature),
            temperature,
            actor,
            critics,
            critics_target,
            handler,
        };
        Agent {
            cfg: cfg.clone(),
            obs_dim,
            act_dim,
            checked: learner.clone(),
            checked_updates: 0,
            learner,
            unread: Vec::new(),
            policy: None,
            device,
            host: Device::flex(),
            rng,
            updates: 0,
        }
    }

    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }
    pub fn act_dim(&self) -> usize {
        self.act_dim
    }
    pub fn updates(&self) -> u64 {
        self.updates
    }
    pub fn handler(&self) -> &dyn ConstraintHandler {
        self.learner.handler.as_ref()
    }
    pub fn handler_mut(&mut self) -> &mut dyn ConstraintHandler {
        self.learner.handler.as_mut()
    }

    fn tensor(&self, data: &[f32], cols: usize) -> Tensor<2> {
        Tensor::from_data(TensorData::new(data.to_vec(), [data.len() / cols, cols]), &self.device)
    }

    /// Updates made since the last sync of the population this agent was written from (their
    /// statistics not read yet; a full run file carries them).
    pub fn unread_updates(&self) -> usize {
        self.unread.len()
    }

    /// The online policy's pre-squash mean and log σ `[rows, act_dim]` for rows of
    /// observations (row-major), on the training device.
    pub fn policy_tensor(&self, obs: &[f32]) -> (Tensor<2>, Tensor<2>) {
        self.learner.actor.valid().forward(self.tensor(obs, self.obs_dim).inner())
    }

    /// An action for one observation: tanh(μ) when deterministic, else a sample drawn with
    /// `rng` (the trainer's exploration RNG). It comes from the acting policy, the CPU copy of
    /// the actor made at the population's last sync (so it lags the online actor by fewer than
    /// `sync_every` updates and never reads from a GPU); before the first sync, from the
    /// online actor.
    pub async fn act(&self, obs: &[f32], deterministic: bool, rng: &mut Rng64) -> Result<Vec<f32>> {
        let (mean, log_std) = match &self.policy {
            Some(policy) => {
                policy.forward(Tensor::from_data(TensorData::new(obs.to_vec(), [1, self.obs_dim]), &self.host))
            }
            None => self.policy_tensor(obs),
        };
        let mean_logstd = read_floats_async(Tensor::cat(vec![mean, log_std], 1)).await?;
        Ok(squash_action(&mean_logstd, self.act_dim, deterministic, rng))
    }

    /// λ(s) for rows of observations (heat map, probe set, calibration).
    pub fn lambda_tensor(&self, obs: &[f32]) -> Tensor<2> {
        self.learner.handler.lambda(self.tensor(obs, self.obs_dim).inner())
    }

    /// Q_c(s, tanh μ(s)) for rows of observations: the cost critic as a risk detector (§8).
    pub fn cost_value_tensor(&self, obs: &[f32]) -> Tensor<2> {
        let obs = self.tensor(obs, self.obs_dim).inner();
        let (mean, _) = self.learner.actor.valid().forward(obs.clone());
        let [n, _] = obs.dims();
        let q = self.learner.critics.valid().forward(obs, mean.tanh());
        q.narrow(0, REWARD_HEADS, cost_heads(&self.cfg)).max_dim(0).reshape([n, 1])
    }

    /// All networks as one module (for saving).
    pub fn nets(&self) -> AgentNets {
        AgentNets {
            actor: self.learner.actor.clone(),
            critics: self.learner.critics.clone(),
            critics_target: self.learner.critics_target.clone(),
            temperature: self.learner.temperature.clone(),
            multiplier: self.learner.handler.multiplier_net().cloned(),
        }
    }

    /// Replaces the networks (after loading); the Adam moments stay as they are (a fresh
    /// agent's are zero: a weights-only file's run starts Adam afresh). The new
    /// networks count as checked, and the acting policy is rebuilt at the next sync.
    pub fn set_nets(&mut self, nets: AgentNets) {
        self.learner.actor = nets.actor;
        self.learner.critics = nets.critics;
        self.learner.critics_target = nets.critics_target;
        self.learner.temperature = nets.temperature;
        if let Some(m) = nets.multiplier {
            self.learner.handler.set_multiplier_net(m);
        }
        self.unread.clear();
        self.policy = None;
        self.checked = self.learner.clone();
    }

    pub fn set_updates(&mut self, updates: u64) {
        self.updates = updates;
        self.checked_updates = updates;
    }
}

/// The Adam moments (one of m, v) of every trained network; the critic targets have none.
#[derive(Module, Debug)]
pub struct AgentMoments {
    pub actor: Actor,
    pub critics: CriticEnsemble,
    pub temperature: Temperature,
    pub multiplier: Option<MultiplierNet>,
}

/// Everything an update changes on the device, as one module: the networks and both Adam
/// moments.
#[derive(Module, Debug)]
pub struct LearnerNets {
    pub nets: AgentNets,
    pub moment_1: AgentMoments,
    pub moment_2: AgentMoments,
    /// ALaM's anchor λ_old (docs/method.md §3b), when the run has one.
    pub multiplier_anchor: Option<MultiplierNet>,
}

/// The agent's device state for a full run file: the learner, and, while updates are unread,
/// the learner as of the last good sync (where the divergence guard rolls back to).
#[derive(Module, Debug)]
pub struct AgentRecord {
    pub learner: LearnerNets,
    pub checked: Option<LearnerNets>,
}

/// The agent's host state for a full run file (the header's JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentScalars {
    pub updates: u64,
    pub checked_updates: u64,
    /// The update noise's generator.
    pub rng: Rng64,
    /// Adam steps taken by the actor's, critics', temperature's and multiplier's optimisers:
    /// now, and at the last good sync.
    pub adam_steps: [u64; 4],
    pub checked_adam_steps: [u64; 4],
    /// The handler's scalars now, and at the last good sync.
    pub handler: HandlerState,
    pub checked_handler: HandlerState,
    /// The statistics of the updates not read yet, `[10]` each as f32 bits (they may be NaN:
    /// the next sync judges them), oldest first.
    pub unread: Vec<Vec<u32>>,
    /// Whether the acting policy (the actor as of the last sync) exists.
    pub policy: bool,
}

impl Learner {
    fn record(&self) -> LearnerNets {
        LearnerNets {
            nets: AgentNets {
                actor: self.actor.clone(),
                critics: self.critics.clone(),
                critics_target: self.critics_target.clone(),
                temperature: self.temperature.clone(),
                multiplier: self.handler.multiplier_net().cloned(),
            },
            moment_1: self.moments(false),
            moment_2: self.moments(true),
            multiplier_anchor: self.handler.multiplier_anchor().cloned(),
        }
    }

    /// The first (`second` false) or second Adam moments of every trained network.
    fn moments(&self, second: bool) -> AgentMoments {
        fn take<M: Module>(adam: &Adam<M>, second: bool) -> M {
            let (m, v, _) = adam.parts();
            if second {
                v.clone()
            } else {
                m.clone()
            }
        }
        AgentMoments {
            actor: take(&self.actor_opt, second),
            critics: take(&self.critic_opt, second),
            temperature: take(&self.alpha_opt, second),
            multiplier: self.handler.multiplier_optimiser().map(|o| take(o, second)),
        }
    }

    fn adam_steps(&self) -> [u64; 4] {
        let m = self.handler.multiplier_optimiser().map_or(0, |o| o.time());
        [self.actor_opt.time(), self.critic_opt.time(), self.alpha_opt.time(), m]
    }

    /// This learner with `record`'s tensors, `steps` Adam steps and `handler`'s scalars.
    fn with_record(&self, record: LearnerNets, steps: [u64; 4], handler: HandlerState) -> Learner {
        let (n, m, v) = (record.nets, record.moment_1, record.moment_2);
        let mut h = self.handler.clone();
        if let Some(net) = n.multiplier {
            h.set_multiplier_net(net);
        }
        if let Some(anchor) = record.multiplier_anchor {
            h.set_multiplier_anchor(anchor);
        }
        if let (Some(m), Some(v)) = (m.multiplier, v.multiplier) {
            h.set_multiplier_optimiser(Adam::from_parts(m, v, steps[3]));
        }
        h.restore_state(handler);
        Learner {
            actor: n.actor,
            critics: n.critics,
            critics_target: n.critics_target,
            temperature: n.temperature,
            actor_opt: Adam::from_parts(m.actor, v.actor, steps[0]),
            critic_opt: Adam::from_parts(m.critics, v.critics, steps[1]),
            alpha_opt: Adam::from_parts(m.temperature, v.temperature, steps[2]),
            handler: h,
        }
    }
}

impl Agent {
    /// The device state a full run file holds, as modules on the agent's devices (the shape a
    /// file is checked against and loaded into): with `checked` iff updates are unread.
    pub fn record_template(&self, checked: bool) -> AgentRecord {
        AgentRecord { learner: self.learner.record(), checked: checked.then(|| self.checked.record()) }
    }

    /// The agent's whole state for a run file: its host scalars and its device state copied to
    /// the CPU, in **one** packed async read (the unread statistics ride along), so it works on
    /// WebGPU in wasm. Nothing of the agent changes: the run goes on as if never saved.
    ///
    /// # Errors
    /// [`AlamError::Device`] when the read fails.
    pub async fn save_state(&self) -> Result<(AgentScalars, AgentRecord)> {
        let record = self.record_template(!self.unread.is_empty()).valid();
        let stats_len = self.unread.len() * UpdateStats::NAMES.len();
        let mut parts: Vec<Tensor<1>> = self.unread.clone();
        parts.extend(readback::flatten_params(&record));
        let values = read_floats_async(Tensor::cat(parts, 0)).await?;
        if values.len() < stats_len {
            return Err(AlamError::Device(format!("save read {} floats, expected at least {stats_len}", values.len())));
        }
        let (stats, params) = values.split_at(stats_len);
        let host = readback::rebuild_params(record, params, &self.host)?;
        let scalars = AgentScalars {
            updates: self.updates,
            checked_updates: self.checked_updates,
            rng: self.rng.clone(),
            adam_steps: self.learner.adam_steps(),
            checked_adam_steps: self.checked.adam_steps(),
            handler: self.learner.handler.state(),
            checked_handler: self.checked.handler.state(),
            unread: stats
                .chunks(UpdateStats::NAMES.len())
                .map(|row| row.iter().map(|v| v.to_bits()).collect())
                .collect(),
            policy: self.policy.is_some(),
        };
        Ok((scalars, host))
    }

    /// Puts back what [`Agent::save_state`] gave: `record` loaded into
    /// [`Agent::record_template`] on this agent's devices, and `policy` (the acting policy, on
    /// the CPU device) when `scalars.policy`.
    ///
    /// # Errors
    /// [`AlamError::Weights`] when the parts do not fit together (an unread row that is not
    /// `[10]`, a missing acting policy).
    pub fn restore_state(&mut self, scalars: AgentScalars, record: AgentRecord, policy: Option<Actor>) -> Result<()> {
        let bad = |m: &str| Err(AlamError::Weights(m.to_string()));
        if scalars.unread.iter().any(|row| row.len() != UpdateStats::NAMES.len()) {
            return bad("agent state: an unread statistics row is not 10 values");
        }
        if scalars.unread.is_empty() != record.checked.is_none() {
            return bad("agent state: unread updates and the last good state must come together");
        }
        if scalars.unread.len() as u64 > self.cfg.sync_every
            || scalars.checked_updates + scalars.unread.len() as u64 != scalars.updates
        {
            return bad("agent state: the unread updates do not add up");
        }
        if scalars.policy && policy.is_none() {
            return bad("agent state: the acting policy is missing");
        }
        let learner = self.learner.with_record(record.learner, scalars.adam_steps, scalars.handler);
        self.checked = match record.checked {
            Some(c) => self.learner.with_record(c, scalars.checked_adam_steps, scalars.checked_handler),
            None => {
                let mut c = learner.clone();
                c.handler.restore_state(scalars.checked_handler);
                c
            }
        };
        self.learner = learner;
        self.unread = scalars
            .unread
            .iter()
            .map(|row| {
                Tensor::from_data(
                    TensorData::new(row.iter().map(|&b| f32::from_bits(b)).collect::<Vec<f32>>(), [row.len()]),
                    &self.device,
                )
                .inner()
            })
            .collect();
        self.policy = if scalars.policy { policy } else { None };
        self.updates = scalars.updates;
        self.checked_updates = scalars.checked_updates;
        self.rng = scalars.rng;
        Ok(())
    }
}

fn cost_heads(cfg: &TrainConfig) -> usize {
    if cfg.twin_cost_critic {
        2
    } else {
        1
    }
}

/// Turns [μ | log σ] into an action in [−1, 1]: tanh(μ) or tanh(μ + σε).
pub fn squash_action(mean_logstd: &[f32], act_dim: usize, deterministic: bool, rng: &mut Rng64) -> Vec<f32> {
    (0..act_dim)
        .map(|i| {
            let mean = mean_logstd[i];
            if deterministic {
                mean.tanh()
            } else {
                let eps: f32 = StandardNormal.sample(rng);
                (mean + mean_logstd[act_dim + i].exp() * eps).tanh()
            }
        })
        .collect()
}

#[cfg(not(target_arch = "wasm32"))]
pub use readback::read_floats;
pub use readback::read_floats_async;
