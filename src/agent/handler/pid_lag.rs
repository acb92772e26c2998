//! SAC-PID-Lag (Stooke, Achiam & Abbeel 2020): the scalar λ is the output of a PID
//! controller on the same error as SAC-Lag, e = J_c − budget. The derivative term reacts to
//! rising cost before the integral has wound up, which damps Lagrangian oscillation.

use burn::tensor::Tensor;

use super::{ConstraintHandler, HandlerState};
use crate::config::{Algo, TrainConfig};

#[derive(Clone)]
pub struct PidLagHandler {
    state: HandlerState,
    kp: f64,
    ki: f64,
    kd: f64,
    budget: f64,
    lambda_max: f64,
}

impl PidLagHandler {
    pub fn new(cfg: &TrainConfig) -> Self {
        PidLagHandler {
            state: HandlerState::default(),
            kp: cfg.pid_kp,
            ki: cfg.pid_ki,
            kd: cfg.pid_kd,
            budget: cfg.cost_budget,
            lambda_max: cfg.lambda_max,
        }
    }

    /// One controller step (Stooke et al., Alg. 2 without smoothing):
    /// I ← max(0, I + K_i·e); D = K_d·max(0, J_c − J_c,prev); λ = clip(K_p·e + I + D, 0, λ_max).
    pub fn pid_step(&self, s: HandlerState, episode_cost: f64) -> HandlerState {
        let error = episode_cost - self.budget;
        let integral = (s.integral + self.ki * error).max(0.0);
        let derivative = self.kd * (episode_cost - s.prev_cost).max(0.0);
        let lambda = (self.kp * error + integral + derivative).clamp(0.0, self.lambda_max);
        HandlerState { lambda, integral, prev_cost: episode_cost, rho: s.rho }
    }
}

impl ConstraintHandler for PidLagHandler {
    fn algo(&self) -> Algo {
        Algo::PidLag
    }
    fn policy_penalty(&self, h: Tensor<2>, obs: &Tensor<2>) -> Option<(Tensor<2>, Tensor<2>)> {
        Some((h.mul_scalar(self.state.lambda), self.lambda(obs.clone())))
    }
    fn end_episode(&mut self, episode_cost: f64) {
        self.state = self.pid_step(self.state, episode_cost);
    }
    fn lambda(&self, obs: Tensor<2>) -> Tensor<2> {
        super::constant_lambda(self.state.lambda, &obs)
    }
    fn state(&self) -> HandlerState {
        self.state
    }
    fn restore_state(&mut self, state: HandlerState) {
        self.state = state;
    }
    fn box_clone(&self) -> Box<dyn ConstraintHandler> {
        Box::new(self.clone())
    }
}
