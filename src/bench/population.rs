//! What training N seeds as one batched network call would cost: the networks of N SAC-ALaM
//! agents stacked along a leading axis (weights `[N, in, out]`, one batched matmul per layer for
//! all seeds), and one update for all of them — the same steps as `Agent::update` (critics,
//! actor with ψ_ρ, temperature, λ regression, Polyak targets, one statistics readback).
//!
//! Adam is element-wise and the seeds' parameters are disjoint slices, so summing the seeds'
//! losses gives each seed exactly its own update: the batched update is N separate updates,
//! only fused. `alam bench --population N` compares it with N separate agents.

use burn::module::{Module, Param};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::{relu, softplus};
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use crate::agent::handler::{dual_target, psi};
use crate::agent::nets::{param, polyak, tanh_gaussian, LOG_STD_MAX, LOG_STD_MIN};
use crate::agent::read_floats;
use crate::error::Result;
use crate::replay::Batch;
use crate::Rng64;

/// Critic heads per seed: twin reward critics and one cost critic, as the agent's default.
const HEADS: usize = 3;

/// `stacks` independent 3-layer ReLU MLPs evaluated as one: input `[stacks, batch, in]`.
#[derive(Module, Debug)]
pub struct StackedMlp {
    weights: Vec<Param<Tensor<3>>>,
    biases: Vec<Param<Tensor<3>>>,
}

impl StackedMlp {
    fn new(rng: &mut Rng64, stacks: usize, d_in: usize, hidden: usize, d_out: usize, device: &Device) -> Self {
        let dims = [(d_in, hidden), (hidden, hidden), (hidden, d_out)];
        StackedMlp {
            weights: dims.iter().map(|&(i, o)| param(rng, i, [stacks, i, o], device)).collect(),
            biases: dims.iter().map(|&(i, o)| param(rng, i, [stacks, 1, o], device)).collect(),
        }
    }

    fn forward(&self, mut x: Tensor<3>) -> Tensor<3> {
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
        let mix = |t: Vec<Param<Tensor<3>>>, o: &[Param<Tensor<3>>]| t.into_iter().zip(o).map(|(t, o)| polyak(t, o, tau)).collect();
        StackedMlp { weights: mix(self.weights, &online.weights), biases: mix(self.biases, &online.biases) }
    }
}

#[derive(Module, Debug)]
struct LogAlpha {
    value: Param<Tensor<3>>,
}

/// N agents' networks and optimisers.
pub struct Population {
    n: usize,
    obs_dim: usize,
    act_dim: usize,
    device: Device,
    actor: StackedMlp,
    critics: StackedMlp,
    critics_target: StackedMlp,
    multiplier: StackedMlp,
    log_alpha: LogAlpha,
    opts: [ModuleOptimizer; 4],
    rng: Rng64,
}

impl Population {
    pub fn new(n: usize, obs_dim: usize, act_dim: usize, hidden: usize, device: &Device) -> Self {
        let device = device.clone().autodiff();
        let mut rng = Rng64::seed_from_u64(0xBA7C);
        let critics = StackedMlp::new(&mut rng, n * HEADS, obs_dim + act_dim, hidden, 1, &device);
        let adam = || AdamConfig::new().with_epsilon(1e-8).init();
        Population {
            actor: StackedMlp::new(&mut rng, n, obs_dim, hidden, 2 * act_dim, &device),
            critics_target: critics.valid(),
            critics,
            multiplier: StackedMlp::new(&mut rng, n, obs_dim, hidden, 1, &device),
            log_alpha: LogAlpha { value: Param::from_tensor(Tensor::full([n, 1, 1], 0.2f32.ln(), &device)) },
            opts: [adam(), adam(), adam(), adam()],
            n,
            obs_dim,
            act_dim,
            device,
            rng,
        }
    }

    fn tensor(&self, data: &[f32], cols: usize) -> Tensor<3> {
        let rows = data.len() / cols / self.n;
        Tensor::from_data(TensorData::new(data.to_vec(), [self.n, rows, cols]), &self.device)
    }

    fn noise(&mut self, rows: usize) -> Tensor<3> {
        let data: Vec<f32> = (0..self.n * rows * self.act_dim).map(|_| StandardNormal.sample(&mut self.rng)).collect();
        Tensor::from_data(TensorData::new(data, [self.n, rows, self.act_dim]), &self.device)
    }

    /// a = tanh(μ + σε) and log π(a|s), `[n, batch, act]` and `[n, batch, 1]`.
    fn sample(actor: &StackedMlp, obs: Tensor<3>, noise: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        let out = actor.forward(obs);
        let a = out.dims()[2] / 2;
        let mean = out.clone().narrow(2, 0, a);
        let log_std = out.narrow(2, a, a).clamp(LOG_STD_MIN, LOG_STD_MAX);
        tanh_gaussian(mean, log_std, noise)
    }

