//! SAC-ALaM (docs/method.md §3): the augmented Lagrangian policy loss ψ_ρ, the dual target
//! λ̂ = max(0, λ_old + ρh) from a frozen anchor λ_old, and λ_ξ regressed to it on every policy
//! update until the anchor is refreshed (every m updates: one dual period, one step of the
//! method of multipliers) — three visible steps; the schedule is `MultiplierSchedule::Anchored`.

use burn::tensor::activation::relu;
use burn::tensor::Tensor;

use super::{ConstraintHandler, HandlerState, MultiplierTrainer, StackedLoss};
use crate::agent::adam::Adam;
use crate::agent::nets::MultiplierNet;
use crate::config::{Algo, TrainConfig};

/// (a) ψ_ρ(h, λ) = (max(0, λ + ρh)² − λ²) / (2ρ): λh + ρh²/2 where the constraint is active,
/// the constant −λ²/(2ρ) where it is slack. ∂ψ/∂h = max(0, λ + ρh): the policy already feels
/// the updated multiplier, which compensates for the multiplier's delay. Its limit at ρ = 0 is
/// FAC's λ·h, used as such (the ablation that keeps only the regression).
pub fn psi<const D: usize>(h: Tensor<D>, lambda: Tensor<D>, rho: f64) -> Tensor<D> {
    if rho == 0.0 {
        return lambda * h;
    }
    (relu(lambda.clone() + h.mul_scalar(rho)).square() - lambda.square()).div_scalar(2.0 * rho)
}

/// (b) λ̂(s) = max(0, λ_old(s) + ρ·h(s)), capped at λ_max (§3e), all detached: one step of the
/// method of multipliers from the anchor's λ_old `lambda` (the re-anchored ablation passes the
/// network being trained instead). At ρ = 0 that step would be zero and λ would never move, so
/// the ablation uses a unit step, λ̂ = max(0, λ + h).
pub fn dual_target<const D: usize>(lambda: Tensor<D>, h: Tensor<D>, rho: f64, lambda_max: f64) -> Tensor<D> {
    let step = if rho == 0.0 { 1.0 } else { rho };
    (lambda + h.mul_scalar(step)).clamp(0.0, lambda_max).detach()
}

/// (c) the regression loss E_s[(λ_ξ(s) − λ̂(s))²] per sample, (λ_ξ(s) − λ̂(s))², same shape as
/// λ; the loss is its batch mean ([`crate::agent::steps::seeds_loss`]). With the target held
/// fixed for a dual period the fit approaches it and cannot step past it; re-anchored at every
/// step its gradient is 2ρ times dual ascent's, which Adam cannot tell apart (§3c).
pub fn regression_loss_per_sample<const D: usize>(lambda: Tensor<D>, target: Tensor<D>) -> Tensor<D> {
    (lambda - target).square()
}

/// `f(x, y, ρ)` on stacked seeds' `[N, batch, 1]` tensors, each seed with its own ρ (`rhos`):
/// one call when the seeds share ρ (always, unless the ρ schedule moved them apart), else one
/// per seed.
fn per_seed_rho(
    rhos: &[f64],
    x: Tensor<3>,
    y: Tensor<3>,
    f: impl Fn(Tensor<3>, Tensor<3>, f64) -> Tensor<3>,
) -> Tensor<3> {
    if rhos.iter().all(|&r| r == rhos[0]) {
        return f(x, y, rhos[0]);
    }
    let parts = rhos.iter().enumerate().map(|(i, &rho)| f(x.clone().narrow(0, i, 1), y.clone().narrow(0, i, 1), rho));
    Tensor::cat(parts.collect(), 0)
}

/// Policy updates per window of the optional ρ schedule (§3d).
const RHO_WINDOW: u64 = 1000;

#[derive(Clone)]
pub struct AlamHandler {
    multiplier: MultiplierTrainer,
    rho: f64,
    rho_growth: f64,
    rho_max: f64,
    /// Mean positive violation over the current and the previous window (ρ schedule).
    window_sum: f64,
    window_n: u64,
    prev_window_mean: Option<f64>,
}

