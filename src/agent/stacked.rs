//! A population's agents: N agents of one config (N seeds) as one set of networks and one update
//! — networks, optimisers and the update only; the envs, replay and records stay with the N
//! trainers that [`crate::population::PopulationTrainer`] drives and that feed this. Every
//! network is stacked along a leading seed axis (weights `[N, in, out]`, one batched matmul per
//! layer for all seeds) and one update serves all seeds — the same steps, in the same order,
//! as [`Agent::update`] (critics, actor with the handler's penalty, temperature, multiplier,
//! Polyak targets), for every algorithm.
//!
//! Why the result is N separate updates, only fused: no operation mixes two seeds (every
//! matmul is batched over the seed axis, every reduction is per seed), the total loss is the
//! sum of the seeds' own losses, so each seed's gradient is exactly its own; and Adam is
//! element-wise, so one optimiser over the stacked parameters moves each seed's slice as that
//! seed's own optimiser would. Noise is drawn per seed from each agent's own RNG, in the
//! agent's order, so a population built from N agents follows them (to float rounding of
//! the batched kernels: the tests below check it for every algorithm).
//!
//! One update in one place: every formula of the update — the critics' targets and losses,
//! the actor's objective, the temperature's loss — is [`crate::agent::steps`]'s, the agent's own, and
//! what differs between algorithms comes only from the [`ConstraintHandler`] (its stacked
//! methods: the penalty, the multiplier loss, a scalar λ); this file holds only what the
//! stacked layout changes (forward passes, optimiser steps, the seeds' noise and rollback).
//!
//! The scalar multiplier state (Lag's λ, PID-Lag's controller, ALaM's ρ) stays in each seed's
//! own handler ([`HandlerState`]); the update reads it per seed.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use rand_distr::{Distribution, StandardNormal};

use super::adam::Adam;
use super::handler::{ConstraintHandler, HandlerState, MultiplierSchedule};
use super::nets::{
    polyak, smooth_cap, tanh_gaussian, Actor, CriticEnsemble, Mlp, MultiplierNet, Temperature, LOG_STD_MAX,
    LOG_STD_MIN, REWARD_HEADS,
};
use super::steps;
use super::{cost_heads, read_floats, Agent, AgentNets, UpdateStats};
use crate::config::TrainConfig;
use crate::error::{AlamError, Result};
use crate::replay::Batch;
use crate::Rng64;

/// `stacks` independent 3-layer ReLU MLPs evaluated as one: input `[stacks, batch, in]`.
#[derive(Module, Debug)]
pub struct StackedMlp {
    weights: Vec<Param<Tensor<3>>>,
    biases: Vec<Param<Tensor<3>>>,
}

/// A fresh parameter holding `t`'s values (no graph), on the autodiff device.
fn own<const D: usize>(t: Tensor<D>) -> Param<Tensor<D>> {
    Param::from_tensor(t.inner().autodiff())
}

impl StackedMlp {
    /// Layer by layer `(weight [stacks, in, out], bias [stacks, 1, out])`.
    fn from_layers(layers: Vec<(Tensor<3>, Tensor<3>)>) -> Self {
        let (weights, biases) = layers.into_iter().map(|(w, b)| (own(w), own(b))).unzip();
        StackedMlp { weights, biases }
    }

    /// N agents' MLPs, stacked in order.
    fn stack(mlps: &[&Mlp]) -> Self {
        let layer = |pick: fn(&Mlp) -> &Linear| {
            let (w, b): (Vec<_>, Vec<_>) = mlps
                .iter()
                .map(|m| {
                    let l = pick(m);
                    let w = l.weight.val().inner();
                    let b = l
                        .bias
                        .as_ref()
                        .map(|b| b.val().inner())
                        .unwrap_or_else(|| Tensor::zeros([w.dims()[1]], &w.device()));
                    let out = b.dims()[0];
                    (w.unsqueeze::<3>(), b.reshape([1, 1, out]))
                })
                .unzip();
            (Tensor::cat(w, 0), Tensor::cat(b, 0))
        };
        Self::from_layers(vec![layer(|m| &m.l1), layer(|m| &m.l2), layer(|m| &m.l3)])
    }

    /// Stack `i` as an agent's [`Mlp`].
    fn unstack(&self, i: usize) -> Mlp {
        let linear = |k: usize| {
            let w: Tensor<3> = self.weights[k].val().narrow(0, i, 1);
            let b: Tensor<3> = self.biases[k].val().narrow(0, i, 1);
            let [_, d_in, d_out] = w.dims();
            Linear { weight: own(w.reshape([d_in, d_out])), bias: Some(own(b.reshape([d_out]))) }
        };
        Mlp { l1: linear(0), l2: linear(1), l3: linear(2) }
    }

