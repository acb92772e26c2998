//! SAC-Lag: the classic expected-cost Lagrangian with one scalar λ, updated by dual ascent on
//! (episode cost − budget) after every training episode.

use burn::tensor::{Device, Tensor};

use super::{ConstraintHandler, HandlerState};
use crate::config::{Algo, TrainConfig};

#[derive(Clone)]
pub struct LagHandler {
    lambda: f64,
    lr: f64,
    budget: f64,
    lambda_max: f64,
}

impl LagHandler {
    pub fn new(cfg: &TrainConfig) -> Self {
        LagHandler { lambda: 0.0, lr: cfg.lag_lr, budget: cfg.cost_budget, lambda_max: cfg.lambda_max }
    }

    /// λ ← clip(λ + η·(J_c − budget), 0, λ_max).
    pub fn dual_ascent(lambda: f64, lr: f64, episode_cost: f64, budget: f64, lambda_max: f64) -> f64 {
        (lambda + lr * (episode_cost - budget)).clamp(0.0, lambda_max)
    }
}

impl ConstraintHandler for LagHandler {
    fn algo(&self) -> Algo {
        Algo::Lag
    }
    fn stacked_scalar_lambda(&self, states: &[HandlerState], batch: usize, device: &Device) -> Option<Tensor<3>> {
        Some(super::stacked_constants(&states.iter().map(|s| s.lambda).collect::<Vec<_>>(), batch, device))
    }
    fn end_episode(&mut self, episode_cost: f64) {
        self.lambda = Self::dual_ascent(self.lambda, self.lr, episode_cost, self.budget, self.lambda_max);
    }
    fn lambda(&self, obs: Tensor<2>) -> Tensor<2> {
        super::constant_lambda(self.lambda, &obs)
    }
    fn state(&self) -> HandlerState {
        HandlerState { lambda: self.lambda, ..Default::default() }
    }
    fn restore_state(&mut self, state: HandlerState) {
        self.lambda = state.lambda;
    }
    fn box_clone(&self) -> Box<dyn ConstraintHandler> {
        Box::new(self.clone())
    }
}
