//! SAC with a cost critic and a pluggable constraint handler (docs/method.md §4), device-generic:
//! the same code runs on burn's pure-Rust CPU device, in wasm and on WebGPU.
//!
//! One update reads top to bottom in the paper's order: critics, actor (with the handler's
//! penalty), temperature, multiplier, targets. All randomness (replay indices, Gaussian noise)
//! comes from one seeded host RNG, so a seed fixes a run on every device.

pub mod adam;
pub mod handler;
pub mod nets;
pub mod readback;
/// A population's agents: N seeds' networks stacked and updated as one batched call (networks
/// and update only; driven by [`crate::population`]), read once per sync, asynchronously.
pub mod stacked;
pub mod steps;

use crate::Rng64;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::error::{AlamError, Result};
use crate::replay::Batch;
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
    /// 1 on the cost critic heads, 0 on the reward heads, `[heads, 1, 1]` (autodiff device).
    cost_head_mask: Tensor<3>,
    /// The unit vectors of `[10]` (plain device): [`Agent::pack_stats`].
    stat_units: Vec<Tensor<1>>,
    /// `[heads, 10]` (plain device): 1 where a head's loss adds to a statistic (the reward
    /// heads to `critic_loss`, the cost heads to `cost_critic_loss`), else 0.
    head_stats: Tensor<2>,
}

