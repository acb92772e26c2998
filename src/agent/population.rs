//! The learner every run trains through: N ≥ 1 agents of one config (N seeds; a single run is
//! a population of one) as one set of networks and one update — networks, optimisers, the
//! update and its one read per sync only; the envs, replay and records stay with the N
//! trainers that [`crate::population::PopulationTrainer`] drives and that feed this. Every
//! network is stacked along a leading seed axis (weights `[N, in, out]`, one batched matmul per
//! layer for all seeds) and one update serves all seeds — the same steps, in the same order,
//! for one seed (critics, actor with the handler's penalty, temperature, multiplier,
//! Polyak targets), for every algorithm.
//!
//! Why the result is N separate updates, only fused: no operation mixes two seeds (every
//! matmul is batched over the seed axis, every reduction is per seed), the total loss is the
//! sum of the seeds' own losses, so each seed's gradient is exactly its own; and Adam is
//! element-wise, so one optimiser over the stacked parameters moves each seed's slice as that
//! seed's own optimiser would. Noise is drawn per seed from each agent's own RNG, so a
//! population built from N agents follows each of them trained alone (to float rounding of the
//! batched kernels: the tests below and tests/population.rs check it for every algorithm).
//!
//! One update in one place: every formula of the update — the critics' targets and losses,
//! the actor's objective, the temperature's loss — is [`crate::agent::steps`]'s, and what differs between algorithms comes only from the [`ConstraintHandler`] (its stacked
//! methods: the penalty, the multiplier loss, a scalar λ); this file holds only what the
//! stacked layout changes (forward passes, optimiser steps, the seeds' noise, the per-seed
//! divergence guard).
//!
//! The scalar multiplier state (Lag's λ, PID-Lag's controller, ALaM's ρ) stays in each seed's
//! own handler ([`HandlerState`]); the update reads it per seed.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Gradients, Tensor, TensorData};
use rand_distr::{Distribution, StandardNormal};

use super::adam::Adam;
use super::handler::{ConstraintHandler, HandlerState, MultiplierSchedule};
use super::nets::{
    smooth_cap, soft_update, tanh_gaussian, Actor, CriticEnsemble, Mlp, MultiplierNet, Temperature, LOG_STD_MAX,
    LOG_STD_MIN, REWARD_HEADS,
};
use super::readback::{flatten_params, param_count, read_floats_async, rebuild_params};
use super::steps;
use super::{cost_heads, Agent, AgentNets, UpdateStats};
use crate::config::TrainConfig;
use crate::error::{AlamError, Result};
use crate::replay::Batch;
use crate::Rng64;

/// `stacks` independent 3-layer ReLU MLPs evaluated as one: input `[stacks, batch, in]`. Layer
/// k's weight `[stacks, in, out]` and bias `[stacks, 1, out]` are named fields, not `Vec`s: burn
/// names each `Vec` element with a formatted index on every visit (the Adam step, the gradients'
/// lookup), 0.4% of a 2×64 update's instructions on the CPU device (BENCHMARKS.md).
#[derive(Module, Debug)]
pub struct StackedMlp {
    w1: Param<Tensor<3>>,
    w2: Param<Tensor<3>>,
    w3: Param<Tensor<3>>,
    b1: Param<Tensor<3>>,
    b2: Param<Tensor<3>>,
    b3: Param<Tensor<3>>,
}

/// A fresh parameter holding `t`'s values (no graph), on the autodiff device.
fn own<const D: usize>(t: Tensor<D>) -> Param<Tensor<D>> {
    Param::from_tensor(t.inner().autodiff())
}

impl StackedMlp {
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
            (own(Tensor::cat(w, 0)), own(Tensor::cat(b, 0)))
        };
        let ((w1, b1), (w2, b2), (w3, b3)) = (layer(|m| &m.l1), layer(|m| &m.l2), layer(|m| &m.l3));
        StackedMlp { w1, w2, w3, b1, b2, b3 }
    }

    /// The layers in order, `(weight, bias)`.
    fn layers(&self) -> [(&Param<Tensor<3>>, &Param<Tensor<3>>); 3] {
        [(&self.w1, &self.b1), (&self.w2, &self.b2), (&self.w3, &self.b3)]
    }

    /// Stack `i` as an agent's [`Mlp`].
    fn unstack(&self, i: usize) -> Mlp {
        let [l1, l2, l3] = self.layers().map(|(w, b)| {
            let w: Tensor<3> = w.val().narrow(0, i, 1);
            let b: Tensor<3> = b.val().narrow(0, i, 1);
            let [_, d_in, d_out] = w.dims();
            Linear { weight: own(w.reshape([d_in, d_out])), bias: Some(own(b.reshape([d_out]))) }
        });
        Mlp { l1, l2, l3 }
    }

    /// Every stack's MLP on its own rows: `[stacks, batch, in]` → `[stacks, batch, out]`. One
    /// stack (a population of one) runs as plain matrix products, as one agent's network: as
    /// batched products of one, burn's WebGPU fusion left 26 more kernels unfused per ALaM
    /// update (BENCHMARKS.md).
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [stacks, batch, _] = x.dims();
        let layers = self.layers();
        let last = layers.len() - 1;
        if stacks == 1 {
            let mut x: Tensor<2> = x.reshape([batch as i32, -1]);
            for (k, (w, b)) in layers.into_iter().enumerate() {
                let [_, d_in, d_out] = w.dims();
                x = x.matmul(w.val().reshape([d_in, d_out])) + b.val().reshape([1, d_out]);
                if k < last {
                    x = relu(x);
                }
            }
            return x.unsqueeze();
        }
        let mut x = x;
        for (k, (w, b)) in layers.into_iter().enumerate() {
            x = x.matmul(w.val()) + b.val();
            if k < last {
                x = relu(x);
            }
        }
        x
    }
}