    pub fn forward(&self, mut x: Tensor<3>) -> Tensor<3> {
        let last = self.weights.len() - 1;
        for (k, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            x = x.matmul(w.val()) + b.val();
            if k < last {
                x = relu(x);
            }
        }
        x
    }

    /// θ_target ← τ·θ + (1 − τ)·θ_target, per parameter.
    fn soft_update(self, online: &StackedMlp, tau: f64) -> Self {
        let mix = |t: Vec<Param<Tensor<3>>>, o: &[Param<Tensor<3>>]| {
            t.into_iter().zip(o).map(|(t, o)| polyak(t, o, tau)).collect()
        };
        StackedMlp { weights: mix(self.weights, &online.weights), biases: mix(self.biases, &online.biases) }
    }
}

/// Every seed's critic heads (reward twins, then the cost critic(s)) as `N·E` stacks: stack
/// `i·E + e` is head e of seed i. The agent's [`CriticEnsemble`] keeps its first layer fused
/// as `[in, E·h]`; here it is `E` stacks of `[in, h]` (the same numbers, rearranged).
fn stack_critics(critics: &[&CriticEnsemble]) -> StackedMlp {
    let layers = |c: &CriticEnsemble| {
        let w1 = c.w1.val().inner();
        let [d_in, eh] = w1.dims();
        let [e, _, h] = c.w2.dims();
        debug_assert_eq!(eh, e * h);
        vec![
            (w1.reshape([d_in, e, h]).swap_dims(0, 1), c.b1.val().inner().reshape([e, 1, h])),
            (c.w2.val().inner(), c.b2.val().inner()),
            (c.w3.val().inner(), c.b3.val().inner()),
        ]
    };
    let per_agent: Vec<_> = critics.iter().map(|c| layers(c)).collect();
    let layer = |k: usize| {
        let (w, b): (Vec<_>, Vec<_>) = per_agent.iter().map(|l| l[k].clone()).unzip();
        (Tensor::cat(w, 0), Tensor::cat(b, 0))
    };
    StackedMlp::from_layers(vec![layer(0), layer(1), layer(2)])
}

/// Seed i's heads as an agent's [`CriticEnsemble`] (inverse of [`stack_critics`]).
fn unstack_critics(s: &StackedMlp, i: usize, heads: usize) -> CriticEnsemble {
    let w = |k: usize| s.weights[k].val().narrow(0, i * heads, heads);
    let b = |k: usize| s.biases[k].val().narrow(0, i * heads, heads);
    let [e, d_in, h] = w(0).dims();
    CriticEnsemble {
        w1: own(w(0).swap_dims(0, 1).reshape([d_in, e * h])),
        b1: own(b(0).reshape([1, e * h])),
        w2: own(w(1)),
        b2: own(b(1)),
        w3: own(w(2)),
        b3: own(b(2)),
    }
}

/// log α of every seed, `[N, 1, 1]`.
fn stack_log_alpha(temperatures: &[&Temperature]) -> Tensor<3> {
    Tensor::cat(temperatures.iter().map(|t| t.log_alpha.val().inner().reshape([1, 1, 1])).collect(), 0)
}

/// The seeds' Adam states as one: moments stacked by `stack` (as the weights are), on the plain
/// device; the seeds share their step count (same config, same progress).
fn stack_adam<A: Module, S: Module>(opts: &[&Adam<A>], stack: impl Fn(&[&A]) -> S) -> Adam<S> {
    let m: Vec<&A> = opts.iter().map(|o| o.parts().0).collect();
    let v: Vec<&A> = opts.iter().map(|o| o.parts().1).collect();
    let time = opts.first().map_or(0, |o| o.time());
    Adam::from_parts(stack(&m).valid(), stack(&v).valid(), time)
}

/// Seed i's Adam state out of the stack's (inverse of [`stack_adam`]).
fn unstack_adam<S: Module, A: Module>(opt: &Adam<S>, unstack: impl Fn(&S) -> A) -> Adam<A> {
    let (m, v, time) = opt.parts();
    Adam::from_parts(unstack(m).valid(), unstack(v).valid(), time)
}

#[derive(Module, Debug)]
struct LogAlpha {
    /// log α per seed, `[N, 1, 1]`.
    value: Param<Tensor<3>>,
}

