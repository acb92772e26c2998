//! Constraint handlers: how each algorithm turns the cost critic into a policy penalty and
//! how it learns its multiplier (docs/method.md §5). One file each, one shape each, so that a diff
//! between `fac.rs` and `alam.rs` shows exactly what ALaM changes.

mod alam;
mod fac;
mod lag;
mod pid_lag;
mod sac;

pub use alam::{dual_target, psi, regression_loss, AlamHandler};
pub use fac::{ascent_loss, FacHandler};
pub use lag::LagHandler;
pub use pid_lag::PidLagHandler;
pub use sac::NoConstraint;

use crate::Rng64;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::adam::Adam;
use super::nets::MultiplierNet;
use crate::config::{Algo, TrainConfig};

/// The scalar state a handler carries besides its network, saved with the weights.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HandlerState {
    /// The scalar multiplier (Lag, PID-Lag).
    pub lambda: f64,
    /// The PID integral term.
    pub integral: f64,
    /// Last episode cost seen (PID derivative term).
    pub prev_cost: f64,
    /// Current ρ (ALaM).
    pub rho: f64,
    /// ALaM's ρ schedule (§3d): the current window's summed violation and its length, and the
    /// previous window's mean. Absent from older files (they restart the window).
    #[serde(default)]
    pub window_sum: f64,
    #[serde(default)]
    pub window_n: u64,
    #[serde(default)]
    pub prev_window_mean: Option<f64>,
}

/// What one algorithm adds to SAC.
pub trait ConstraintHandler: Send {
    fn algo(&self) -> Algo;

    /// The term added per sample to the actor loss, given h = Q_c(s, a) − d (with gradient into
    /// the action) for the batch states `obs`, and λ used for it `[batch, 1]` (no gradient).
    /// `None` for plain SAC. A multiplier network keeps its forward pass on `obs` for this
    /// update's [`ConstraintHandler::update_multiplier`] (the network does not change in
    /// between), so an update runs λ_ξ(s) once, not twice.
    fn policy_penalty(&mut self, h: Tensor<2>, obs: &Tensor<2>) -> Option<(Tensor<2>, Tensor<2>)>;

    /// Called after every policy update with the batch states, h and the λ the penalty used
    /// (both detached); returns the multiplier loss when it trained the multiplier on this call.
    fn update_multiplier(
        &mut self,
        obs: &Tensor<2>,
        h: Tensor<2>,
        lambda: Tensor<2>,
        policy_update: u64,
    ) -> Option<Tensor<1>> {
        let _ = (obs, h, lambda, policy_update);
        None
    }

    /// N stacked seeds of this algorithm (a population, `stacked.rs`): λ(s) `[N, b, 1]`
    /// when the multiplier is a scalar — each seed's own, from its `states` (0 for plain SAC);
    /// `None` when it is a network, which the population runs itself.
    fn stacked_scalar_lambda(&self, states: &[HandlerState], batch: usize, device: &Device) -> Option<Tensor<3>> {
        let _ = (states, batch, device);
        None
    }

    /// [`ConstraintHandler::policy_penalty`] for N stacked seeds: the term per sample, given h
    /// and the λ used `[N, b, 1]`, each seed with its own scalars (`states`). By default the
    /// plain Lagrangian term λ·h (Lag, PID-Lag, FAC); `None` for plain SAC.
    fn stacked_penalty(&self, h: Tensor<3>, lambda: Tensor<3>, states: &[HandlerState]) -> Option<Tensor<3>> {
        let _ = states;
        Some(lambda * h)
    }

    /// The multiplier network's loss for N stacked seeds, built once per update from the λ the
    /// penalty used and h (detached) `[N, b, 1]`: a function of the network's output λ_ξ(s)
    /// `[N, b, 1]` (with gradient) giving one loss per seed `[N, 1, 1]` (FAC's ascent, ALaM's
    /// regression to the dual target), called on each of the k multiplier steps. `None` for
    /// algorithms without a multiplier network.
    fn stacked_multiplier_loss(
        &self,
        lambda_used: Tensor<3>,
        h: Tensor<3>,
        states: &[HandlerState],
    ) -> Option<StackedLoss> {
        let _ = (lambda_used, h, states);
        None
    }

    /// Called with each finished training episode's total cost (the scalar baselines' signal).
    fn end_episode(&mut self, episode_cost: f64) {
        let _ = episode_cost;
    }

    /// Called with the mean positive violation of a batch once it has been read back (ρ schedule).
    fn observe_violation(&mut self, mean_violation: f64) {
        let _ = mean_violation;
    }

    /// λ(s) for any states `[n, 1]`, without gradient: the heat map and calibration read this.
    fn lambda(&self, obs: Tensor<2>) -> Tensor<2>;

    fn state(&self) -> HandlerState;
    fn restore_state(&mut self, state: HandlerState);

    fn multiplier_net(&self) -> Option<&MultiplierNet> {
        None
    }
    fn set_multiplier_net(&mut self, net: MultiplierNet) {
        let _ = net;
    }
    /// The multiplier network's Adam state (FAC, ALaM), saved with the run.
    fn multiplier_optimiser(&self) -> Option<&Adam<MultiplierNet>> {
        None
    }
    fn set_multiplier_optimiser(&mut self, optimiser: Adam<MultiplierNet>) {
        let _ = optimiser;
    }

