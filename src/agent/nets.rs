//! The networks of SAC-ALaM, kept apart from the update (burn's examples do the same).
//!
//! Weights are initialised on the host from our own seeded RNG (PyTorch's default
//! U(−1/√fan_in, 1/√fan_in)) rather than from the device's RNG: the same seed then gives the
//! same network on the CPU, in wasm and on WebGPU, and parallel tests cannot race on a
//! backend's global seed.

use crate::Rng64;
use std::any::Any;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::nn::Linear;
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;

/// U(−k, k) with k = 1/√fan_in, as PyTorch's `nn.Linear` default.
fn uniform(rng: &mut Rng64, n: usize, fan_in: usize) -> Vec<f32> {
    let k = 1.0 / (fan_in as f32).sqrt();
    (0..n).map(|_| rng.random_range(-k..k)).collect()
}

fn linear(rng: &mut Rng64, d_in: usize, d_out: usize, device: &Device) -> Linear {
    let w = Tensor::<2>::from_data(TensorData::new(uniform(rng, d_in * d_out, d_in), [d_in, d_out]), device);
    let b = Tensor::<1>::from_data(TensorData::new(uniform(rng, d_out, d_in), [d_out]), device);
    Linear { weight: Param::from_tensor(w), bias: Some(Param::from_tensor(b)) }
}

/// Two hidden ReLU layers: the shape of every network here.
#[derive(Module, Debug)]
pub struct Mlp {
    pub(crate) l1: Linear,
    pub(crate) l2: Linear,
    pub(crate) l3: Linear,
}

impl Mlp {
    pub fn new(rng: &mut Rng64, d_in: usize, hidden: usize, d_out: usize, device: &Device) -> Self {
        Mlp {
            l1: linear(rng, d_in, hidden, device),
            l2: linear(rng, hidden, hidden, device),
            l3: linear(rng, hidden, d_out, device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let x = relu(self.l1.forward(x));
        let x = relu(self.l2.forward(x));
        self.l3.forward(x)
    }
}

/// Tanh-squashed Gaussian policy: outputs the mean and log-std of the pre-squash action.
#[derive(Module, Debug)]
pub struct Actor {
    pub(crate) net: Mlp,
}

/// log σ is clamped to this range (CleanRL's bounds) so the policy can neither collapse to a
/// point nor explode.
pub const LOG_STD_MIN: f64 = -5.0;
pub const LOG_STD_MAX: f64 = 2.0;

impl Actor {
    pub fn new(rng: &mut Rng64, obs_dim: usize, act_dim: usize, hidden: usize, device: &Device) -> Self {
        Actor { net: Mlp::new(rng, obs_dim, hidden, 2 * act_dim, device) }
    }

    /// (mean, log_std), each `[batch, act_dim]`.
    pub fn forward(&self, obs: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let out = self.net.forward(obs);
        let [_, two_a] = out.dims();
        let act_dim = two_a / 2;
        let mean = out.clone().narrow(1, 0, act_dim);
        let log_std = out.narrow(1, act_dim, act_dim).clamp(LOG_STD_MIN, LOG_STD_MAX);
        (mean, log_std)
    }

    /// Reparameterised sample a = tanh(μ + σ·ε) and its log-probability `[batch, 1]`
    /// (with the tanh change-of-variables term). `noise` is ε ~ N(0, 1), drawn by the caller
    /// so that every source of randomness is one seeded host RNG.
    pub fn sample(&self, obs: Tensor<2>, noise: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let (mean, log_std) = self.forward(obs);
        tanh_gaussian(mean, log_std, noise)
    }
}

/// a = tanh(μ + σ·ε) and log π(a), summed over the last (action) axis, with the tanh
/// change-of-variables term — for one agent (`[batch, act]`) or stacked ones (`[n, batch, act]`).
pub(crate) fn tanh_gaussian<const D: usize>(
    mean: Tensor<D>,
    log_std: Tensor<D>,
    noise: Tensor<D>,
) -> (Tensor<D>, Tensor<D>) {
    let action = (mean + log_std.clone().exp() * noise.clone()).tanh();
    let half_log_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    let log_prob =
        noise.square().mul_scalar(-0.5) - log_std - half_log_2pi - (action.clone().square().neg() + 1.0 + 1e-6).log();
    (action, log_prob.sum_dim(D - 1))
}

/// E critics evaluated together: the twin reward critics and the cost critic share their
/// input (s, a), so their first layers are one `[in, E·h]` matmul and the later layers one
/// batched matmul each — 3 kernels where separate critics need 9 (BENCHMARKS.md: the update is
/// launch-bound on a GPU, and on the CPU fewer, fatter kernels pay too).
#[derive(Module, Debug)]
pub struct CriticEnsemble {
    /// First layer of every head side by side: head e owns columns e·h..(e+1)·h.
    pub(crate) w1: Param<Tensor<2>>,
    pub(crate) b1: Param<Tensor<2>>,
    pub(crate) w2: Param<Tensor<3>>,
    pub(crate) b2: Param<Tensor<3>>,
    pub(crate) w3: Param<Tensor<3>>,
    pub(crate) b3: Param<Tensor<3>>,
}

/// Heads 0 and 1 are the reward twins; the rest (one or two) are cost critics.
pub const REWARD_HEADS: usize = 2;

/// A parameter of `shape` drawn as [`uniform`].
pub(crate) fn param<const D: usize>(
    rng: &mut Rng64,
    fan_in: usize,
    shape: [usize; D],
    device: &Device,
) -> Param<Tensor<D>> {
    let n = shape.iter().product();
    Param::from_tensor(Tensor::<D>::from_data(TensorData::new(uniform(rng, n, fan_in), shape), device))
}

/// θ_target ← τ·θ + (1 − τ)·θ_target for every float parameter of `target` (it lives without
/// autodiff), θ from `online`, a module of the same type: the Polyak step of the target
/// critics, whatever their layout (one agent's [`CriticEnsemble`] or a population's stack).
pub(crate) fn soft_update<M: Module>(target: M, online: &M, tau: f64) -> M {
    /// `online`'s float parameters (each a `Tensor<D>` of its own D), in visiting order.
    struct Online(Vec<Box<dyn Any>>);
    impl ModuleVisitor for Online {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(Box::new(param.val().inner()));
        }
    }
    /// Visits `target`'s parameters in the same order (the same module type).
    struct Polyak {
        online: std::vec::IntoIter<Box<dyn Any>>,
        tau: f64,
    }
    impl ModuleMapper for Polyak {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let online = self.online.next().and_then(|t| t.downcast::<Tensor<D>>().ok());
            let online = *online.expect("a module of the same type has the same parameters, in the same order");
            let (id, t, _) = param.consume();
            Param::initialized(id, t.mul_scalar(1.0 - self.tau) + online.mul_scalar(self.tau))
        }
    }
    let mut visitor = Online(Vec::new());
    online.visit(&mut visitor);
    target.map(&mut Polyak { online: visitor.0.into_iter(), tau })
}