/// Everything an update changes, cloned before each update so that a diverged one can be
/// undone (the population's counterpart of the agent's `Learner`).
#[derive(Clone)]
struct StackedLearner {
    actor: StackedMlp,
    critics: StackedMlp,
    /// On the plain device, as the agent's.
    critics_target: StackedMlp,
    log_alpha: LogAlpha,
    multiplier: Option<StackedMlp>,
    /// ALaM's anchors λ_old, one per seed (docs/method.md §3b), when anchored.
    multiplier_anchor: Option<StackedMlp>,
    actor_opt: Adam<StackedMlp>,
    critic_opt: Adam<StackedMlp>,
    alpha_opt: Adam<LogAlpha>,
    multiplier_opt: Option<Adam<StackedMlp>>,
    /// Each seed's update noise, continuing its agent's RNG.
    rngs: Vec<Rng64>,
    updates: u64,
}

/// A population's agents: N seeds of one config (they differ in seed only), their networks
/// stacked along a leading seed axis and updated as one.
pub struct StackedAgents {
    cfg: TrainConfig,
    n: usize,
    obs_dim: usize,
    act_dim: usize,
    /// Critic heads per seed: the reward twins and the cost critic(s).
    heads: usize,
    device: Device,
    /// The seeds' algorithm: its formulas for stacked seeds (penalty, multiplier loss, scalar λ).
    /// Only its stacked methods are called, and they read each seed's scalars from the states
    /// that come with every update, never this copy's own (seed 0's when the population was made).
    handler: Box<dyn ConstraintHandler>,
    learner: StackedLearner,
    /// The acting policy: the stacked actor as of the last sync ([`StackedAgents::sync_policy`]),
    /// as each seed's [`Agent`] acts from its actor as of its last sync.
    acting: Option<StackedMlp>,
}

/// What one update of the population gave seed i.
#[derive(Debug)]
pub enum SeedUpdate {
    /// The seed was not live: nothing to report.
    Idle,
    Done(UpdateStats),
    /// This update made the seed's statistics non-finite. The whole update was undone and
    /// redone for the others; the seed's last good networks and update count are here (its
    /// slice of the stacked networks goes on as garbage and must not be read again).
    Diverged {
        error: AlamError,
        last_good: Box<AgentNets>,
        updates: u64,
    },
}