    fn box_clone(&self) -> Box<dyn ConstraintHandler>;
}

/// [`ConstraintHandler::stacked_multiplier_loss`]: λ_ξ(s) `[N, b, 1]` ↦ one loss per seed `[N, 1, 1]`.
pub type StackedLoss = Box<dyn Fn(Tensor<3>) -> Tensor<3>>;

/// Builds the handler of `cfg.algo`; network handlers draw their initial weights from `rng`.
pub fn make_handler(cfg: &TrainConfig, obs_dim: usize, rng: &mut Rng64, device: &Device) -> Box<dyn ConstraintHandler> {
    match cfg.algo {
        Algo::Sac => Box::new(NoConstraint),
        Algo::Lag => Box::new(LagHandler::new(cfg)),
        Algo::PidLag => Box::new(PidLagHandler::new(cfg)),
        Algo::Fac => Box::new(FacHandler::new(cfg, MultiplierTrainer::new(cfg, obs_dim, rng, device))),
        Algo::Alam => Box::new(AlamHandler::new(cfg, MultiplierTrainer::new(cfg, obs_dim, rng, device))),
    }
}

/// Each seed's scalar λ broadcast over its batch, `[N, batch, 1]`.
fn stacked_constants(lambdas: &[f64], batch: usize, device: &Device) -> Tensor<3> {
    let v: Vec<f32> = lambdas.iter().flat_map(|&l| std::iter::repeat_n(l as f32, batch)).collect();
    Tensor::from_data(burn::tensor::TensorData::new(v, [lambdas.len(), batch, 1]), device)
}

/// A scalar λ broadcast to a batch: what the expected-cost baselines report as λ(s).
fn constant_lambda(lambda: f64, obs: &Tensor<2>) -> Tensor<2> {
    let [n, _] = obs.dims();
    Tensor::<2>::ones([n, 1], &obs.device()).mul_scalar(lambda)
}

/// The multiplier network with its optimiser and schedule: shared by FAC and ALaM, which
/// differ only in the loss they minimise (ascent vs regression).
#[derive(Clone)]
pub struct MultiplierTrainer {
    pub net: MultiplierNet,
    pub(crate) optim: Adam<MultiplierNet>,
    lr: f64,
    pub lambda_max: f64,
    pub cost_threshold: f64,
    /// m and k of docs/method.md §3c.
    every: u64,
    steps: u64,
    /// λ_ξ(s) on this update's batch, with its graph into ξ: made by
    /// [`MultiplierTrainer::lambda_for_update`], used or dropped by [`MultiplierTrainer::train_if_due`].
    kept: Option<Tensor<2>>,
}

impl MultiplierTrainer {
    pub fn new(cfg: &TrainConfig, obs_dim: usize, rng: &mut Rng64, device: &Device) -> Self {
        let net = MultiplierNet::new(rng, obs_dim, cfg.hidden, device);
        MultiplierTrainer {
            optim: Adam::new(&net),
            net,
            lr: cfg.multiplier_lr,
            lambda_max: cfg.lambda_max,
            cost_threshold: cfg.cost_threshold,
            every: cfg.multiplier_every,
            steps: cfg.multiplier_steps,
            kept: None,
        }
    }

    /// λ(s) without gradient into ξ.
    pub fn lambda(&self, obs: Tensor<2>) -> Tensor<2> {
        self.net.forward(obs, self.lambda_max).detach()
    }

    /// Replaces the network (a loaded run); a pass kept from the old one is dropped.
    pub fn set_net(&mut self, net: MultiplierNet) {
        self.net = net;
        self.kept = None;
    }

    /// λ(s) on the update's batch states `[batch, 1]`, without gradient, as [`Self::lambda`];
    /// its forward pass is kept (with the graph into ξ) for the first step of
    /// [`Self::train_if_due`] in the same update: the same numbers, one forward pass fewer
    /// (dispatches per update on WebGPU: BENCHMARKS.md).
    pub fn lambda_for_update(&mut self, obs: Tensor<2>) -> Tensor<2> {
        let lambda = self.net.forward(obs, self.lambda_max);
        self.kept = Some(lambda.clone());
        lambda.detach()
    }

    /// On every m-th policy update, k Adam steps on `loss(λ_ξ(s))` `[1, 1]` for the batch states `obs`
    /// (the first on the forward pass [`Self::lambda_for_update`] kept, if any); returns the
    /// last loss. Otherwise `None`, and the kept pass is dropped.
    pub fn train_if_due(
        &mut self,
        obs: &Tensor<2>,
        policy_update: u64,
        loss: impl Fn(Tensor<2>) -> Tensor<2>,
    ) -> Option<Tensor<1>> {
        let mut kept = self.kept.take();
        if !policy_update.is_multiple_of(self.every) {
            return None;
        }
        let mut last = None;
        for _ in 0..self.steps {
            let lambda = kept.take().unwrap_or_else(|| self.net.forward(obs.clone(), self.lambda_max));
            let l = loss(lambda);
            let grads = GradientsParams::from_grads(l.backward(), &self.net);
            self.net = self.optim.step(self.lr, self.net.clone(), grads);
            last = Some(l.detach());
        }
        // steps ≥ 1 is checked by the config.
        Some(last.map_or_else(|| Tensor::zeros([1], &obs.device()), |l| l.reshape([1])))
    }
}
