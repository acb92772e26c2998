//! SAC-PID-Lag (Stooke, Achiam & Abbeel 2020): the scalar λ is the output of a PID
//! controller on the same error as SAC-Lag, e = J_c − budget. The derivative term reacts to
//! rising cost before the integral has wound up, which damps Lagrangian oscillation.

use burn::tensor::{Device, Tensor};

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
    /// I ← clip(I + K_i·e, 0, λ_max); D = K_d·max(0, J_c − J_c,prev); λ = clip(K_p·e + I + D, 0, λ_max).
    ///
    /// Anti-windup: the integral is kept within what the output clamp can use. An integral
    /// above λ_max moves nothing (λ is already capped) but has to be unwound, episode by
    /// episode under budget, before λ can leave the cap: with K_i = 0.1 and a few units of
    /// cost over budget it wound up to 75 under λ_max = 1 and held λ at the cap for 20+ safe
    /// episodes. Stooke et al.'s PID Lagrangian bounds its integral the same way.
    pub fn pid_step(&self, s: HandlerState, episode_cost: f64) -> HandlerState {
        let error = episode_cost - self.budget;
        let integral = (s.integral + self.ki * error).clamp(0.0, self.lambda_max);
        let derivative = self.kd * (episode_cost - s.prev_cost).max(0.0);
        let lambda = (self.kp * error + integral + derivative).clamp(0.0, self.lambda_max);
        HandlerState { lambda, integral, prev_cost: episode_cost, ..s }
    }
}

impl ConstraintHandler for PidLagHandler {
    fn algo(&self) -> Algo {
        Algo::PidLag
    }
    fn stacked_scalar_lambda(&self, states: &[HandlerState], batch: usize, device: &Device) -> Option<Tensor<3>> {
        Some(super::stacked_constants(&states.iter().map(|s| s.lambda).collect::<Vec<_>>(), batch, device))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::EnvKind;

    #[test]
    fn the_integral_never_winds_up_past_the_cap() {
        let mut cfg = TrainConfig::preset(EnvKind::DoubleIntegrator, Algo::PidLag);
        (cfg.lambda_max, cfg.pid_ki, cfg.pid_kp, cfg.pid_kd, cfg.cost_budget) = (1.0, 0.1, 0.05, 0.05, 5.0);
        let h = PidLagHandler::new(&cfg);
        // 100 episodes far over budget: λ at the cap, the integral no higher than the cap.
        let mut s = HandlerState::default();
        for _ in 0..100 {
            s = h.pid_step(s, 50.0);
            assert!(s.integral <= cfg.lambda_max, "integral {} wound up past λ_max", s.integral);
        }
        assert_eq!(s.lambda, 1.0);
        // Then episodes under budget: λ leaves the cap at once (the P term) and falls steadily,
        // instead of sitting at the cap while a wound-up integral drains.
        s = h.pid_step(s, 0.0);
        assert!(s.lambda < 1.0, "λ stuck at the cap after a safe episode: {s:?}");
        for _ in 0..3 {
            s = h.pid_step(s, 0.0);
        }
        assert!(s.lambda < 0.5, "λ still high after 4 safe episodes: {s:?}");
    }
}