impl CriticEnsemble {
    pub fn new(rng: &mut Rng64, d_in: usize, hidden: usize, heads: usize, device: &Device) -> Self {
        let e = heads;
        CriticEnsemble {
            w1: param(rng, d_in, [d_in, e * hidden], device),
            b1: param(rng, d_in, [1, e * hidden], device),
            w2: param(rng, hidden, [e, hidden, hidden], device),
            b2: param(rng, hidden, [e, 1, hidden], device),
            w3: param(rng, hidden, [e, hidden, 1], device),
            b3: param(rng, hidden, [e, 1, 1], device),
        }
    }

    /// Q-values `[heads, batch, 1]` for observations and actions `[batch, _]`.
    pub fn forward(&self, obs: Tensor<2>, action: Tensor<2>) -> Tensor<3> {
        let [b, _] = obs.dims();
        let [heads, _, hidden] = self.w2.dims();
        let x = Tensor::cat(vec![obs, action], 1);
        let x = relu(x.matmul(self.w1.val()) + self.b1.val());
        let x = x.reshape([b, heads, hidden]).swap_dims(0, 1);
        let x = relu(x.matmul(self.w2.val()) + self.b2.val());
        x.matmul(self.w3.val()) + self.b3.val()
    }
}

/// The multiplier network λ_ξ(s) ≥ 0 (docs/method.md §1), its output passed through the smooth
/// cap [`smooth_cap`] (§3e).
#[derive(Module, Debug)]
pub struct MultiplierNet {
    pub(crate) net: Mlp,
}

impl MultiplierNet {
    pub fn new(rng: &mut Rng64, obs_dim: usize, hidden: usize, device: &Device) -> Self {
        MultiplierNet { net: Mlp::new(rng, obs_dim, hidden, 1, device) }
    }

    /// λ(s), `[batch, 1]`, in (0, λ_max).
    pub fn forward(&self, obs: Tensor<2>, lambda_max: f64) -> Tensor<2> {
        smooth_cap(self.net.forward(obs), lambda_max)
    }
}

/// λ = λ_max·σ(f − ln λ_max) for the multiplier network's raw output f, any shape
/// (docs/method.md §3e): positive, below λ_max, and ≈ e^f while λ ≪ λ_max (softplus's shape
/// near zero, λ ≈ 1 at f = 0). Unlike a hard min(·, λ_max) its slope never vanishes at the top,
/// so a state above the cap whose constraint turns slack is still pushed back down.
pub fn smooth_cap<const D: usize>(f: Tensor<D>, lambda_max: f64) -> Tensor<D> {
    sigmoid(f.sub_scalar(lambda_max.ln())).mul_scalar(lambda_max)
}

/// The learned entropy temperature, as log α so that α stays positive.
#[derive(Module, Debug)]
pub struct Temperature {
    pub log_alpha: Param<Tensor<1>>,
}

impl Temperature {
    pub fn new(init_alpha: f64, device: &Device) -> Self {
        Temperature { log_alpha: Param::from_tensor(Tensor::from_floats([init_alpha.ln() as f32], device)) }
    }
}