/// Every seed's critic heads (the reward twins, then the cost critic(s)): the agent's
/// [`CriticEnsemble`] layout with a leading seed axis. The first layer is fused over the heads,
/// `[N, in, E·h]` (one matmul per seed for all its heads, as the agent's `[in, E·h]`); the
/// others are `N·E` stacks, stack `i·E + e` being head e of seed i.
#[derive(Module, Debug)]
pub struct StackedCritics {
    w1: Param<Tensor<3>>,
    b1: Param<Tensor<3>>,
    w2: Param<Tensor<3>>,
    b2: Param<Tensor<3>>,
    w3: Param<Tensor<3>>,
    b3: Param<Tensor<3>>,
}

impl StackedCritics {
    /// The seeds' ensembles, stacked in order.
    fn stack(critics: &[&CriticEnsemble]) -> Self {
        let cat = |pick: &dyn Fn(&CriticEnsemble) -> Tensor<3>| {
            own(Tensor::cat(critics.iter().map(|c| pick(c)).collect(), 0))
        };
        StackedCritics {
            w1: cat(&|c| c.w1.val().unsqueeze()),
            b1: cat(&|c| c.b1.val().unsqueeze()),
            w2: cat(&|c| c.w2.val()),
            b2: cat(&|c| c.b2.val()),
            w3: cat(&|c| c.w3.val()),
            b3: cat(&|c| c.b3.val()),
        }
    }

    /// Seed i's heads as an agent's [`CriticEnsemble`] (`heads` per seed).
    fn unstack(&self, i: usize, heads: usize) -> CriticEnsemble {
        let first = |p: &Param<Tensor<3>>| {
            let [_, rows, cols] = p.dims();
            own(p.val().narrow(0, i, 1).reshape([rows, cols]))
        };
        let stacks = |p: &Param<Tensor<3>>| own(p.val().narrow(0, i * heads, heads));
        CriticEnsemble {
            w1: first(&self.w1),
            b1: first(&self.b1),
            w2: stacks(&self.w2),
            b2: stacks(&self.b2),
            w3: stacks(&self.w3),
            b3: stacks(&self.b3),
        }
    }

    /// Q-values `[N, E, batch, 1]` of every seed's heads at its own (obs, act) `[N, batch, _]`.
    /// The hidden layers run as `[N, E, batch, h]` products against the weights viewed as
    /// `[N, E, h, h]`: the heads' axis is a view of the fused first layer's output (as the
    /// agent's ensemble did), never copied into `N·E` stacks.
    fn forward(&self, obs: Tensor<3>, act: Tensor<3>) -> Tensor<4> {
        let [n, b, _] = obs.dims();
        let [stacks, _, hidden] = self.w2.dims();
        let heads = stacks / n;
        let x = Tensor::cat(vec![obs, act], 2);
        let x = relu(x.matmul(self.w1.val()) + self.b1.val());
        let x: Tensor<4> = x.reshape([n, b, heads, hidden]).swap_dims(1, 2);
        let per_head = |p: &Param<Tensor<3>>| {
            let [_, rows, cols] = p.dims();
            p.val().reshape([n, heads, rows, cols])
        };
        let x = relu(x.matmul(per_head(&self.w2)) + per_head(&self.b2));
        x.matmul(per_head(&self.w3)) + per_head(&self.b3)
    }
}

