//! FAC (Ma et al. 2021): a multiplier network λ_ξ(s) in the plain Lagrangian, trained by dual
//! gradient ascent every m policy updates (docs/method.md §2). The baseline whose oscillation ALaM
//! is meant to remove.

use burn::tensor::Tensor;

use super::{ConstraintHandler, HandlerState, MultiplierTrainer, StackedLoss};
use crate::agent::adam::Adam;
use crate::agent::nets::MultiplierNet;
use crate::config::{Algo, TrainConfig};

#[derive(Clone)]
pub struct FacHandler {
    multiplier: MultiplierTrainer,
}

impl FacHandler {
    pub fn new(_cfg: &TrainConfig, multiplier: MultiplierTrainer) -> Self {
        FacHandler { multiplier }
    }
}

/// Dual ascent as a loss to minimise, per sample: λ_ξ(s)·(−h(s)), h detached, same shape as λ;
/// the loss −E_s[λ_ξ(s)·h(s)] is its batch mean ([`crate::agent::steps::seeds_loss`]). Written
/// with the sign on h: the same number bit for bit, but a negation after the mean kept burn's
/// kernel fusion from fusing the backward pass (17 more WebGPU dispatches per update,
/// BENCHMARKS.md).
pub fn ascent_loss_per_sample<const D: usize>(lambda: Tensor<D>, h: Tensor<D>) -> Tensor<D> {
    lambda * h.neg()
}

impl ConstraintHandler for FacHandler {
    fn algo(&self) -> Algo {
        Algo::Fac
    }

    fn stacked_multiplier_loss(
        &self,
        _lambda_used: Tensor<3>,
        h: Tensor<3>,
        _states: &[HandlerState],
    ) -> Option<StackedLoss> {
        Some(Box::new(move |lambda| ascent_loss_per_sample(lambda, h.clone())))
    }

    fn lambda(&self, obs: Tensor<2>) -> Tensor<2> {
        self.multiplier.lambda(obs)
    }
    fn state(&self) -> HandlerState {
        HandlerState::default()
    }
    fn restore_state(&mut self, _state: HandlerState) {}
    fn multiplier_net(&self) -> Option<&MultiplierNet> {
        Some(&self.multiplier.net)
    }
    fn set_multiplier_net(&mut self, net: MultiplierNet) {
        self.multiplier.set_net(net);
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