impl Agent {
    /// A fresh agent on `device` (the plain device; autodiff is turned on here).
    pub fn new(cfg: &TrainConfig, obs_dim: usize, act_dim: usize, device: &Device) -> Self {
        let plain = device.clone();
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
        let n_stats = UpdateStats::NAMES.len();
        let stat_units = (0..n_stats)
            .map(|i| {
                Tensor::from_data(
                    TensorData::new((0..n_stats).map(|j| f32::from(i == j)).collect::<Vec<f32>>(), [n_stats]),
                    &plain,
                )
            })
            .collect();
        let head_stats: Vec<f32> = (0..heads)
            .flat_map(|h| (0..n_stats).map(move |i| f32::from(i == usize::from(h >= REWARD_HEADS))))
            .collect();
        let head_stats = Tensor::from_data(TensorData::new(head_stats, [heads, n_stats]), &plain);
        let mask: Vec<f32> = (0..heads).map(|h| f32::from(h >= REWARD_HEADS)).collect();
        let cost_head_mask = Tensor::from_data(TensorData::new(mask, [heads, 1, 1]), &device);
        Agent {
            cfg: cfg.clone(),
            obs_dim,
            act_dim,
            cost_head_mask,
            stat_units,
            head_stats,
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

    /// The batch and this update's Gaussian noise as one host buffer, uploaded in one write
    /// (one `writeBuffer` on WebGPU) and cut into views on the device: the states `[2b, obs]`
    /// (the batch's obs, then its next_obs), act `[b, act]`, reward, cost, done `[b, 1]`, and the
    /// noise `[2b, act]` (for the actions at obs, then at next_obs) — obs and next_obs side by
    /// side so that one actor pass serves both.
    fn upload(&mut self, batch: &Batch) -> [Tensor<2>; 6] {
        let b = batch.len();
        let (o, a) = (self.obs_dim, self.act_dim);
        let rows = [2 * b, b, b, b, b, 2 * b];
        let widths = [o, a, 1, 1, 1, a];
        let mut host: Vec<f32> = Vec::with_capacity(rows.iter().zip(&widths).map(|(r, w)| r * w).sum());
        for part in [&batch.obs, &batch.next_obs, &batch.act, &batch.reward, &batch.cost, &batch.done] {
            host.extend_from_slice(part);
        }
        // Drawn in this order (next-action noise, then action noise) from the agent's RNG.
        let next_noise: Vec<f32> = (0..b * a).map(|_| StandardNormal.sample(&mut self.rng)).collect();
        host.extend((0..b * a).map(|_| -> f32 { StandardNormal.sample(&mut self.rng) }));
        host.extend(next_noise);
        let len = host.len();
        let all: Tensor<1> = Tensor::from_data(TensorData::new(host, [len]), &self.device);
        let mut offset = 0;
        std::array::from_fn(|i| {
            let part = all.clone().narrow(0, offset, rows[i] * widths[i]).reshape([rows[i], widths[i]]);
            offset += rows[i] * widths[i];
            part
        })
    }

    /// One SAC update with the handler's constraint (`docs/method.md` §3–§4). The networks are
    /// updated now; the statistics stay on the device until the next [`Agent::sync`], which
    /// also judges this update. Nothing here reads from the device.
    pub fn update(&mut self, batch: &Batch) {
        let cfg = self.cfg.clone();
        let (gamma, cost_gamma, d) = (cfg.gamma, cfg.cost_gamma, cfg.cost_threshold);
        let b = batch.len();
        let [states, act, reward, cost, done, noise] = self.upload(batch);
        let (obs, next_obs) = (states.clone().narrow(0, 0, b), states.clone().narrow(0, b, b));
        let not_done = done.neg() + 1.0;
        let alpha = self.learner.temperature.log_alpha.val().detach().exp().unsqueeze::<2>();

        // One actor pass over [obs; next_obs] (the actor does not change before step 3): the
        // next actions of the critic targets, without gradient, and the actions the actor loss
        // differentiates — one forward pass where two cost twice the kernels.
        let (actions, log_probs) = self.learner.actor.sample(states, noise);
        let (new_act, logp) = (actions.clone().narrow(0, 0, b), log_probs.clone().narrow(0, 0, b));
        let (next_act, next_logp) = (actions.narrow(0, b, b).inner(), log_probs.narrow(0, b, b).inner());

        // 1. Critic targets, no gradient: y = r + γ(1−done)(min Q'_r − α log π), y_c = c + γ_c(1−done) Q'_c.
        let q_next = self.learner.critics_target.forward(next_obs.inner(), next_act);
        let head = |q: &Tensor<3>, i: usize| q.clone().narrow(0, i, 1).reshape([b, 1]);
        let n_cost = cost_heads(&cfg);
        // Pessimistic cost value: the max of the cost twins, as the reward side takes the min,
        // so the actor cannot exploit one critic's underestimate of the danger ahead.
        let cost_value = |q: &Tensor<3>| q.clone().narrow(0, REWARD_HEADS, n_cost).max_dim(0).reshape([b, 1]);
        let y_r = steps::reward_target(
            reward,
            not_done.clone(),
            head(&q_next, 0).min_pair(head(&q_next, 1)),
            next_logp,
            alpha.clone().inner(),
            gamma,
        );
        let y_c = steps::cost_target(cost, not_done, cost_value(&q_next), cost_gamma);
        // Each head's target `[heads, b, 1]`: y_r on the reward heads, y_c on the cost heads,
        // chosen by a 0/1 mask over the heads (elementwise: it fuses into one kernel, where a
        // stack costs a copy kernel per head).
        let is_cost = self.cost_head_mask.clone();
        let targets = (y_r.unsqueeze::<3>() * (is_cost.clone().neg() + 1.0) + y_c.unsqueeze::<3>() * is_cost).detach();

        // 2. Critic regression: reward twins and cost critic(s) in one ensemble step.
        let heads = REWARD_HEADS + n_cost;
        let per_head = steps::critic_losses(self.learner.critics.forward(obs.clone(), act), targets).reshape([heads]);
        let critic_loss = per_head.clone().sum();
        let grads = GradientsParams::from_grads(critic_loss.backward(), &self.learner.critics);
        self.learner.critics = self.learner.critic_opt.step(cfg.critic_lr, self.learner.critics.clone(), grads);

        // 3. Actor: α log π − min Q_r + the handler's penalty on h = Q_c(s, a) − d. The critics
        //    enter as constants (plain device), so only the actor's gradient is computed.
        let q_pi = self.learner.critics.valid().forward(obs.clone().inner(), new_act);
        let min_q = head(&q_pi, 0).min_pair(head(&q_pi, 1));
        let h = cost_value(&q_pi).sub_scalar(d);
        let obs_plain = obs.clone().inner();
        let (penalty, lambda) = match self.learner.handler.policy_penalty(h.clone(), &obs) {
            Some((p, l)) => (Some(p), l),
            None => (None, Tensor::zeros([b, 1], &obs.device())),
        };
        let per_sample =
            steps::actor_objective(logp.clone(), alpha.clone(), min_q, penalty, lambda.clone(), cfg.normalize_penalty);
        let actor_loss = per_sample.mean(); // `steps::batch_mean`, one agent's, without its reshape
        let grads = GradientsParams::from_grads(actor_loss.backward(), &self.learner.actor);
        self.learner.actor = self.learner.actor_opt.step(cfg.actor_lr, self.learner.actor.clone(), grads);

        // 4. Temperature: α ← α − η ∂/∂log α [−log α (log π + target entropy)], target −|A|.
        let entropy_gap = steps::entropy_gap(logp, self.act_dim).reshape([1]);
        let alpha_loss = steps::temperature_loss(self.learner.temperature.log_alpha.val(), entropy_gap);
        let grads = GradientsParams::from_grads(alpha_loss.backward(), &self.learner.temperature);
        self.learner.temperature = self.learner.alpha_opt.step(cfg.alpha_lr, self.learner.temperature.clone(), grads);

        // 5. Multiplier (handler-specific: FAC ascends, ALaM regresses to the dual target).
        self.updates += 1;
        let h = h.detach().inner();
        let multiplier_loss = self
            .learner
            .handler
            .update_multiplier(&obs, h.clone().autodiff(), lambda.clone(), self.updates)
            .map(|l| l.inner())
            .unwrap_or_else(|| Tensor::zeros([1], &obs_plain.device()));

        // 6. Polyak-averaged targets.
        self.learner.critics_target = self.learner.critics_target.clone().soft_update(&self.learner.critics, cfg.tau);

        // The batch's statistics in few kernels: λ, h and max(0, h) put in their statistics'
        // columns of one `[b, 10]` matrix (elementwise) and averaged in one reduction; the heads'
        // losses summed into theirs by one product with a `[heads, 10]` 0/1 matrix.
        let column = |i: usize| self.stat_units[i].clone().unsqueeze::<2>();
        let lambda = lambda.inner();
        let columns =
            lambda.clone() * column(5) + h.clone() * column(8) + burn::tensor::activation::relu(h) * column(9);
        let means = columns.mean_dim(0).reshape([UpdateStats::NAMES.len()]);
        let head_losses =
            per_head.inner().unsqueeze::<2>().matmul(self.head_stats.clone()).reshape([UpdateStats::NAMES.len()]);
        let stats = self.pack_stats(
            means + head_losses + self.stat_units[8].clone().mul_scalar(d),
            [
                (2, actor_loss.inner()),
                (3, alpha_loss.inner()),
                (4, alpha.inner().reshape([1])),
                (6, lambda.max().reshape([1])),
                (7, multiplier_loss),
            ],
        );
        self.unread.push(stats);
    }

    /// One update's statistics as one vector `[10]` ([`UpdateStats::NAMES`] order): `base`
    /// plus Σᵢ sᵢ·eᵢ for the scalars `[1]` at their indices, with eᵢ the i-th unit vector:
    /// elementwise, so it fuses into few kernels, where a concatenation costs a copy kernel per
    /// statistic (dispatches per update on WebGPU: BENCHMARKS.md).
    fn pack_stats(&self, base: Tensor<1>, scalars: [(usize, Tensor<1>); 5]) -> Tensor<1> {
        scalars.into_iter().fold(base, |packed, (i, s)| packed + self.stat_units[i].clone() * s)
    }

    /// Whether [`Agent::sync`] is due: `sync_every` updates are unread, or the acting policy
    /// is missing.
    pub fn sync_due(&self) -> bool {
        self.unread.len() as u64 >= self.cfg.sync_every || self.policy.is_none()
    }

    /// Updates made since the last sync (their statistics not read yet).
    pub fn unread_updates(&self) -> usize {
        self.unread.len()
    }

    /// The one host read of the training loop, every `sync_every` updates: the statistics of
    /// the updates since the last sync, a finiteness probe of every trained network, and the
    /// actor's weights, packed into **one** read. It refreshes the acting policy (the CPU copy
    /// of the actor) and applies the divergence guard: when any value read is not finite, every
    /// update since the last good sync is undone (networks, optimisers, handler) and
    /// [`AlamError::Diverged`] names the first bad statistic. Returns the updates' statistics,
    /// oldest first.
    ///
    /// # Errors
    /// [`AlamError::Diverged`] as above (the agent is back at its last good state);
    /// [`AlamError::Device`] when the read fails.
    pub async fn sync(&mut self) -> Result<Vec<UpdateStats>> {
        let n = self.unread.len();
        let actor = self.learner.actor.valid();
        let actor_floats = readback::param_count(&actor);
        let mut parts: Vec<Tensor<1>> = std::mem::take(&mut self.unread);
        let mut others = readback::flatten_params(&self.learner.critics.valid());
        others.extend(readback::flatten_params(&self.learner.critics_target));
        others.extend(readback::flatten_params(&self.learner.temperature.valid()));
        if let Some(m) = self.learner.handler.multiplier_net() {
            others.extend(readback::flatten_params(&m.valid()));
        }
        parts.extend(readback::finiteness_probe(others));
        parts.extend(readback::flatten_params(&actor));
        let values = read_floats_async(Tensor::cat(parts, 0)).await?;
        let stats_len = n * UpdateStats::NAMES.len();
        if values.len() != stats_len + 1 + actor_floats {
            return Err(AlamError::Device(format!(
                "sync read {} floats, expected {}",
                values.len(),
                stats_len + 1 + actor_floats
            )));
        }
        let (stats, rest) = values.split_at(stats_len);
        let bad_stat = stats.iter().position(|v| !v.is_finite());
        if bad_stat.is_some() || rest.iter().any(|v| !v.is_finite()) {
            let n = UpdateStats::NAMES.len();
            let (update, what) = match bad_stat {
                Some(i) => {
                    let row = &stats[i - i % n..i - i % n + n];
                    // A NaN or ∞ in one statistic spreads to all ten when they are packed
                    // (`pack_stats`: 0·NaN is NaN), so a whole row names no one of them.
                    let what = if row.iter().all(|v| !v.is_finite()) {
                        "every statistic of the update (a loss or λ)"
                    } else {
                        UpdateStats::NAMES[i % n]
                    };
                    (self.checked_updates + (i / n) as u64 + 1, what)
                }
                None => (self.updates, "the network weights"),
            };
            self.learner = self.checked.clone();
            self.updates = self.checked_updates;
            return Err(AlamError::Diverged { update, what: what.to_string() });
        }
        self.policy = Some(readback::rebuild_params(actor, &rest[1..], &self.host)?);
        self.checked = self.learner.clone();
        self.checked_updates = self.updates;
        let stats: Vec<UpdateStats> = stats
            .chunks(UpdateStats::NAMES.len())
            .map(|row| UpdateStats::from_values(std::array::from_fn(|i| row[i] as f64)))
            .collect();
        for s in &stats {
            self.learner.handler.observe_violation(s.violation);
        }
        Ok(stats)
    }

    /// One update and a sync at once: its statistics, judged. For callers that check every
    /// update (the population's equivalence tests, small tools).
    pub async fn update_and_sync(&mut self, batch: &Batch) -> Result<UpdateStats> {
        self.update(batch);
        let stats = self.sync().await?;
        stats.last().copied().ok_or_else(|| AlamError::Device("sync returned no statistics".into()))
    }

    /// [`Self::update_and_sync`], blocking: the native path (bench, tests).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn update_sync(&mut self, batch: &Batch) -> Result<UpdateStats> {
        pollster::block_on(self.update_and_sync(batch))
    }

    /// The online policy's pre-squash mean and log σ `[rows, act_dim]` for rows of
    /// observations (row-major), on the training device.
    pub fn policy_tensor(&self, obs: &[f32]) -> (Tensor<2>, Tensor<2>) {
        self.learner.actor.valid().forward(self.tensor(obs, self.obs_dim).inner())
    }

    /// An action for one observation: tanh(μ) when deterministic, else a sample drawn with
    /// `rng` (the trainer's exploration RNG). It comes from the acting policy, the CPU copy of
    /// the actor made at the last [`Agent::sync`] (so it lags the online actor by fewer than
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