impl AlamHandler {
    pub fn new(cfg: &TrainConfig, multiplier: MultiplierTrainer) -> Self {
        AlamHandler {
            multiplier,
            rho: cfg.rho,
            rho_growth: cfg.rho_growth,
            rho_max: cfg.rho_max,
            window_sum: 0.0,
            window_n: 0,
            prev_window_mean: None,
        }
    }

    pub fn rho(&self) -> f64 {
        self.rho
    }
}

impl ConstraintHandler for AlamHandler {
    fn algo(&self) -> Algo {
        Algo::Alam
    }

    fn stacked_penalty(&self, h: Tensor<3>, lambda: Tensor<3>, states: &[HandlerState]) -> Option<Tensor<3>> {
        let rhos: Vec<f64> = states.iter().map(|s| s.rho).collect();
        Some(per_seed_rho(&rhos, h, lambda, psi))
    }

    fn stacked_multiplier_loss(
        &self,
        lambda_used: Tensor<3>,
        h: Tensor<3>,
        states: &[HandlerState],
    ) -> Option<StackedLoss> {
        let rhos: Vec<f64> = states.iter().map(|s| s.rho).collect();
        let lambda_max = self.multiplier.lambda_max;
        let target = per_seed_rho(&rhos, lambda_used, h, |l, h, rho| dual_target(l, h, rho, lambda_max));
        Some(Box::new(move |lambda| regression_loss_per_sample(lambda, target.clone())))
    }

    /// The classic method-of-multipliers schedule: grow ρ when a window's mean violation did
    /// not shrink against the previous window. Off when rho_growth = 1 (the default).
    fn observe_violation(&mut self, mean_violation: f64) {
        if self.rho_growth <= 1.0 {
            return;
        }
        self.window_sum += mean_violation;
        self.window_n += 1;
        if self.window_n == RHO_WINDOW {
            let mean = self.window_sum / RHO_WINDOW as f64;
            if self.prev_window_mean.is_some_and(|prev| mean >= prev) {
                self.rho = (self.rho * self.rho_growth).min(self.rho_max);
            }
            self.prev_window_mean = Some(mean);
            self.window_sum = 0.0;
            self.window_n = 0;
        }
    }

    fn lambda(&self, obs: Tensor<2>) -> Tensor<2> {
        self.multiplier.lambda(obs)
    }
    fn state(&self) -> HandlerState {
        HandlerState {
            rho: self.rho,
            window_sum: self.window_sum,
            window_n: self.window_n,
            prev_window_mean: self.prev_window_mean,
            ..Default::default()
        }
    }
    fn restore_state(&mut self, state: HandlerState) {
        if state.rho > 0.0 {
            self.rho = state.rho;
        }
        self.window_sum = state.window_sum;
        self.window_n = state.window_n;
        self.prev_window_mean = state.prev_window_mean;
    }
    fn multiplier_net(&self) -> Option<&MultiplierNet> {
        Some(&self.multiplier.net)
    }
    fn set_multiplier_net(&mut self, net: MultiplierNet) {
        self.multiplier.set_net(net);
    }
    fn multiplier_anchor(&self) -> Option<&MultiplierNet> {
        self.multiplier.anchor.as_ref()
    }
    fn set_multiplier_anchor(&mut self, anchor: MultiplierNet) {
        self.multiplier.set_anchor(anchor);
    }
    fn multiplier_optimiser(&self) -> Option<&Adam<MultiplierNet>> {
        Some(&self.multiplier.optim)
    }
    fn set_multiplier_optimiser(&mut self, optimiser: Adam<MultiplierNet>) {
        self.multiplier.optim = optimiser;
    }
    fn box_clone(&self) -> Box<dyn ConstraintHandler> {
        Box::new(self.clone())
    }
}
