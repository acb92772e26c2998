//! Adam (Kingma & Ba 2015) with burn's exact arithmetic, whose state is two modules of the
//! network's own type.
//!
//! Why not burn's `ModuleOptimizer`: its state lives in a map of per-parameter records, and
//! `to_record()` reads every moment synchronously (`into_data`), which panics on WebGPU in wasm,
//! so the page could not save its optimiser on the user's normal device. Here the first and
//! second moments *are* networks (the module mapped to zeros), so they save, load, copy to the
//! CPU in one packed async read ([`super::readback::copy_module`]) and roll back exactly like
//! the networks themselves, on every device; a population (`agent/population.rs`) stacks
//! and unstacks them with the same functions as its weights. The update is burn 0.22.1's
//! (`burn-optim/src/optim/adam.rs`: β₁ = 0.9, β₂ = 0.999, bias correction folded into one
//! factor, ε scaled by √(1 − β₂ᵗ)) op for op, so runs are bit-identical to burn's Adam and no
//! parameter costs more kernels than it did.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::kind::BridgeTensor;
use burn::tensor::Tensor;

const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;
/// `AdamConfig::new().with_epsilon(1e-8)`, as every optimiser here was configured.
const EPSILON: f32 = 1e-8;

/// Adam's state for one module `M`: moments `m`, `v` (same type and shapes as the module, on
/// its plain, non-autodiff device) and the number of steps taken.
#[derive(Clone, Debug)]
pub struct Adam<M: Module> {
    moment_1: M,
    moment_2: M,
    time: u64,
}

impl<M: Module> Adam<M> {
    /// Zero moments shaped like `module`, step count 0 (burn's first step from zeros is the
    /// same arithmetic: 0·β + x = x exactly).
    pub fn new(module: &M) -> Self {
        struct Zeros;
        impl ModuleMapper for Zeros {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                param.map(|t| t.zeros_like())
            }
        }
        let zeros = module.valid().map(&mut Zeros);
        Adam { moment_1: zeros.clone(), moment_2: zeros, time: 0 }
    }

    /// A state from saved parts (moments on the module's plain device, in its parameter order).
    pub fn from_parts(moment_1: M, moment_2: M, time: u64) -> Self {
        Adam { moment_1, moment_2, time }
    }

    /// First moment, second moment, steps taken.
    pub fn parts(&self) -> (&M, &M, u64) {
        (&self.moment_1, &self.moment_2, self.time)
    }

    pub fn time(&self) -> u64 {
        self.time
    }

    /// One Adam step with learning rate `lr` on every parameter of `module` that has a gradient
    /// in `grads`; moments are matched to parameters by visiting order, not by id, so a module
    /// rebuilt with fresh ids (a population's stacked networks) keeps its moments.
    pub fn step(&mut self, lr: f64, module: M, mut grads: GradientsParams) -> M {
        self.time += 1;
        let time = self.time.min(i32::MAX as u64) as i32;
        let bias_correction2_sqrt = (1.0 - BETA_2.powi(time)).sqrt();
        let factors = Factors {
            lr,
            combined: bias_correction2_sqrt / (1.0 - BETA_1.powi(time)),
            epsilon: EPSILON * bias_correction2_sqrt,
        };
        let m = collect(&self.moment_1);
        let v = collect(&self.moment_2);
        let mut stepper = Stepper { grads: &mut grads, m, v, k: 0, factors };
        let module = module.map(&mut stepper);
        let (m, v) = (stepper.m, stepper.v);
        self.moment_1 = self.moment_1.clone().map(&mut Replace { values: m, k: 0 });
        self.moment_2 = self.moment_2.clone().map(&mut Replace { values: v, k: 0 });
        module
    }
}

#[derive(Clone, Copy)]
struct Factors {
    lr: f64,
    combined: f32,
    epsilon: f32,
}

