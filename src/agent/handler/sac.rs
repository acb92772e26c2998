//! Plain SAC: no constraint. It shows the return a policy gets when it may violate, and how
//! often it does.

use burn::tensor::{Device, Tensor};

use super::{ConstraintHandler, HandlerState};
use crate::config::Algo;

#[derive(Clone, Copy)]
pub struct NoConstraint;

impl ConstraintHandler for NoConstraint {
    fn algo(&self) -> Algo {
        Algo::Sac
    }
    fn stacked_scalar_lambda(&self, states: &[HandlerState], batch: usize, device: &Device) -> Option<Tensor<3>> {
        Some(Tensor::zeros([states.len(), batch, 1], device))
    }
    fn stacked_penalty(&self, _h: Tensor<3>, _lambda: Tensor<3>, _states: &[HandlerState]) -> Option<Tensor<3>> {
        None
    }
    fn lambda(&self, obs: Tensor<2>) -> Tensor<2> {
        super::constant_lambda(0.0, &obs)
    }
    fn state(&self) -> HandlerState {
        HandlerState::default()
    }
    fn restore_state(&mut self, _state: HandlerState) {}
    fn box_clone(&self) -> Box<dyn ConstraintHandler> {
        Box::new(*self)
    }
}