    /// Q-values `[n, HEADS, batch]`: each seed's input goes to its own three heads.
    fn q(critics: &StackedMlp, obs: Tensor<3>, act: Tensor<3>) -> Tensor<3> {
        let [n, b, _] = obs.dims();
        let x = Tensor::cat(vec![obs, act], 2);
        let d = x.dims()[2];
        let x = x.unsqueeze_dim::<4>(1).repeat_dim(1, HEADS).reshape([n * HEADS, b, d]);
        critics.forward(x).reshape([n, HEADS, b])
    }

    /// One SAC-ALaM update for every seed, from `batch`: the n seeds' batches of `rows` rows
    /// each, one after the other. Returns the summed losses (one readback, as the agent's
    /// statistics).
    pub fn update(&mut self, batch: &Batch, rows: usize, rho: f64, lr: f64) -> Result<Vec<f32>> {
        let (gamma, cost_gamma, tau, lambda_max) = (0.99, 0.97, 0.005, 100.0);
        let obs = self.tensor(&batch.obs, self.obs_dim);
        let act = self.tensor(&batch.act, self.act_dim);
        let next_obs = self.tensor(&batch.next_obs, self.obs_dim);
        let reward = self.tensor(&batch.reward, 1).reshape([self.n, 1, rows]);
        let cost = self.tensor(&batch.cost, 1).reshape([self.n, 1, rows]);
        let not_done = (self.tensor(&batch.done, 1).neg() + 1.0).reshape([self.n, 1, rows]);
        let (next_noise, noise) = (self.noise(rows), self.noise(rows));
        let alpha = self.log_alpha.value.val().detach().exp();

        // Critic targets (no gradient), then the critic regression.
        let (next_act, next_logp) = Self::sample(&self.actor.valid(), next_obs.clone().inner(), next_noise.inner());
        let q_next = Self::q(&self.critics_target, next_obs.inner(), next_act).autodiff();
        let head = |q: &Tensor<3>, i: usize| q.clone().narrow(1, i, 1);
        let soft_v = head(&q_next, 0).min_pair(head(&q_next, 1)) - next_logp.autodiff().swap_dims(1, 2) * alpha.clone();
        let y_r = reward + not_done.clone() * soft_v.mul_scalar(gamma);
        let y_c = cost + not_done * head(&q_next, 2).mul_scalar(cost_gamma);
        let targets = Tensor::cat(vec![y_r.clone(), y_r, y_c], 1).detach();
        let critic_loss = (Self::q(&self.critics, obs.clone(), act) - targets).square().mean().mul_scalar(self.n as f64);
        let grads = GradientsParams::from_grads(critic_loss.backward(), &self.critics);
        self.critics = self.opts[0].step(lr, self.critics.clone(), grads);

        // Actor with ψ_ρ(h, λ), λ from the multiplier network (no gradient into it).
        let (new_act, logp) = Self::sample(&self.actor, obs.clone(), noise);
        // The critics enter as constants (plain device); the gradient flows through the action.
        let q_pi = Self::q(&self.critics.valid(), obs.clone().inner(), new_act).swap_dims(1, 2);
        let min_q = q_pi.clone().narrow(2, 0, 1).min_pair(q_pi.clone().narrow(2, 1, 1));
        let h = q_pi.narrow(2, 2, 1);
        let lambda = softplus(self.multiplier.forward(obs.clone()), 1.0).clamp_max(lambda_max);
        let lambda_const = lambda.clone().detach();
        let flat = |t: Tensor<3>| t.reshape([self.n * rows, 1]);
        let penalty = psi(flat(h.clone()), flat(lambda_const.clone()), rho);
        let actor_loss = (flat(logp.clone() * alpha - min_q) + penalty).mean().mul_scalar(self.n as f64);
        let grads = GradientsParams::from_grads(actor_loss.backward(), &self.actor);
        self.actor = self.opts[1].step(lr, self.actor.clone(), grads);

        // Temperature, per seed.
        let gap = logp.detach().add_scalar(-(self.act_dim as f64)).mean_dim(1);
        let alpha_loss = (self.log_alpha.value.val() * gap).neg().sum();
        let grads = GradientsParams::from_grads(alpha_loss.backward(), &self.log_alpha);
        self.log_alpha = self.opts[2].step(lr, self.log_alpha.clone(), grads);

        // λ regression to the dual target.
        let target = dual_target(flat(lambda_const), flat(h.detach()), rho, lambda_max);
        let multiplier_loss = (flat(lambda) - target).square().mean().mul_scalar(self.n as f64);
        let grads = GradientsParams::from_grads(multiplier_loss.backward(), &self.multiplier);
        self.multiplier = self.opts[3].step(lr, self.multiplier.clone(), grads);

        self.critics_target = self.critics_target.clone().soft_update(&self.critics, tau);
        let stats = Tensor::cat(vec![critic_loss.inner(), actor_loss.inner(), alpha_loss.inner().reshape([1]), multiplier_loss.inner()], 0);
        read_floats(stats)
    }
}