impl StackedAgents {
    /// A population of `agents` (same config apart from the seed, fresh or trained): their
    /// weights stacked, their update counts and their RNGs, so the population goes on as they would.
    pub fn from_agents(agents: &[&Agent]) -> Result<Self> {
        let first = agents.first().ok_or(AlamError::Config {
            field: "population",
            value: "0".into(),
            allowed: "must be ≥ 1",
        })?;
        let same = |a: &Agent| TrainConfig { seed: first.cfg.seed, ..a.cfg.clone() } == first.cfg;
        if !agents
            .iter()
            .all(|a| same(a) && a.obs_dim == first.obs_dim && a.act_dim == first.act_dim && a.updates == first.updates)
        {
            return Err(AlamError::ConfigParse(
                "a population's agents must share their config (seed apart) and progress".into(),
            ));
        }
        fn l<'a>(a: &&'a Agent) -> &'a super::Learner {
            &a.learner
        }
        let actors: Vec<&Mlp> = agents.iter().map(|a| &l(a).actor.net).collect();
        let critics: Vec<&CriticEnsemble> = agents.iter().map(|a| &l(a).critics).collect();
        let targets: Vec<&CriticEnsemble> = agents.iter().map(|a| &l(a).critics_target).collect();
        let multipliers: Option<Vec<&Mlp>> =
            agents.iter().map(|a| l(a).handler.multiplier_net().map(|m| &m.net)).collect();
        let anchors: Option<Vec<&Mlp>> =
            agents.iter().map(|a| l(a).handler.multiplier_anchor().map(|m| &m.net)).collect();
        let log_alpha = stack_log_alpha(&agents.iter().map(|a| &l(a).temperature).collect::<Vec<_>>());
        // Each seed's Adam moments are networks of its own shape: stacked as its weights are.
        let actor_opt = stack_adam(&agents.iter().map(|a| &l(a).actor_opt).collect::<Vec<_>>(), |m| {
            StackedMlp::stack(&m.iter().map(|a| &a.net).collect::<Vec<_>>())
        });
        let critic_opt = stack_adam(&agents.iter().map(|a| &l(a).critic_opt).collect::<Vec<_>>(), stack_critics);
        let alpha_opt = stack_adam(&agents.iter().map(|a| &l(a).alpha_opt).collect::<Vec<_>>(), |m| LogAlpha {
            value: own(stack_log_alpha(m)),
        });
        let multiplier_opts: Option<Vec<_>> = agents.iter().map(|a| l(a).handler.multiplier_optimiser()).collect();
        let multiplier_opt = multiplier_opts
            .map(|o| stack_adam(&o, |m| StackedMlp::stack(&m.iter().map(|n| &n.net).collect::<Vec<_>>())));
        Ok(StackedAgents {
            cfg: first.cfg.clone(),
            n: agents.len(),
            obs_dim: first.obs_dim,
            act_dim: first.act_dim,
            heads: REWARD_HEADS + cost_heads(&first.cfg),
            device: first.device.clone(),
            handler: first.learner.handler.box_clone(),
            learner: StackedLearner {
                actor: StackedMlp::stack(&actors),
                critics: stack_critics(&critics),
                critics_target: stack_critics(&targets).valid(),
                log_alpha: LogAlpha { value: own(log_alpha) },
                multiplier: multipliers.map(|m| StackedMlp::stack(&m)),
                multiplier_anchor: anchors.map(|m| StackedMlp::stack(&m)),
                actor_opt,
                critic_opt,
                alpha_opt,
                multiplier_opt,
                rngs: agents.iter().map(|a| a.rng.clone()).collect(),
                updates: first.updates,
            },
            acting: None,
        })
    }

    pub fn len(&self) -> usize {
        self.n
    }
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
    /// Policy updates done (the same for every seed).
    pub fn updates(&self) -> u64 {
        self.learner.updates
    }

    /// Whether the acting policy is missing (a sync is due before acting).
    pub fn policy_missing(&self) -> bool {
        self.acting.is_none()
    }

    /// The acting policy becomes the current actor (what [`Agent::sync`] does for one agent).
    pub fn sync_policy(&mut self) {
        self.acting = Some(self.learner.actor.valid());
    }

    /// Seed i's networks, update count and RNG written into `agent` (same config), so that it
    /// acts, evaluates, probes and saves as that seed, Adam moments included.
    pub fn write_seed(&self, i: usize, agent: &mut Agent) {
        agent.set_nets(self.seed_nets(i));
        agent.set_updates(self.learner.updates);
        agent.rng = self.learner.rngs[i].clone();
        let l = &self.learner;
        let heads = self.heads;
        agent.learner.actor_opt = unstack_adam(&l.actor_opt, |m| Actor { net: m.unstack(i) });
        agent.learner.critic_opt = unstack_adam(&l.critic_opt, |m| unstack_critics(m, i, heads));
        agent.learner.alpha_opt =
            unstack_adam(&l.alpha_opt, |m| Temperature { log_alpha: own(m.value.val().narrow(0, i, 1).reshape([1])) });
        if let Some(opt) = &l.multiplier_opt {
            agent.learner.handler.set_multiplier_optimiser(unstack_adam(opt, |m| MultiplierNet { net: m.unstack(i) }));
        }
        if let Some(anchor) = &l.multiplier_anchor {
            agent.learner.handler.set_multiplier_anchor(MultiplierNet { net: anchor.unstack(i) });
        }
        agent.checked = agent.learner.clone();
    }

    /// Seed i's slice of every network, as an agent's networks.
    fn seed_nets(&self, i: usize) -> AgentNets {
        let l = &self.learner;
        let log_alpha = l.log_alpha.value.val().narrow(0, i, 1).reshape([1]);
        AgentNets {
            actor: Actor { net: l.actor.unstack(i) },
            critics: unstack_critics(&l.critics, i, self.heads),
            critics_target: unstack_critics(&l.critics_target, i, self.heads).valid(),
            temperature: Temperature { log_alpha: own(log_alpha) },
            multiplier: l.multiplier.as_ref().map(|m| MultiplierNet { net: m.unstack(i) }),
        }
    }

    /// `[N, rows, cols]` from the seeds' rows, one seed after the other.
    fn tensor(&self, data: Vec<f32>, cols: usize) -> Tensor<3> {
        let rows = data.len() / cols / self.n;
        Tensor::from_data(TensorData::new(data, [self.n, rows, cols]), &self.device)
    }

    fn stacked(&self, batches: &[Batch], field: fn(&Batch) -> &Vec<f32>, cols: usize) -> Tensor<3> {
        self.tensor(batches.iter().flat_map(|b| field(b).iter().copied()).collect(), cols)
    }

    /// The pre-squash mean and log σ of every seed's policy for one observation each
    /// (`obs`: N rows): N rows of `[μ | log σ]`, as [`Agent::act`] reads them.
    pub fn policy(&self, obs: &[f32]) -> Result<Vec<f32>> {
        let actor = self.acting.clone().unwrap_or_else(|| self.learner.actor.valid());
        let out = actor.forward(self.tensor(obs.to_vec(), self.obs_dim).inner());
        let a = self.act_dim;
        let log_std = out.clone().narrow(2, a, a).clamp(LOG_STD_MIN, LOG_STD_MAX);
        read_floats(Tensor::cat(vec![out.narrow(2, 0, a), log_std], 2))
    }

    /// a = tanh(μ + σε) and log π(a|s), `[N, batch, act]` and `[N, batch, 1]`.
    fn sample(actor: &StackedMlp, obs: Tensor<3>, noise: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        let out = actor.forward(obs);
        let a = out.dims()[2] / 2;
        let mean = out.clone().narrow(2, 0, a);
        let log_std = out.narrow(2, a, a).clamp(LOG_STD_MIN, LOG_STD_MAX);
        tanh_gaussian(mean, log_std, noise)
    }

    /// Q-values `[N, E, batch, 1]`: each seed's input goes to its own E heads.
    fn q(&self, critics: &StackedMlp, obs: Tensor<3>, act: Tensor<3>) -> Tensor<4> {
        let [n, b, _] = obs.dims();
        let x = Tensor::cat(vec![obs, act], 2);
        let d = x.dims()[2];
        let x = x.unsqueeze_dim::<4>(1).repeat_dim(1, self.heads).reshape([n * self.heads, b, d]);
        critics.forward(x).reshape([n, self.heads, b, 1])
    }

    /// λ(s) of every seed's multiplier network, `[N, batch, 1]`, as `MultiplierNet::forward`.
    fn multiplier_lambda(&self, net: &StackedMlp, obs: Tensor<3>) -> Tensor<3> {
        smooth_cap(net.forward(obs), self.cfg.lambda_max)
    }

    /// One update of every seed from its own batch; `handlers` are the seeds' scalar states.
    /// Seeds not `live` (finished or diverged) are carried along and ignored. A seed whose
    /// statistics come out non-finite is reported [`SeedUpdate::Diverged`] and the update is
    /// undone and redone without it, so the others get exactly the update they would alone.
    pub fn update(&mut self, batches: &[Batch], handlers: &[HandlerState], live: &[bool]) -> Result<Vec<SeedUpdate>> {
        let mut live = live.to_vec();
        let mut diverged: Vec<Option<SeedUpdate>> = (0..self.n).map(|_| None).collect();
        loop {
            let rollback = self.learner.clone();
            let values = read_floats(self.update_all(batches, handlers))?;
            let row = |i: usize| &values[i * UpdateStats::NAMES.len()..(i + 1) * UpdateStats::NAMES.len()];
            let bad: Vec<(usize, usize)> = (0..self.n)
                .filter(|&i| live[i])
                .filter_map(|i| row(i).iter().position(|v| !v.is_finite()).map(|k| (i, k)))
                .collect();
            if bad.is_empty() {
                return Ok((0..self.n)
                    .map(|i| match diverged[i].take() {
                        Some(d) => d,
                        None if live[i] => {
                            SeedUpdate::Done(UpdateStats::from_values(std::array::from_fn(|k| row(i)[k] as f64)))
                        }
                        None => SeedUpdate::Idle,
                    })
                    .collect());
            }
            self.learner = rollback;
            for (i, k) in bad {
                live[i] = false;
                let error =
                    AlamError::Diverged { update: self.learner.updates + 1, what: UpdateStats::NAMES[k].to_string() };
                let last_good = Box::new(self.seed_nets(i));
                diverged[i] = Some(SeedUpdate::Diverged { error, last_good, updates: self.learner.updates });
            }
        }
    }

    /// [`Agent::update`] for all seeds at once; returns the statistics `[N, 10]` on the device.
    fn update_all(&mut self, batches: &[Batch], handlers: &[HandlerState]) -> Tensor<2> {
        let cfg = self.cfg.clone();
        let (n, a, d) = (self.n, self.act_dim, cfg.cost_threshold);
        let b = batches[0].len();
        let obs = self.stacked(batches, |x| &x.obs, self.obs_dim);
        let act = self.stacked(batches, |x| &x.act, a);
        let next_obs = self.stacked(batches, |x| &x.next_obs, self.obs_dim);
        let reward = self.stacked(batches, |x| &x.reward, 1);
        let cost = self.stacked(batches, |x| &x.cost, 1);
        let not_done = self.stacked(batches, |x| &x.done, 1).neg() + 1.0;
        // Each seed draws its two noise blocks from its own RNG, in the agent's order.
        let (mut next_noise, mut noise) = (Vec::with_capacity(n * b * a), Vec::with_capacity(n * b * a));
        for rng in self.learner.rngs.iter_mut() {
            next_noise.extend((0..b * a).map(|_| -> f32 { StandardNormal.sample(rng) }));
            noise.extend((0..b * a).map(|_| -> f32 { StandardNormal.sample(rng) }));
        }
        let (next_noise, noise) = (self.tensor(next_noise, a), self.tensor(noise, a));
        let alpha = self.learner.log_alpha.value.val().detach().exp();
        let n_cost = cost_heads(&cfg);
        // Per seed and sample, `[N, batch, 1]`: head e's Q, and the pessimistic cost value.
        let head = |q: &Tensor<4>, e: usize| q.clone().narrow(1, e, 1).reshape([n, b, 1]);
        let cost_value = |q: &Tensor<4>| q.clone().narrow(1, REWARD_HEADS, n_cost).max_dim(1).reshape([n, b, 1]);

        // 1. Critic targets, no gradient.
        let (next_act, next_logp) =
            Self::sample(&self.learner.actor.valid(), next_obs.clone().inner(), next_noise.inner());
        let q_next = self.q(&self.learner.critics_target, next_obs.inner(), next_act);
        let y_r = steps::reward_target(
            reward,
            not_done.clone(),
            head(&q_next, 0).min_pair(head(&q_next, 1)),
            next_logp,
            alpha.clone().inner(),
            cfg.gamma,
        );
        let y_c = steps::cost_target(cost, not_done, cost_value(&q_next), cfg.cost_gamma);
        let mut cols = vec![y_r.clone(), y_r];
        cols.extend(std::iter::repeat_n(y_c, n_cost));
        let targets = Tensor::cat(cols, 2).swap_dims(1, 2).unsqueeze_dim::<4>(3).detach();

        // 2. Critic regression: per seed and head, `[N, E, 1, 1]`; the sum is every seed's loss.
        let per_head = steps::critic_losses(self.q(&self.learner.critics, obs.clone(), act), targets);
        let grads = GradientsParams::from_grads(per_head.clone().sum().backward(), &self.learner.critics);
        self.learner.critics = self.learner.critic_opt.step(cfg.critic_lr, self.learner.critics.clone(), grads);

        // 3. Actor with each seed's penalty on h = Q_c(s, a) − d; critics as constants.
        let (new_act, logp) = Self::sample(&self.learner.actor, obs.clone(), noise);
        let q_pi = self.q(&self.learner.critics.valid(), obs.clone().inner(), new_act);
        let min_q = head(&q_pi, 0).min_pair(head(&q_pi, 1));
        let h = cost_value(&q_pi).sub_scalar(d);
        let obs_plain = obs.clone().inner();
        let plain = obs_plain.device();
        // λ(s): the seeds' multiplier network, or each seed's scalar (the handler's).
        // The penalty's λ is ALaM's anchor λ_old when it has one (docs/method.md §3b).
        let penalty_net = self.learner.multiplier_anchor.as_ref().or(self.learner.multiplier.as_ref());
        let lambda = match penalty_net {
            Some(net) => self.multiplier_lambda(&net.valid(), obs_plain).detach(),
            None => self
                .handler
                .stacked_scalar_lambda(handlers, b, &plain)
                .expect("a handler without a multiplier network has a scalar λ"),
        };
        let penalty = self.handler.stacked_penalty(h.clone(), lambda.clone(), handlers);
        let per_sample =
            steps::actor_objective(logp.clone(), alpha.clone(), min_q, penalty, lambda.clone(), cfg.normalize_penalty);
        let actor_loss = steps::batch_mean(per_sample);
        let grads = GradientsParams::from_grads(actor_loss.clone().sum().backward(), &self.learner.actor);
        self.learner.actor = self.learner.actor_opt.step(cfg.actor_lr, self.learner.actor.clone(), grads);

        // 4. Temperature, per seed.
        let alpha_loss = steps::temperature_loss(self.learner.log_alpha.value.val(), steps::entropy_gap(logp, a));
        let grads = GradientsParams::from_grads(alpha_loss.clone().sum().backward(), &self.learner.log_alpha);
        self.learner.log_alpha = self.learner.alpha_opt.step(cfg.alpha_lr, self.learner.log_alpha.clone(), grads);

        // 5. Multiplier network: the steps MultiplierSchedule asks for on the handler's loss per
        //    seed (FAC's ascent, ALaM's regression to the dual target), then ALaM's anchor refresh.
        self.learner.updates += 1;
        let h = h.detach().inner();
        let mut multiplier_loss = Tensor::zeros([n, 1, 1], &plain);
        let schedule = MultiplierSchedule::of(&cfg);
        let due = schedule.steps_at(self.learner.updates);
        if self.learner.multiplier.is_some() && due > 0 {
            let loss_of = self
                .handler
                .stacked_multiplier_loss(lambda.clone().autodiff(), h.clone().autodiff(), handlers)
                .expect("a handler with a multiplier network has its loss");
            for _ in 0..due {
                let Some(net) = self.learner.multiplier.take() else { break };
                let loss = loss_of(self.multiplier_lambda(&net, obs.clone()));
                let grads = GradientsParams::from_grads(loss.clone().sum().backward(), &net);
                self.learner.multiplier = Some(match self.learner.multiplier_opt.as_mut() {
                    Some(opt) => opt.step(cfg.multiplier_lr, net, grads),
                    None => net,
                });
                multiplier_loss = loss.detach().inner();
            }
        }
        if self.learner.multiplier_anchor.is_some() && schedule.refresh_at(self.learner.updates) {
            self.learner.multiplier_anchor = self.learner.multiplier.clone();
        }

        // 6. Polyak-averaged targets.
        self.learner.critics_target = self.learner.critics_target.clone().soft_update(&self.learner.critics, cfg.tau);

        let col = |t: Tensor<3>| t.inner().reshape([n, 1]);
        let head_losses =
            |from: usize, len: usize| per_head.clone().narrow(1, from, len).sum_dim(1).inner().reshape([n, 1]);
        Tensor::cat(
            vec![
                head_losses(0, REWARD_HEADS),
                head_losses(REWARD_HEADS, n_cost),
                col(actor_loss),
                col(alpha_loss),
                col(alpha),
                col(lambda.clone().mean_dim(1)),
                col(lambda.max_dim(1)),
                col(multiplier_loss),
                col(h.clone().mean_dim(1).add_scalar(d)),
                col(relu(h).mean_dim(1)),
            ],
            1,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Algo;
    use crate::env::EnvKind;
    use rand::{Rng, SeedableRng};

    /// Every parameter of an agent's networks, in a fixed order.
    fn params(nets: &AgentNets) -> Vec<f32> {
        let mlp = |m: &Mlp| {
            [&m.l1, &m.l2, &m.l3]
                .into_iter()
                .flat_map(|l| {
                    let mut v = read_floats(l.weight.val()).unwrap();
                    v.extend(read_floats(l.bias.as_ref().unwrap().val()).unwrap());
                    v
                })
                .collect::<Vec<f32>>()
        };
        let critics = |c: &CriticEnsemble| {
            let mut v = read_floats(c.w1.val()).unwrap();
            v.extend(read_floats(c.b1.val()).unwrap());
            for p in [&c.w2, &c.b2, &c.w3, &c.b3] {
                v.extend(read_floats(p.val()).unwrap());
            }
            v
        };
        let mut v = mlp(&nets.actor.net);
        v.extend(critics(&nets.critics));
        v.extend(critics(&nets.critics_target));
        v.extend(read_floats(nets.temperature.log_alpha.val()).unwrap());
        if let Some(m) = &nets.multiplier {
            v.extend(mlp(&m.net));
        }
        v
    }

    fn random_batch(rng: &mut Rng64, rows: usize, obs_dim: usize, act_dim: usize) -> Batch {
        let mut v = |n: usize| (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect::<Vec<_>>();
        Batch {
            obs: v(rows * obs_dim),
            act: v(rows * act_dim),
            reward: v(rows),
            cost: v(rows).into_iter().map(|c| (c > 0.6) as u8 as f32).collect(),
            next_obs: v(rows * obs_dim),
            done: v(rows).into_iter().map(|d| (d > 0.9) as u8 as f32).collect(),
        }
    }

    /// N agents updated one by one, and the population made of the same N agents fed the
    /// same batches, end with the same parameters; each seed has its own scalar multiplier
    /// state (λ for Lag and PID-Lag, ρ for ALaM) and ALaM's multiplier trains twice per update.
    fn stacked_equals_separate_agents(algo: Algo, twin_cost: bool) {
        let (n, obs_dim, act_dim, rows, updates) = (3, 5, 2, 24, 6);
        let device = Device::flex();
        let cfg = |seed| TrainConfig {
            seed,
            hidden: 16,
            batch_size: rows,
            multiplier_steps: 2,
            twin_cost_critic: twin_cost,
            ..TrainConfig::preset(EnvKind::DoubleIntegrator, algo)
        };
        let mut agents: Vec<Agent> = (0..n as u64).map(|s| Agent::new(&cfg(s), obs_dim, act_dim, &device)).collect();
        for (i, a) in agents.iter_mut().enumerate() {
            let state = HandlerState {
                lambda: 0.5 + i as f64,
                integral: 0.5 + i as f64,
                prev_cost: 0.0,
                rho: [1.0, 3.0, 1.0][i],
                ..Default::default()
            };
            a.handler_mut().restore_state(state);
        }
        let initial: Vec<Vec<f32>> = agents.iter().map(|a| params(&a.nets())).collect();
        let mut pop = StackedAgents::from_agents(&agents.iter().collect::<Vec<_>>()).unwrap();
        let states: Vec<HandlerState> = agents.iter().map(|a| a.handler().state()).collect();
        let mut rng = Rng64::seed_from_u64(7);
        for _ in 0..updates {
            let batches: Vec<Batch> = (0..n).map(|_| random_batch(&mut rng, rows, obs_dim, act_dim)).collect();
            let mut separate = Vec::new();
            for (a, b) in agents.iter_mut().zip(&batches) {
                separate.push(a.update_sync(b).unwrap());
            }
            let batched = pop.update(&batches, &states, &vec![true; n]).unwrap();
            for (s, p) in separate.iter().zip(&batched) {
                let SeedUpdate::Done(p) = p else { panic!("{p:?}") };
                for (x, y) in s.values().iter().zip(p.values()) {
                    assert!((x - y).abs() <= 1e-4 * (1.0 + x.abs()), "{algo}: statistics {s:?} vs {p:?}");
                }
            }
        }
        for (i, agent) in agents.iter().enumerate() {
            let mut copy = Agent::new(&cfg(i as u64), obs_dim, act_dim, &device);
            pop.write_seed(i, &mut copy);
            assert_eq!(copy.updates(), agent.updates());
            let (want, got) = (params(&agent.nets()), params(&copy.nets()));
            assert_eq!(want.len(), got.len());
            let moved = want.iter().zip(&initial[i]).map(|(w, x)| (w - x).abs()).fold(0.0f32, f32::max);
            let diff = want.iter().zip(&got).map(|(w, g)| (w - g).abs()).fold(0.0f32, f32::max);
            assert!(moved > 1e-3, "{algo}: the updates moved nothing ({moved})");
            assert!(diff < 1e-5, "{algo} seed {i}: stacked and agent differ by {diff} (updates moved {moved})");
        }
    }

    #[test]
    fn stacked_equals_separate_agents_alam() {
        stacked_equals_separate_agents(Algo::Alam, false);
    }
    #[test]
    fn stacked_equals_separate_agents_lag() {
        stacked_equals_separate_agents(Algo::Lag, false);
    }
    #[test]
    fn stacked_equals_separate_agents_pid_lag_fac_sac() {
        stacked_equals_separate_agents(Algo::PidLag, false);
        stacked_equals_separate_agents(Algo::Fac, true);
        stacked_equals_separate_agents(Algo::Sac, false);
    }

    /// A seed whose update goes non-finite is reported and keeps its last good weights; the
    /// others get their update as if it were not there.
    #[test]
    fn a_diverged_seed_is_undone_and_the_others_go_on() {
        let (obs_dim, act_dim, rows) = (5, 2, 16);
        let device = Device::flex();
        let cfg = |seed| TrainConfig { seed, hidden: 16, batch_size: rows, ..TrainConfig::default() };
        let mut agents: Vec<Agent> = (0..2).map(|s| Agent::new(&cfg(s), obs_dim, act_dim, &device)).collect();
        let mut pop = StackedAgents::from_agents(&agents.iter().collect::<Vec<_>>()).unwrap();
        let before = params(&agents[1].nets());
        let mut rng = Rng64::seed_from_u64(1);
        let good = random_batch(&mut rng, rows, obs_dim, act_dim);
        let mut bad = random_batch(&mut rng, rows, obs_dim, act_dim);
        bad.reward[0] = f32::NAN;
        let states: Vec<HandlerState> = agents.iter().map(|a| a.handler().state()).collect();
        let out = pop.update(&[good.clone(), bad], &states, &[true, true]).unwrap();
        assert!(matches!(out[0], SeedUpdate::Done(_)), "{:?}", out[0]);
        let SeedUpdate::Diverged { error: AlamError::Diverged { update: 1, .. }, last_good, updates: 0 } = &out[1]
        else {
            panic!("{:?}", out[1])
        };
        agents[0].update_sync(&good).unwrap();
        let mut copy = Agent::new(&cfg(0), obs_dim, act_dim, &device);
        pop.write_seed(0, &mut copy);
        let diff = params(&agents[0].nets())
            .iter()
            .zip(params(&copy.nets()))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-5, "the live seed's update changed: {diff}");
        assert_eq!(params(last_good), before, "the diverged seed keeps its last good weights");
    }
}