/// The gradients of the sum of every seed's losses `loss` (`[N, ..]`). A population of one
/// calls `backward()` on its loss itself, which seeds ones of the loss's shape: the sum's
/// gradient bit for bit, without the sum's reduction kernel and its backward broadcast (at
/// N = 1 on WebGPU, 2×64: 4 to 6 fewer dispatches per backward pass, BENCHMARKS.md). Several
/// seeds keep the sum: seeded with ones `[N, 1, 1]`, burn's fusion left parts of the backward
/// passes and Adam steps as single unfused kernels (alam at N = 4: 240 → 271 dispatches per
/// update with every step seeded so, 249 with only the multiplier's).
fn seeds_backward<const D: usize>(loss: &Tensor<D>) -> Gradients {
    if loss.dims()[0] == 1 {
        loss.backward()
    } else {
        loss.clone().sum().backward()
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
struct PopulationLearner {
    actor: StackedMlp,
    critics: StackedCritics,
    /// On the plain device, as the agent's.
    critics_target: StackedCritics,
    log_alpha: LogAlpha,
    multiplier: Option<StackedMlp>,
    /// ALaM's anchors λ_old, one per seed (docs/method.md §3b), when anchored.
    multiplier_anchor: Option<StackedMlp>,
    actor_opt: Adam<StackedMlp>,
    critic_opt: Adam<StackedCritics>,
    alpha_opt: Adam<LogAlpha>,
    multiplier_opt: Option<Adam<StackedMlp>>,
    /// Each seed's update noise, continuing its agent's RNG.
    rngs: Vec<Rng64>,
    updates: u64,
}

/// The seeds' learners (networks, Adam moments, ALaM's anchor) stacked into one, with the
/// seeds' update-noise RNGs and their shared update count.
fn stack_learners(learners: &[&super::Learner], rngs: Vec<Rng64>, updates: u64) -> PopulationLearner {
    let actors: Vec<&Mlp> = learners.iter().map(|l| &l.actor.net).collect();
    let critics: Vec<&CriticEnsemble> = learners.iter().map(|l| &l.critics).collect();
    let targets: Vec<&CriticEnsemble> = learners.iter().map(|l| &l.critics_target).collect();
    let multipliers: Option<Vec<&Mlp>> = learners.iter().map(|l| l.handler.multiplier_net().map(|m| &m.net)).collect();
    let anchors: Option<Vec<&Mlp>> = learners.iter().map(|l| l.handler.multiplier_anchor().map(|m| &m.net)).collect();
    let log_alpha = stack_log_alpha(&learners.iter().map(|l| &l.temperature).collect::<Vec<_>>());
    // Each seed's Adam moments are networks of its own shape: stacked as its weights are.
    let actor_opt = stack_adam(&learners.iter().map(|l| &l.actor_opt).collect::<Vec<_>>(), |m| {
        StackedMlp::stack(&m.iter().map(|a| &a.net).collect::<Vec<_>>())
    });
    let critic_opt = stack_adam(&learners.iter().map(|l| &l.critic_opt).collect::<Vec<_>>(), StackedCritics::stack);
    let alpha_opt = stack_adam(&learners.iter().map(|l| &l.alpha_opt).collect::<Vec<_>>(), |m| LogAlpha {
        value: own(stack_log_alpha(m)),
    });
    let multiplier_opts: Option<Vec<_>> = learners.iter().map(|l| l.handler.multiplier_optimiser()).collect();
    let multiplier_opt =
        multiplier_opts.map(|o| stack_adam(&o, |m| StackedMlp::stack(&m.iter().map(|n| &n.net).collect::<Vec<_>>())));
    PopulationLearner {
        actor: StackedMlp::stack(&actors),
        critics: StackedCritics::stack(&critics),
        critics_target: StackedCritics::stack(&targets).valid(),
        log_alpha: LogAlpha { value: own(log_alpha) },
        multiplier: multipliers.map(|m| StackedMlp::stack(&m)),
        multiplier_anchor: anchors.map(|m| StackedMlp::stack(&m)),
        actor_opt,
        critic_opt,
        alpha_opt,
        multiplier_opt,
        rngs,
        updates,
    }
}

/// A population's agents: N seeds of one config (they differ in seed only), their networks
/// stacked along a leading seed axis and updated as one.
pub struct PopulationAgent {
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
    learner: PopulationLearner,
    /// The learner as of the last sync whose reads were all finite: a diverged seed's last good
    /// networks come from here. Cloning is cheap (tensors are shared), so this costs no copy.
    checked: PopulationLearner,
    /// Statistics `[N, 10]` of the updates since the last sync, still on the device.
    unread: Vec<Tensor<2>>,
    /// Whether each seed still trains (false once it diverged: its slice goes on as garbage,
    /// never read again; no operation mixes two seeds, so the others are untouched).
    live: Vec<bool>,
    /// 1 on the cost critic heads, 0 on the reward heads, `[1, E, 1, 1]` (autodiff device).
    cost_head_mask: Tensor<4>,
    /// The unit vectors of `[10]`, each `[1, 1, 10]` (plain device): the statistics' columns.
    stat_units: Vec<Tensor<3>>,
    /// `[E, 10]` (plain device): 1 where a head's loss adds to a statistic (the reward heads to
    /// `critic_loss`, the cost heads to `cost_critic_loss`), else 0.
    head_stats: Tensor<2>,
    /// The acting policy: the stacked actor as of the last sync, on the CPU device (`host`), so
    /// that acting never reads from a GPU; `None` until the first sync.
    acting: Option<StackedMlp>,
    host: Device,
}

/// What a sync ([`PopulationAgent::sync`]) gave seed i.
#[derive(Debug)]
pub enum SeedSync {
    /// The seed had diverged before: nothing to report.
    Idle,
    /// The statistics of its updates since the last sync, oldest first, all finite.
    Done(Vec<UpdateStats>),
    /// One of its updates since the last sync made a value non-finite (a statistic or a
    /// weight). The seed stops: its networks and update count as of the last good sync are
    /// here (its slice of the stacked networks goes on as garbage and is never read again).
    Diverged { error: AlamError, last_good: Box<AgentNets>, updates: u64 },
}

impl PopulationAgent {
    /// A population of `agents` (same config apart from the seed, fresh or trained): their
    /// weights stacked, their update counts and their RNGs, so the population goes on as they would.
    pub fn from_agents(agents: &[&Agent]) -> Result<Self> {
        Self::from_agents_stopped(agents, &vec![false; agents.len()])
    }

    /// [`Self::from_agents`], with the seeds that stopped (diverged: `stopped[i]`) marked: they
    /// are carried along, never judged, and their update count need not match the others'.
    pub fn from_agents_stopped(agents: &[&Agent], stopped: &[bool]) -> Result<Self> {
        let first = agents.first().ok_or(AlamError::Config {
            field: "population",
            value: "0".into(),
            allowed: "must be ≥ 1",
        })?;
        let updates = agents.iter().zip(stopped).find(|(_, &s)| !s).map_or(first.updates, |(a, _)| a.updates);
        let same = |a: &Agent| TrainConfig { seed: first.cfg.seed, ..a.cfg.clone() } == first.cfg;
        if !agents.iter().zip(stopped).all(|(a, &s)| {
            same(a) && a.obs_dim == first.obs_dim && a.act_dim == first.act_dim && (s || a.updates == updates)
        }) {
            return Err(AlamError::ConfigParse(
                "a population's agents must share their config (seed apart) and progress".into(),
            ));
        }
        let rngs: Vec<Rng64> = agents.iter().map(|a| a.rng.clone()).collect();
        let learner = stack_learners(&agents.iter().map(|a| &a.learner).collect::<Vec<_>>(), rngs.clone(), updates);
        // Statistics not read yet (a full run file saved between syncs): the seeds' last good
        // learners, their unread rows and their acting policies come along, so the population
        // judges and acts as the agents would have.
        let unread = first.unread.len();
        if agents.iter().any(|a| a.unread.len() != unread) {
            return Err(AlamError::ConfigParse("a population's agents must have the same updates unread".into()));
        }
        let checked = if unread == 0 {
            learner.clone()
        } else {
            let checked_updates = first.checked_updates;
            stack_learners(&agents.iter().map(|a| &a.checked).collect::<Vec<_>>(), rngs, checked_updates)
        };
        let unread: Vec<Tensor<2>> =
            (0..unread).map(|u| Tensor::stack(agents.iter().map(|a| a.unread[u].clone()).collect(), 0)).collect();
        let policies: Option<Vec<&Mlp>> = agents.iter().map(|a| a.policy.as_ref().map(|p| &p.net)).collect();
        let acting = policies.map(|p| StackedMlp::stack(&p).valid());
        let heads = REWARD_HEADS + cost_heads(&first.cfg);
        let width = UpdateStats::NAMES.len();
        let plain = first.device.clone().inner();
        let stat_units = (0..width)
            .map(|i| {
                let unit: Vec<f32> = (0..width).map(|j| f32::from(i == j)).collect();
                Tensor::from_data(TensorData::new(unit, [1, 1, width]), &plain)
            })
            .collect();
        let head_stats: Vec<f32> =
            (0..heads).flat_map(|h| (0..width).map(move |i| f32::from(i == usize::from(h >= REWARD_HEADS)))).collect();
        let head_stats = Tensor::from_data(TensorData::new(head_stats, [heads, width]), &plain);
        let mask: Vec<f32> = (0..heads).map(|h| f32::from(h >= REWARD_HEADS)).collect();
        let cost_head_mask = Tensor::from_data(TensorData::new(mask, [1, heads, 1, 1]), &first.device);
        Ok(PopulationAgent {
            cfg: first.cfg.clone(),
            n: agents.len(),
            obs_dim: first.obs_dim,
            act_dim: first.act_dim,
            heads,
            device: first.device.clone(),
            cost_head_mask,
            stat_units,
            head_stats,
            handler: first.learner.handler.box_clone(),
            checked,
            learner,
            unread,
            live: stopped.iter().map(|&s| !s).collect(),
            acting,
            host: Device::flex(),
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

    /// Updates made since the last sync (their statistics not read yet).
    pub fn unread_updates(&self) -> usize {
        self.unread.len()
    }

    /// Whether seed i still trains (it has not diverged).
    pub fn is_live(&self, i: usize) -> bool {
        self.live[i]
    }

    /// Seed i written into `agent` (same config), so that it acts, evaluates, probes and saves
    /// as that seed: its networks, Adam moments, update count and RNG, and between syncs its
    /// last good learner, its unread statistics and its acting policy — a full run file saved
    /// from `agent` then goes on exactly as the population would.
    pub fn write_seed(&self, i: usize, agent: &mut Agent) {
        self.unstack_learner(&self.learner, i, &mut agent.learner);
        agent.set_updates(self.learner.updates);
        agent.rng = self.learner.rngs[i].clone();
        agent.checked = agent.learner.clone();
        agent.unread.clear();
        if !self.unread.is_empty() {
            self.unstack_learner(&self.checked, i, &mut agent.checked);
            agent.checked_updates = self.checked.updates;
            agent.unread =
                self.unread.iter().map(|u| u.clone().narrow(0, i, 1).reshape([UpdateStats::NAMES.len()])).collect();
        }
        agent.policy = self.acting.as_ref().map(|a| Actor { net: a.unstack(i).valid() });
    }

    /// Seed i's networks, Adam moments and ALaM anchor of `l` written into an agent's learner
    /// (its handler's scalar state stays).
    fn unstack_learner(&self, l: &PopulationLearner, i: usize, into: &mut super::Learner) {
        let nets = self.seed_nets(l, i);
        (into.actor, into.critics, into.critics_target, into.temperature) =
            (nets.actor, nets.critics, nets.critics_target, nets.temperature);
        if let Some(m) = nets.multiplier {
            into.handler.set_multiplier_net(m);
        }
        let heads = self.heads;
        into.actor_opt = unstack_adam(&l.actor_opt, |m| Actor { net: m.unstack(i) });
        into.critic_opt = unstack_adam(&l.critic_opt, |m| m.unstack(i, heads));
        into.alpha_opt =
            unstack_adam(&l.alpha_opt, |m| Temperature { log_alpha: own(m.value.val().narrow(0, i, 1).reshape([1])) });
        if let Some(opt) = &l.multiplier_opt {
            into.handler.set_multiplier_optimiser(unstack_adam(opt, |m| MultiplierNet { net: m.unstack(i) }));
        }
        if let Some(anchor) = &l.multiplier_anchor {
            into.handler.set_multiplier_anchor(MultiplierNet { net: anchor.unstack(i) });
        }
    }

    /// Seed i's slice of every network of `l` (the current learner or the checked one), as an
    /// agent's networks.
    fn seed_nets(&self, l: &PopulationLearner, i: usize) -> AgentNets {
        let log_alpha = l.log_alpha.value.val().narrow(0, i, 1).reshape([1]);
        AgentNets {
            actor: Actor { net: l.actor.unstack(i) },
            critics: l.critics.unstack(i, self.heads),
            critics_target: l.critics_target.unstack(i, self.heads).valid(),
            temperature: Temperature { log_alpha: own(log_alpha) },
            multiplier: l.multiplier.as_ref().map(|m| MultiplierNet { net: m.unstack(i) }),
        }
    }

    /// The pre-squash mean and log σ of every seed's acting policy (the actor as of the last
    /// sync, on the CPU) for one observation each (`obs`: N rows of `obs_dim`): N rows of
    /// `[μ | log σ]`, as [`Agent::act`] reads them.
    ///
    /// # Errors
    /// [`AlamError::Device`] when no sync has made the acting policy yet.
    pub async fn policy(&self, obs: &[f32]) -> Result<Vec<f32>> {
        let actor = self.acting.as_ref().ok_or_else(|| AlamError::Device("no acting policy before a sync".into()))?;
        let x = Tensor::from_data(TensorData::new(obs.to_vec(), [self.n, 1, self.obs_dim]), &self.host);
        let out = actor.forward(x);
        let a = self.act_dim;
        let log_std = out.clone().narrow(2, a, a).clamp(LOG_STD_MIN, LOG_STD_MAX);
        read_floats_async(Tensor::cat(vec![out.narrow(2, 0, a), log_std], 2)).await
    }

    /// a = tanh(μ + σε) and log π(a|s), `[N, batch, act]` and `[N, batch, 1]`.
    fn sample(actor: &StackedMlp, obs: Tensor<3>, noise: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        let out = actor.forward(obs);
        let a = out.dims()[2] / 2;
        let mean = out.clone().narrow(2, 0, a);
        let log_std = out.narrow(2, a, a).clamp(LOG_STD_MIN, LOG_STD_MAX);
        tanh_gaussian(mean, log_std, noise)
    }

    /// λ(s) of every seed's multiplier network, `[N, batch, 1]`, as `MultiplierNet::forward`.
    fn multiplier_lambda(&self, net: &StackedMlp, obs: Tensor<3>) -> Tensor<3> {
        smooth_cap(net.forward(obs), self.cfg.lambda_max)
    }

    /// One update of every seed from its own batch (`batches`: one per seed; a seed that no
    /// longer trains gets any batch of the right shape); `handlers` are the seeds' scalar
    /// states. Nothing is read from the device: the statistics wait for the next
    /// [`Self::sync`], which also judges this update.
    pub fn update(&mut self, batches: &[Batch], handlers: &[HandlerState]) {
        let stats = self.update_all(batches, handlers);
        self.unread.push(stats);
    }

    /// Every seed's parameters reduced to one number each, `[N]`: 0 where all are finite, NaN
    /// where any is not (0·x is NaN only for a NaN or an infinite x).
    fn finiteness_probe(&self) -> Tensor<1> {
        let n = self.n;
        let l = &self.learner;
        let mut parts = flatten_params(&l.actor.valid());
        parts.extend(flatten_params(&l.critics.valid()));
        parts.extend(flatten_params(&l.critics_target));
        parts.extend(flatten_params(&l.log_alpha.valid()));
        if let Some(m) = &l.multiplier {
            parts.extend(flatten_params(&m.valid()));
        }
        // Every stacked parameter leads with its seed axis (the critics' N·E stacks seed-major).
        let per_seed: Vec<Tensor<2>> = parts.into_iter().map(|p| p.reshape([n as i32, -1])).collect();
        Tensor::cat(per_seed, 1).mul_scalar(0.0).sum_dim(1).reshape([n])
    }

    /// The population's one host read, every `sync_every` updates: the statistics of the updates since the last sync, a finiteness probe of every
    /// seed's networks, and the actor's weights, packed into **one** read. It refreshes the
    /// acting policy and judges each live seed: one whose statistics or weights are not all
    /// finite is reported [`SeedSync::Diverged`] with its last good networks, and stops.
    ///
    /// # Errors
    /// [`AlamError::Device`] when the read fails (nothing is judged then).
    pub async fn sync(&mut self) -> Result<Vec<SeedSync>> {
        let (n, k, width) = (self.n, self.unread.len(), UpdateStats::NAMES.len());
        let actor = self.learner.actor.valid();
        let actor_floats = param_count(&actor);
        let mut parts: Vec<Tensor<1>> =
            std::mem::take(&mut self.unread).into_iter().map(|t| t.reshape([n * width])).collect();
        parts.push(self.finiteness_probe());
        parts.extend(flatten_params(&actor));
        let values = read_floats_async(Tensor::cat(parts, 0)).await?;
        let want = k * n * width + n + actor_floats;
        if values.len() != want {
            return Err(AlamError::Device(format!("sync read {} floats, expected {want}", values.len())));
        }
        let (stats, rest) = values.split_at(k * n * width);
        let (probe, actor_values) = rest.split_at(n);
        let row = |update: usize, seed: usize| &stats[(update * n + seed) * width..(update * n + seed + 1) * width];
        let mut out = Vec::with_capacity(n);
        for (i, &seed_probe) in probe.iter().enumerate() {
            if !self.live[i] {
                out.push(SeedSync::Idle);
                continue;
            }
            let bad = (0..k).find_map(|u| row(u, i).iter().position(|v| !v.is_finite()).map(|j| (u, j)));
            let (update, what) = match bad {
                Some((u, j)) => {
                    // A NaN or ∞ in one statistic spreads to all ten when they are packed, so
                    // a whole row names no one of them.
                    let what = if row(u, i).iter().all(|v| !v.is_finite()) {
                        "every statistic of the update (a loss or λ)"
                    } else {
                        UpdateStats::NAMES[j]
                    };
                    (self.checked.updates + u as u64 + 1, what)
                }
                None if !seed_probe.is_finite() => (self.learner.updates, "the network weights"),
                None => {
                    let seed_stats = (0..k)
                        .map(|u| UpdateStats::from_values(std::array::from_fn(|j| row(u, i)[j] as f64)))
                        .collect();
                    out.push(SeedSync::Done(seed_stats));
                    continue;
                }
            };
            self.live[i] = false;
            out.push(SeedSync::Diverged {
                error: AlamError::Diverged { update, what: what.to_string() },
                last_good: Box::new(self.seed_nets(&self.checked, i)),
                updates: self.checked.updates,
            });
        }
        self.acting = Some(rebuild_params(actor, actor_values, &self.host)?);
        self.checked = self.learner.clone();
        Ok(out)
    }

    /// Every seed's batch and update noise as one host buffer, uploaded in one write (one
    /// `writeBuffer` on WebGPU) and cut into views on the device, each `[N, rows, cols]`, seed
    /// by seed: the states `[N, 2b, obs]` (a seed's obs, then its next_obs, so that one actor
    /// pass serves both), act `[N, b, act]`, reward, cost, done `[N, b, 1]`, and the noise
    /// `[N, 2b, act]` (for the actions at obs, then at next_obs). Each seed draws its noise from
    /// its own RNG (the next-action block, then the action block).
    fn upload(&mut self, batches: &[Batch]) -> [Tensor<3>; 6] {
        let (n, b, o, a) = (self.n, batches[0].len(), self.obs_dim, self.act_dim);
        let rows = [2 * b, b, b, b, b, 2 * b];
        let widths = [o, a, 1, 1, 1, a];
        let mut host: Vec<f32> = Vec::with_capacity(n * rows.iter().zip(&widths).map(|(r, w)| r * w).sum::<usize>());
        for batch in batches {
            host.extend_from_slice(&batch.obs);
            host.extend_from_slice(&batch.next_obs);
        }
        let fields: [fn(&Batch) -> &[f32]; 4] = [|x| &x.act, |x| &x.reward, |x| &x.cost, |x| &x.done];
        for field in fields {
            batches.iter().for_each(|batch| host.extend_from_slice(field(batch)));
        }
        for rng in self.learner.rngs.iter_mut() {
            let next_noise: Vec<f32> = (0..b * a).map(|_| StandardNormal.sample(&mut *rng)).collect();
            host.extend((0..b * a).map(|_| -> f32 { StandardNormal.sample(&mut *rng) }));
            host.extend(next_noise);
        }
        let len = host.len();
        let all: Tensor<1> = Tensor::from_data(TensorData::new(host, [len]), &self.device);
        let mut offset = 0;
        std::array::from_fn(|i| {
            let size = n * rows[i] * widths[i];
            let part = all.clone().narrow(0, offset, size).reshape([n, rows[i], widths[i]]);
            offset += size;
            part
        })
    }

    /// The λ(s) the actor's penalty uses on the batch states `obs` `[N, b, obs]` (plain
    /// device): ALaM's anchor λ_old when it has one (docs/method.md §3b), else the seeds'
    /// multiplier network, else each seed's scalar (the handler's); `[N, b, 1]`, no gradient.
    fn penalty_lambda(&self, obs: Tensor<3>, handlers: &[HandlerState]) -> Tensor<3> {
        let b = obs.dims()[1];
        let device = obs.device();
        match self.learner.multiplier_anchor.as_ref().or(self.learner.multiplier.as_ref()) {
            Some(net) => self.multiplier_lambda(&net.valid(), obs).detach(),
            None => self
                .handler
                .stacked_scalar_lambda(handlers, b, &device)
                .expect("a handler without a multiplier network has a scalar λ"),
        }
    }

    /// Step 5 of the update, after the count of policy updates moved on: the Adam steps of the
    /// multiplier network that [`MultiplierSchedule`] asks for at this update, on the handler's
    /// loss (FAC's ascent, ALaM's regression to the dual target) built from the λ the penalty
    /// used and h `[N, b, 1]` (plain, detached); then ALaM's anchor refresh when a dual period
    /// ends. Returns the last step's loss (`[1]`, the seeds' sum, [`steps::seeds_loss`]) and
    /// its terms per sample `[N, b, 1]` (their batch mean is each seed's loss), both plain;
    /// `None` when no step was due.
    fn multiplier_step(
        &mut self,
        obs: Tensor<3>,
        lambda: Tensor<3>,
        h: Tensor<3>,
        handlers: &[HandlerState],
    ) -> Option<(Tensor<1>, Tensor<3>)> {
        let cfg = &self.cfg;
        let mut last = None;
        let schedule = MultiplierSchedule::of(cfg);
        let due = schedule.steps_at(self.learner.updates);
        if self.learner.multiplier.is_some() && due > 0 {
            let loss_of = self
                .handler
                .stacked_multiplier_loss(lambda.autodiff(), h.autodiff(), handlers)
                .expect("a handler with a multiplier network has its loss");
            for _ in 0..due {
                let Some(net) = self.learner.multiplier.take() else { break };
                let terms = loss_of(self.multiplier_lambda(&net, obs.clone()));
                let loss = steps::seeds_loss(terms.clone());
                let grads = GradientsParams::from_grads(loss.backward(), &net);
                self.learner.multiplier = Some(match self.learner.multiplier_opt.as_mut() {
                    Some(opt) => opt.step(cfg.multiplier_lr, net, grads),
                    None => net,
                });
                last = Some((loss.detach().inner(), terms.detach().inner()));
            }
        }
        if self.learner.multiplier_anchor.is_some() && schedule.refresh_at(self.learner.updates) {
            self.learner.multiplier_anchor = self.learner.multiplier.clone();
        }
        last
    }

    /// The multiplier alone, one policy update's worth, on fixed batch states `obs`
    /// `[N, b, obs]` (autodiff device) and a fixed h `[N, b, 1]`: what [`Self::update`] does to
    /// λ, without the rest of SAC (the method's tests, docs/method.md §3c). Returns the λ the
    /// penalty used and the multiplier's loss per seed `[N, 1, 1]` (0 when no step was due),
    /// both on the plain device.
    pub fn multiplier_only(
        &mut self,
        obs: Tensor<3>,
        h: Tensor<3>,
        handlers: &[HandlerState],
    ) -> (Tensor<3>, Tensor<3>) {
        let lambda = self.penalty_lambda(obs.clone().inner(), handlers);
        self.learner.updates += 1;
        let loss = match self.multiplier_step(obs, lambda.clone(), h, handlers) {
            Some((_, per_sample)) => per_sample.mean_dim(1),
            None => Tensor::zeros([self.n, 1, 1], &lambda.device()),
        };
        (lambda, loss)
    }

    /// λ(s) of the seeds' multiplier networks now on states `[N, b, obs]` (plain device, no
    /// gradient); `None` when the algorithm has none.
    pub fn multiplier_now(&self, obs: Tensor<3>) -> Option<Tensor<3>> {
        let net = self.learner.multiplier.as_ref()?;
        Some(self.multiplier_lambda(&net.valid(), obs.inner()))
    }

    /// One SAC update of every seed with the handler's constraint (`docs/method.md` §3–§4): the
    /// networks are updated now; returns the statistics `[N, 10]` ([`UpdateStats::NAMES`]
    /// order), left on the device. Nothing here reads from the device.
    fn update_all(&mut self, batches: &[Batch], handlers: &[HandlerState]) -> Tensor<2> {
        let cfg = self.cfg.clone();
        let (n, a, d) = (self.n, self.act_dim, cfg.cost_threshold);
        let b = batches[0].len();
        let [states, act, reward, cost, done, noise] = self.upload(batches);
        let (obs, next_obs) = (states.clone().narrow(1, 0, b), states.clone().narrow(1, b, b));
        let not_done = done.neg() + 1.0;
        let alpha = self.learner.log_alpha.value.val().detach().exp();
        let n_cost = cost_heads(&cfg);
        // Per seed and sample, `[N, batch, 1]`: head e's Q, and the pessimistic cost value (the
        // max of the cost twins, as the reward side takes the min of its twins).
        let head = |q: &Tensor<4>, e: usize| q.clone().narrow(1, e, 1).reshape([n, b, 1]);
        // One cost head (the default) is its own max: no reduction over a size-1 axis, which
        // burn's GPU backends run as a kernel of its own.
        let cost_value = |q: &Tensor<4>| match n_cost {
            1 => head(q, REWARD_HEADS),
            _ => q.clone().narrow(1, REWARD_HEADS, n_cost).max_dim(1).reshape([n, b, 1]),
        };

        // One actor pass over [obs; next_obs] (the actor does not change before step 3): the
        // next actions of the critic targets, without gradient, and the actions the actor loss
        // differentiates.
        let (actions, log_probs) = Self::sample(&self.learner.actor, states, noise);
        let (new_act, logp) = (actions.clone().narrow(1, 0, b), log_probs.clone().narrow(1, 0, b));
        let (next_act, next_logp) = (actions.narrow(1, b, b).inner(), log_probs.narrow(1, b, b).inner());

        // 1. Critic targets, no gradient: y = r + γ(1−done)(min Q'_r − α log π), y_c = c + γ_c(1−done) Q'_c
        //    (or its probability form, `cost_critic`).
        let q_next = self.learner.critics_target.forward(next_obs.inner(), next_act);
        let y_r = steps::reward_target(
            reward,
            not_done.clone(),
            head(&q_next, 0).min_pair(head(&q_next, 1)),
            next_logp,
            alpha.clone().inner(),
            cfg.gamma,
        );
        let y_c = steps::cost_target(cost, not_done, cost_value(&q_next), cfg.cost_gamma, cfg.cost_critic);
        // Each head's target `[N, E, b, 1]`: y_r on the reward heads, y_c on the cost heads,
        // chosen by a 0/1 mask over the heads (elementwise: it fuses into one kernel, where a
        // concatenation costs a copy kernel per head).
        let is_cost = self.cost_head_mask.clone();
        let targets =
            (y_r.unsqueeze_dim::<4>(1) * (is_cost.clone().neg() + 1.0) + y_c.unsqueeze_dim::<4>(1) * is_cost).detach();

        // 2. Critic regression: per seed and head, `[N, E, 1, 1]`; the sum is every seed's loss.
        let per_head = steps::critic_losses(self.learner.critics.forward(obs.clone(), act), targets);
        let grads = GradientsParams::from_grads(seeds_backward(&per_head), &self.learner.critics);
        self.learner.critics = self.learner.critic_opt.step(cfg.critic_lr, self.learner.critics.clone(), grads);

        // 3. Actor: α log π − min Q_r + each seed's penalty on h = Q_c(s, a) − d. The critics
        //    enter as constants (plain device), so only the actor's gradient is computed.
        let q_pi = self.learner.critics.valid().forward(obs.clone().inner(), new_act);
        let min_q = head(&q_pi, 0).min_pair(head(&q_pi, 1));
        let h = cost_value(&q_pi).sub_scalar(d);
        let obs_plain = obs.clone().inner();
        let lambda = self.penalty_lambda(obs_plain, handlers);
        let penalty = self.handler.stacked_penalty(h.clone(), lambda.clone(), handlers);
        let per_sample =
            steps::actor_objective(logp.clone(), alpha.clone(), min_q, penalty, lambda.clone(), cfg.normalize_penalty);
        let actor_loss = steps::batch_mean(per_sample);
        let grads = GradientsParams::from_grads(seeds_backward(&actor_loss), &self.learner.actor);
        self.learner.actor = self.learner.actor_opt.step(cfg.actor_lr, self.learner.actor.clone(), grads);

        // 4. Temperature, per seed: α ← α − η ∂/∂log α [−log α (log π + target entropy)], target −|A|.
        let alpha_loss = steps::temperature_loss(self.learner.log_alpha.value.val(), steps::entropy_gap(logp, a));
        let grads = GradientsParams::from_grads(seeds_backward(&alpha_loss), &self.learner.log_alpha);
        self.learner.log_alpha = self.learner.alpha_opt.step(cfg.alpha_lr, self.learner.log_alpha.clone(), grads);

        // 5. Multiplier: FAC's ascent or ALaM's regression to the dual target, as scheduled.
        self.learner.updates += 1;
        let h = h.detach().inner();
        let multiplier_loss = self.multiplier_step(obs.clone(), lambda.clone(), h.clone(), handlers);

        // 6. Polyak-averaged targets.
        self.learner.critics_target = soft_update(self.learner.critics_target.clone(), &self.learner.critics, cfg.tau);

        // The batch's statistics in few kernels: λ, h, max(0, h) and the multiplier's loss per
        // sample (when it stepped) put in their statistics' columns of one `[N, b, 10]` tensor
        // (elementwise) and averaged over the batch in one reduction; the heads' losses summed
        // into theirs by one product with a `[E, 10]` 0/1 matrix; the scalars added at their
        // columns (elementwise, where a concatenation costs a copy kernel per statistic:
        // dispatches per update on WebGPU, BENCHMARKS.md).
        let width = UpdateStats::NAMES.len();
        let unit = |i: usize| self.stat_units[i].clone();
        let mut columns = lambda.clone() * unit(5) + h.clone() * unit(8) + relu(h) * unit(9);
        let mut scalars = vec![];
        match multiplier_loss {
            // One seed: its loss is the batch mean the step already took (one kernel fewer).
            Some((loss, _)) if n == 1 => scalars.push((7, loss.reshape([1, 1]))),
            Some((_, per_sample)) => columns = columns + per_sample * unit(7),
            None => {}
        }
        let means = columns.mean_dim(1).reshape([n, width]);
        let head_losses = per_head.inner().reshape([n, self.heads]).matmul(self.head_stats.clone());
        let unit2 = |i: usize| self.stat_units[i].clone().reshape([1, width]);
        let per_seed = |t: Tensor<3>| t.reshape([n, 1]);
        [
            (2, per_seed(actor_loss.inner())),
            (3, per_seed(alpha_loss.inner())),
            (4, per_seed(alpha.inner())),
            (6, per_seed(lambda.max_dim(1))),
        ]
        .into_iter()
        .chain(scalars)
        .fold(means + head_losses + unit2(8).mul_scalar(d), |packed, (i, s)| packed + unit2(i) * s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::read_floats;
    use crate::config::Algo;
    use crate::env::EnvKind;
    use rand::SeedableRng;

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

    /// N agents trained alone (each a population of one, as a single run trains), and the
    /// population made of the same N agents fed the same batches, end with the same parameters; each seed has its own scalar multiplier
    /// state (λ for Lag and PID-Lag, ρ for ALaM) and ALaM's multiplier trains twice per update.
    fn population_equals_seeds_alone(algo: Algo, twin_cost: bool) {
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
        let mut pop = PopulationAgent::from_agents(&agents.iter().collect::<Vec<_>>()).unwrap();
        let mut alone: Vec<PopulationAgent> =
            agents.iter().map(|a| PopulationAgent::from_agents(&[a]).unwrap()).collect();
        let states: Vec<HandlerState> = agents.iter().map(|a| a.handler().state()).collect();
        let mut rng = Rng64::seed_from_u64(7);
        for _ in 0..updates {
            let batches: Vec<Batch> = (0..n).map(|_| Batch::random(&mut rng, rows, obs_dim, act_dim)).collect();
            let mut separate = Vec::new();
            for (i, learner) in alone.iter_mut().enumerate() {
                learner.update(&batches[i..=i], &states[i..=i]);
                let synced: Vec<SeedSync> = pollster::block_on(learner.sync()).unwrap();
                let [SeedSync::Done(stats)] = synced.as_slice() else { panic!("seed {i} alone: {synced:?}") };
                separate.push(stats[0]);
            }
            pop.update(&batches, &states);
            let batched = pollster::block_on(pop.sync()).unwrap();
            for (s, p) in separate.iter().zip(&batched) {
                let SeedSync::Done(p) = p else { panic!("{p:?}") };
                let [p] = p.as_slice() else { panic!("one update, {} statistics", p.len()) };
                for (x, y) in s.values().iter().zip(p.values()) {
                    assert!((x - y).abs() <= 1e-4 * (1.0 + x.abs()), "{algo}: statistics {s:?} vs {p:?}");
                }
            }
        }
        for (i, agent) in agents.iter_mut().enumerate() {
            alone[i].write_seed(0, agent);
            let mut copy = Agent::new(&cfg(i as u64), obs_dim, act_dim, &device);
            pop.write_seed(i, &mut copy);
            assert_eq!(copy.updates(), agent.updates());
            let (want, got) = (params(&agent.nets()), params(&copy.nets()));
            assert_eq!(want.len(), got.len());
            let moved = want.iter().zip(&initial[i]).map(|(w, x)| (w - x).abs()).fold(0.0f32, f32::max);
            let diff = want.iter().zip(&got).map(|(w, g)| (w - g).abs()).fold(0.0f32, f32::max);
            assert!(moved > 1e-3, "{algo}: the updates moved nothing ({moved})");
            assert!(
                diff < 1e-5,
                "{algo} seed {i}: in the population and alone differ by {diff} (updates moved {moved})"
            );
        }
    }

    #[test]
    fn a_population_equals_its_seeds_alone_alam() {
        population_equals_seeds_alone(Algo::Alam, false);
    }
    #[test]
    fn a_population_equals_its_seeds_alone_lag() {
        population_equals_seeds_alone(Algo::Lag, false);
    }
    #[test]
    fn a_population_equals_its_seeds_alone_pid_lag_fac_sac() {
        population_equals_seeds_alone(Algo::PidLag, false);
        population_equals_seeds_alone(Algo::Fac, true);
        population_equals_seeds_alone(Algo::Sac, false);
    }

    /// A seed whose update goes non-finite is reported at the sync and keeps its last good
    /// weights; the others get their update as if it were not there, and the diverged seed is
    /// not judged again.
    #[test]
    fn a_diverged_seed_is_undone_and_the_others_go_on() {
        let (obs_dim, act_dim, rows) = (5, 2, 16);
        let device = Device::flex();
        let cfg = |seed| TrainConfig { seed, hidden: 16, batch_size: rows, ..TrainConfig::default() };
        let mut agents: Vec<Agent> = (0..2).map(|s| Agent::new(&cfg(s), obs_dim, act_dim, &device)).collect();
        let mut pop = PopulationAgent::from_agents(&agents.iter().collect::<Vec<_>>()).unwrap();
        let before = params(&agents[1].nets());
        let mut rng = Rng64::seed_from_u64(1);
        let good = Batch::random(&mut rng, rows, obs_dim, act_dim);
        let mut bad = Batch::random(&mut rng, rows, obs_dim, act_dim);
        bad.reward[0] = f32::NAN;
        let states: Vec<HandlerState> = agents.iter().map(|a| a.handler().state()).collect();
        pop.update(&[good.clone(), bad], &states);
        let out = pollster::block_on(pop.sync()).unwrap();
        assert!(matches!(out[0], SeedSync::Done(_)), "{:?}", out[0]);
        let SeedSync::Diverged { error: AlamError::Diverged { update: 1, .. }, last_good, updates: 0 } = &out[1] else {
            panic!("{:?}", out[1])
        };
        let mut alone = PopulationAgent::from_agents(&[&agents[0]]).unwrap();
        alone.update(std::slice::from_ref(&good), &states[..1]);
        pollster::block_on(alone.sync()).unwrap();
        alone.write_seed(0, &mut agents[0]);
        let mut copy = Agent::new(&cfg(0), obs_dim, act_dim, &device);
        pop.write_seed(0, &mut copy);
        let diff = params(&agents[0].nets())
            .iter()
            .zip(params(&copy.nets()))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-5, "the live seed's update changed: {diff}");
        assert_eq!(params(last_good), before, "the diverged seed keeps its last good weights");
        pop.update(&[good.clone(), good], &states);
        let out = pollster::block_on(pop.sync()).unwrap();
        assert!(matches!(out[0], SeedSync::Done(_)) && matches!(out[1], SeedSync::Idle), "{out:?}");
    }
}