/// Every float parameter's tensor, in visiting order, as dimension-free handles.
fn collect<M: Module>(module: &M) -> Vec<Option<BridgeTensor>> {
    struct Collect(Vec<Option<BridgeTensor>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(Some(param.val().into_bridge()));
        }
    }
    let mut c = Collect(Vec::new());
    module.visit(&mut c);
    c.0
}

/// Puts the updated moments back, in visiting order.
struct Replace {
    values: Vec<Option<BridgeTensor>>,
    k: usize,
}

impl ModuleMapper for Replace {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let next = self.values.get_mut(self.k).and_then(Option::take);
        self.k += 1;
        match next {
            Some(t) => param.map(|_| Tensor::from_bridge(t)),
            None => param,
        }
    }
}

/// burn's `AdaptiveMomentum::transform` and `Adam::step`, in the same order of operations:
/// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; θ ← θ − lr · m·c / (√v + ε√(1−β₂ᵗ)),
/// c = √(1−β₂ᵗ)/(1−β₁ᵗ).
struct Stepper<'a> {
    grads: &'a mut GradientsParams,
    m: Vec<Option<BridgeTensor>>,
    v: Vec<Option<BridgeTensor>>,
    k: usize,
    factors: Factors,
}

impl ModuleMapper for Stepper<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let k = self.k;
        self.k += 1;
        let (id, tensor, mapper) = param.consume();
        let grad: Option<Tensor<D>> = self.grads.remove(id);
        let (Some(grad), Some(Some(m)), Some(Some(v))) = (grad, self.m.get(k).cloned(), self.v.get(k).cloned()) else {
            // No gradient for this parameter: it and its moments stay as they are.
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let f = self.factors;
        let m: Tensor<D> = Tensor::from_bridge(m).mul_scalar(BETA_1).add(grad.clone().mul_scalar(1.0 - BETA_1));
        let v: Tensor<D> = Tensor::from_bridge(v).mul_scalar(BETA_2).add(grad.square().mul_scalar(1.0 - BETA_2));
        let step = m.clone().mul_scalar(f.combined).div(v.clone().sqrt().add_scalar(f.epsilon));
        let require_grad = tensor.is_require_grad();
        let updated = tensor.inner() - step.mul_scalar(f.lr);
        let mut updated = Tensor::from_inner(updated);
        if require_grad {
            updated = updated.require_grad();
        }
        self.m[k] = Some(m.into_bridge());
        self.v[k] = Some(v.into_bridge());
        Param::from_mapped_value(id, updated, mapper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::nets::Actor;
    use crate::agent::readback::{flatten_params, read_floats};
    use crate::Rng64;
    use burn::optim::AdamConfig;
    use burn::tensor::{Device, TensorData};
    use rand::SeedableRng;

    /// Bit for bit what burn's Adam gives, over several steps.
    #[test]
    fn matches_burns_adam_exactly() {
        let device = Device::flex().autodiff();
        let mut net = Actor::new(&mut Rng64::seed_from_u64(1), 3, 2, 8, &device);
        let mut theirs = net.clone();
        let mut ours = Adam::new(&net);
        let mut burn_opt = AdamConfig::new().with_epsilon(1e-8).init();
        for i in 0..5 {
            let obs = Tensor::<2>::from_data(
                TensorData::new(vec![0.1 * i as f32, -0.3, 0.7, 0.2, 0.5, -0.9], [2, 3]),
                &device,
            );
            let loss = |a: &Actor| {
                let (m, s) = a.forward(obs.clone());
                (m.square() + s).sum()
            };
            let g = GradientsParams::from_grads(loss(&net).backward(), &net);
            net = ours.step(1e-2, net, g);
            let g = GradientsParams::from_grads(loss(&theirs).backward(), &theirs);
            theirs = burn_opt.step(1e-2, theirs, g);
        }
        let read = |a: &Actor| read_floats(Tensor::cat(flatten_params(&a.valid()), 0)).unwrap();
        assert_eq!(read(&net), read(&theirs));
        assert_eq!(ours.time(), 5);
    }
}
